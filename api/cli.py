"""The `eekg` command line: the same store and service functions the HTTP API uses."""

from __future__ import annotations

import sys
from pathlib import Path

import click

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


if __name__ == "__main__":
    main()
