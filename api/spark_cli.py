"""`eekg spark ...`: build a warehouse of Parquet tables, query it with Spark SQL, serve it over HTTP."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

WAREHOUSE_OPTION = click.option(
    "--warehouse", required=True, envvar="EEKG_SPARK_WAREHOUSE", type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the Parquet warehouse (docs/spark.md). Env: EEKG_SPARK_WAREHOUSE.",
)
MASTER_OPTION = click.option(
    "--master", envvar="EEKG_SPARK_MASTER", default=None,
    help="Spark master: local[N], spark://HOST:7077, yarn, k8s://... (default local[*]). Env: EEKG_SPARK_MASTER.",
)


@click.group(name="spark")
def spark_group():
    """The distributed store: GeoSPARQL on Spark SQL over Parquet tables (docs/spark.md)."""


@spark_group.command(name="load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@WAREHOUSE_OPTION
@click.option("--graph", help="Named graph IRI for triples (default: the default graph).")
@click.option("--format", "rdf_format", help="RDF format if the file names do not tell (turtle, ntriples, nquads, trig).")
@click.option("--replace", is_flag=True, help="Build an existing warehouse again from these files.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="An RML mapping: FILES are its inputs (CSV, Parquet, GeoJSON...), mapped and imported (docs/mappings.md).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="With --mapping: map in this process or as a Spark job.")
def load_command(files, warehouse, graph, rdf_format, replace, mapping, engine):
    """Import RDF files (or mapped inputs) into Parquet tables: all of them, or nothing."""
    from kg.spark.warehouse import load_warehouse

    if mapping is None:
        report = load_warehouse(files, warehouse, format=rdf_format, graph=graph, replace=replace)
    else:
        from mappings.runner import MappingRun, map_to_parts

        run = MappingRun()
        with tempfile.TemporaryDirectory(prefix="eekg-map-") as workdir:
            if engine == "spark":
                from mappings.spark import map_with_spark

                parts = map_with_spark(mapping, files, Path(workdir), run)
            else:
                parts = map_to_parts(mapping, files, Path(workdir), run)
            report = load_warehouse(parts, warehouse, format="ntriples", graph=graph, replace=replace,
                                    on_loaded=lambda part: part.unlink())
    click.echo(f"Imported {report.triples:,} triples ({report.geometries:,} geometries) into {warehouse} "
               f"in {report.seconds:.1f} s.")


@spark_group.command(name="query")
@click.argument("sparql", required=False)
@WAREHOUSE_OPTION
@MASTER_OPTION
@click.option("-f", "--file", "query_file", type=click.File("r"), help="Read the query from a file ('-' for stdin).")
@click.option("--format", "output_format", default="json", show_default=True, help="json, csv, tsv or xml.")
@click.option("--timeout", type=float, default=None, help="Stop the query after this many seconds.")
def query_command(sparql, warehouse, master, query_file, output_format, timeout):
    """Run a SPARQL query on the warehouse with Spark and print its answer."""
    from kg.spark.store import SparkStore

    if (sparql is None) == (query_file is None):
        raise click.UsageError("Give the query either as an argument or with -f FILE, not both or neither.")
    store = SparkStore(warehouse, master=master)
    sys.stdout.buffer.write(store.query(sparql if sparql is not None else query_file.read(), timeout=timeout).serialize(output_format))
    sys.stdout.flush()


@spark_group.command(name="serve")
@WAREHOUSE_OPTION
@MASTER_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file (see docs/api.md).")
def serve_command(warehouse, master, host, port, config):
    """Serve the warehouse over HTTP (SPARQL 1.1 Protocol, read-only) with a long-lived SparkSession."""
    from api.cli import _serve
    from kg.spark.store import SparkStore

    _serve(SparkStore(warehouse, master=master), host, port, config)
