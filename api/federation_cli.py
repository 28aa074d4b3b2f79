"""`eekg federation ...`: describe the sources of a federation, query it, validate a crop map with LUCAS."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

CONFIG_OPTION = click.option("--config", "config", required=True, type=click.Path(dir_okay=False, path_type=Path),
                             help="The federation's TOML file (docs/federation.md).")


@click.group(name="federation")
def federation_group():
    """One GeoSPARQL endpoint over several sources (docs/federation.md)."""


@federation_group.command()
@CONFIG_OPTION
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the descriptions (JSON); name it as `descriptions` in the configuration.")
@click.option("--void", "void_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write them as VoID (Turtle): counts per predicate and class, extents as geo:hasBoundingBox.")
def describe(config, output, void_file):
    """Ask every source what it holds (predicates, classes, extent, GeoSPARQL) and save it."""
    from federation import load_federation
    from federation.description import save_descriptions, void_turtle

    with load_federation(config) as federation:
        descriptions = federation.refresh()
    save_descriptions(descriptions, output)
    if void_file is not None:
        void_file.write_bytes(void_turtle(descriptions))
    for name, d in descriptions.items():
        click.echo(f"{name}: {d.triples:,} triples, {len(d.predicates)} predicates, GeoSPARQL {d.geosparql}, extent {d.extent}")


@federation_group.command()
@click.argument("sparql")
@CONFIG_OPTION
@click.option("--source", "sources", multiple=True, help="Ask only this source (repeatable).")
@click.option("--format", "output_format", default=None, help="json, csv, tsv or xml; turtle, ntriples or jsonld for CONSTRUCT.")
@click.option("--explain", is_flag=True, help="Print the sub-queries each source would get, and send none.")
def query(sparql, config, sources, output_format, explain):
    """Answer a query over the federation's sources."""
    from federation import load_federation

    with load_federation(config) as federation:
        if explain:
            for number, plan in enumerate(federation.plan(sparql, sources), 1):
                for step in plan.steps:
                    for sub in step.subs:
                        click.echo(f"# scope {number}, {sub.source}, about {sub.estimate:,.0f} triples\n{sub.sparql}\n")
            return
        result = federation.query(sparql, sources=sources or None)
        sys.stdout.buffer.write(result.serialize(output_format or ("turtle" if result.form == "GRAPH" else "json")))
        report = result.report
    click.echo(f"\n{len(report.fetched)} sub-queries, {report.triples:,} triples, {report.bytes:,} bytes gathered "
               f"in {report.gather_seconds:.2f} s.", err=True)


@click.group(name="lucas")
def lucas_group():
    """LUCAS survey points against the crop-type map (docs/federation.md)."""


@lucas_group.command(name="validate")
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="A federation's TOML file: validate over its sources (docs/federation.md).")
@click.option("--store", "store_dir", envvar="EEKG_STORE_DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Or the directory of an embedded store holding points, predictions and code lists. Env: EEKG_STORE_DIR.")
@click.option("--distance", default=10.0, show_default=True, help="Metres from a LUCAS point to a matching crop region.")
@click.option("--points", "points_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every point's result to this CSV file.")
def lucas_validate(config, store_dir, distance, points_file):
    """Validate the crop-type map against the LUCAS points: a summary per LC1 class as JSON."""
    import csv
    from contextlib import ExitStack

    from federation.lucas import validate_crop_map

    if (config is None) == (store_dir is None):
        raise click.UsageError("Give either --config FEDERATION.toml or --store DIR.")
    with ExitStack() as stack:
        if config is not None:
            from federation import load_federation

            searched = stack.enter_context(load_federation(config))
        else:
            from kg.embedded import EmbeddedStore

            searched = stack.enter_context(EmbeddedStore(store_dir))
        result = validate_crop_map(searched, distance)
    if points_file is not None:
        with open(points_file, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["point_id", "land_cover", "crop_types", "positive", "point"])
            writer.writerows([p.point_id, p.land_cover, " ".join(p.crop_types), p.positive, p.point] for p in result.points)
    click.echo(json.dumps({"distance": distance, "points": len(result.points), "positive": result.positive,
                           "negative": result.negative,
                           "classes": [{**asdict(c), "negative": c.negative, "share_positive": round(c.share_positive, 4)}
                                       for c in result.by_class()]}, indent=1))


@click.group(name="catalogue")
def catalogue_group():
    """The semantic catalogue's product records (docs/federation.md)."""


@catalogue_group.command(name="ingest")
@click.option("--url", required=True, help="The catalogue's OData root, e.g. https://catalogue.dataspace.copernicus.eu/odata/v1 "
              "(or its OpenSearch root with --opensearch, e.g. .../resto/api).")
@click.option("--opensearch", is_flag=True, help="Ask the OpenSearch (Resto) interface instead of OData.")
@click.option("--collection", type=click.Choice(["SENTINEL-1", "SENTINEL-2"]), required=True)
@click.option("--start", help="Sensing start at or after (UTC), e.g. 2018-03-01T00:00:00Z.")
@click.option("--end", help="Sensing start before (UTC).")
@click.option("--footprint", help="Products whose footprint intersects this CRS84 WKT area.")
@click.option("--product-type", help="GRD, SLC, S2MSI2A ...")
@click.option("--limit", default=10_000, show_default=True, help="At most this many products.")
@click.option("--store", "store_dir", envvar="EEKG_STORE_DIR", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The embedded store to load the records into. Env: EEKG_STORE_DIR.")
def catalogue_ingest(url, opensearch, collection, start, end, footprint, product_type, limit, store_dir):
    """Find products in a Copernicus catalogue (OData or OpenSearch) and load their records into a store."""
    from federation.copernicus import CopernicusCatalogue, CopernicusOpenSearch, ingest
    from kg.embedded import EmbeddedStore

    with (CopernicusOpenSearch if opensearch else CopernicusCatalogue)(url) as remote:
        records, skipped = remote.products(collection, start=start, end=end, footprint=footprint,
                                           product_type=product_type, limit=limit)
    with EmbeddedStore(store_dir) as store:
        done = ingest(store, records, skipped)
    click.echo(f"{done.products:,} products, {done.triples:,} triples loaded into {store_dir}"
               + (f"; {len(done.skipped)} names that are no Sentinel-1/2 product identifiers skipped" if done.skipped else "."))
