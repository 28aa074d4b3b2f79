"""The `eekg` command line: the same store and service functions the HTTP API uses."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from api.ml_cli import ml
from kg.embedded import EmbeddedStore
from kg.errors import USER_ERRORS

STORE_OPTION = click.option(
    "--store", "store_dir", required=True, envvar="EEKG_STORE_DIR", type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the embedded store (created if missing). Env: EEKG_STORE_DIR.",
)


class _Group(click.Group):
    """Turns errors a user can cause into one clear line on stderr and exit status 1, no traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as error:
            click.secho(f"error: {error.message}", err=True, fg="red")
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="extremeearth-kg")
def main():
    """A GeoSPARQL knowledge-graph service for Earth observation."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@STORE_OPTION
@click.option("--graph", help="Named graph IRI to load triples into (default: the default graph).")
@click.option("--format", "rdf_format", help="RDF format if the file names do not tell (turtle, ntriples, nquads, trig, rdfxml, jsonld).")
def load(files, store_dir, graph, rdf_format):
    """Load RDF files into the store: all of them, or nothing if any is invalid."""
    total = sum(f.stat().st_size for f in files if f.is_file())
    with EmbeddedStore(store_dir) as store, click.progressbar(
        length=total, label="Loading", show_pos=False, file=sys.stderr
    ) as bar:
        report = store.load(files, format=rdf_format, graph=graph, progress=bar.update)
    click.echo(
        f"Loaded {report.triples:,} triples ({report.geometries:,} geometries) from {len(report.files)} file(s) "
        f"in {report.seconds:.1f} s."
    )


@main.command()
@click.argument("sparql", required=False)
@STORE_OPTION
@click.option("-f", "--file", "query_file", type=click.File("r"), help="Read the query from a file ('-' for stdin).")
@click.option("--format", "output_format", default=None,
              help="json, csv, tsv or xml for SELECT/ASK (default json); turtle, ntriples or jsonld for CONSTRUCT/DESCRIBE (default turtle).")
@click.option("--timeout", type=float, default=None, help="Stop the query after this many seconds.")
def query(sparql, store_dir, query_file, output_format, timeout):
    """Run a SPARQL query and print its answer."""
    if (sparql is None) == (query_file is None):
        raise click.UsageError("Give the query either as an argument or with -f FILE, not both or neither.")
    text = sparql if sparql is not None else query_file.read()
    with EmbeddedStore(store_dir) as store:
        result = store.query(text, timeout=timeout)
        fmt = output_format or ("turtle" if result.form == "GRAPH" else "json")
        sys.stdout.buffer.write(result.serialize(fmt))
    sys.stdout.flush()


@main.command(name="map")
@click.argument("mapping", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@STORE_OPTION
@click.option("--graph", help="Named graph IRI to load the triples into (default: the default graph).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Map in this process, or as a Spark job over partitions of the input.")
@click.option("--validate", type=click.Choice(["strict", "report", "off"]), default="strict", show_default=True,
              help="SHACL: strict loads nothing if any record is invalid; report loads the valid ones and lists the rest.")
@click.option("--chunk-rows", type=int, default=50_000, show_default=True, help="Input rows mapped together.")
def map_command(mapping, inputs, store_dir, graph, engine, validate, chunk_rows):
    """Map CSV, GeoJSON, Shapefile or GeoParquet INPUTS with an RML MAPPING into the store."""
    from api.mapping import map_into_store

    with EmbeddedStore(store_dir) as store:
        run, report = map_into_store(store, mapping, inputs, graph=graph, engine=engine, validate=validate,
                                     chunk_rows=chunk_rows, on_part=lambda r: click.echo(f"  mapped {r.rows:,} rows", err=True))
    for rejected in run.rejected:
        click.secho(f"rejected: {rejected}", err=True, fg="yellow")
    click.echo(f"Mapped {run.rows:,} rows into {report.triples:,} triples ({report.geometries:,} geometries) "
               f"in {run.seconds:.1f} s; {len(run.rejected):,} rows rejected.")


@main.command(name="interlink")
@click.option("--source", "source_spec", required=True,
              help="The source dataset: a file (GeoParquet, GeoJSON, Shapefile, CSV with WKT, N-Triples ...) optionally "
                   "followed by id=COLUMN base=IRI, or a store selection: 'class=IRI', 'graph=IRI', "
                   "'pattern={ ... }' binding ?entity and ?wkt (docs/interlink.md).")
@click.option("--target", "target_spec", required=True, help="The target dataset, written as --source.")
@click.option("--store", "store_dir", envvar="EEKG_STORE_DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Directory of the embedded store: read store selections from it and write the links into it. Env: EEKG_STORE_DIR.")
@click.option("--graph", help="Named graph for the links and their provenance (default: a new graph named after the run).")
@click.option("--replace", is_flag=True, help="Replace the content of --graph if it holds triples.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the links to this RDF file (.nt, .nq, .ttl, .trig) instead of the store.")
@click.option("--budget", type=int, help="Verify at most this many candidate pairs, the heaviest first (default: all).")
@click.option("--weighting", help="Orders the candidate pairs: mbro, x2, cf, js, isp, random, a product such as x2*mbro, "
                                  "or a composite such as mbro,isp (default with --budget: mbro).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Link in this process, or on Spark ($EEKG_SPARK_MASTER, default local[*]) with the same result.")
@click.option("--relations", help="Comma-separated relations to emit (default: all of sfEquals, sfIntersects, sfTouches, "
                                  "sfCrosses, sfWithin, sfContains, sfOverlaps, ehCovers, ehCoveredBy).")
@click.option("--granularity", type=float, default=1.0, show_default=True,
              help="Tile size as a multiple of the source's mean MBR width and height.")
@click.option("--skip-invalid", is_flag=True, help="Leave invalid geometries out (counted in the provenance) instead of stopping.")
def interlink_command(source_spec, target_spec, store_dir, graph, replace, output, budget, weighting, engine, relations,
                      granularity, skip_invalid):
    """Discover the topological relations between two datasets and store them as GeoSPARQL links."""
    from contextlib import nullcontext

    from kg.interlink import interlink, read_dataset, write_to_file, write_to_store
    from kg.interlink.links import check_graph_free

    if output is None and store_dir is None:
        raise click.UsageError("Give --store DIR to write the links into, or --output FILE.")
    with EmbeddedStore(store_dir) if store_dir else nullcontext() as store, _ProgressBars() as progress:
        if output is None and graph:
            check_graph_free(store, graph, replace)  # before the work, not after it
        source, target = read_dataset(source_spec, store, "source"), read_dataset(target_spec, store, "target")
        click.echo(f"Read {len(source):,} source and {len(target):,} target entities.", err=True)
        run = interlink(source, target, budget=budget, weighting=weighting, engine=engine, relations=relations,
                        granularity=granularity, on_invalid="skip" if skip_invalid else "raise", progress=progress)
        progress.close()
        if output is None:
            graph, triples = write_to_store(run, store, graph, replace=replace)
            where = f"the graph <{graph}>"
        else:
            graph, triples = write_to_file(run, output, graph)
            where = str(output)
    found = run.found
    click.echo(f"{run.plan.method.capitalize()} interlinking: {found.candidates:,} candidate pairs, {found.verified:,} verified, "
               f"{found.related:,} related, {run.links:,} links in {run.seconds:.1f} s; {triples:,} triples written to {where}.")


class _ProgressBars:
    """One progress bar on stderr per stage the interlinking reports (filtering, verifying)."""

    def __init__(self):
        self.stage, self.bar, self.done = None, None, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=total, label=stage.capitalize(), file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@main.command()
@STORE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file (see docs/api.md); also EEKG_CONFIG.")
def serve(store_dir, host, port, config):
    """Serve the store over HTTP: SPARQL 1.1 Protocol, Update, Graph Store."""
    _serve(EmbeddedStore(store_dir), host, port, config)


@main.command()
@STORE_OPTION
def stats(store_dir):
    """Print counts of triples, graphs, geometries and classes."""
    with EmbeddedStore(store_dir) as store:
        s = store.stats()
    click.echo(f"triples       {s.triples:,}\nnamed graphs  {s.named_graphs:,}")
    for datatype, n in s.geometries.items():
        click.echo(f"geometries    {n:,}  {datatype}")
    for cls, n in s.classes.items():
        click.echo(f"instances     {n:,}  {cls}")


@main.command()
@click.option("--store", "store_dir", default=Path(".eekg/demo-store"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where to build the demo store (rebuilt each time).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo knowledge graph and stop.")
def demo(store_dir, host, port, no_serve):
    """Build the demo knowledge graph (sea ice and crops) and serve it on http://HOST:PORT."""
    from api.demo import build_demo

    store, report = build_demo(store_dir)
    click.echo(f"Built the demo knowledge graph in {store_dir}: {report.triples:,} triples, {report.geometries:,} geometries.")
    if not no_serve:
        _serve(store, host, port, None, demo=True)


def _serve(store, host: str, port: int, config: Path | None, demo: bool = False) -> None:
    import secrets

    import uvicorn

    from api.main import create_app
    from api.settings import Settings

    settings = Settings.load(config)
    if demo and not settings.writer_keys:  # so that a newcomer can try updates at once
        settings = Settings.load(config, writer_keys=[secrets.token_urlsafe(16)])
        click.echo(f"Writer API key for this demo session: {settings.writer_keys[0]}")
    click.echo(f"SPARQL endpoint: http://{host}:{port}/sparql   API docs: http://{host}:{port}/docs")
    uvicorn.run(create_app(store, settings, close_store=True), host=host, port=port, log_level="info")


main.add_command(ml)  # eekg ml ...: api/ml_cli.py

from api.federation_cli import catalogue_group, federation_group, lucas_group  # noqa: E402

main.add_command(federation_group)  # eekg federation ...: api/federation_cli.py
main.add_command(lucas_group)  # eekg lucas validate
main.add_command(catalogue_group)  # eekg catalogue ingest

from api.spark_cli import spark_group  # noqa: E402

main.add_command(spark_group)  # eekg spark ...: api/spark_cli.py (docs/spark.md)

if __name__ == "__main__":
    main()
