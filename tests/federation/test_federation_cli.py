"""`eekg federation`: explain, query, errors as one line."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import main


def test_query_explain_and_errors(tmp_path, oxigraph_url):
    config = tmp_path / "federation.toml"
    config.write_text(f'[[source]]\nname = "oxigraph"\nurl = "{oxigraph_url}"\n')
    runner = CliRunner()
    query = "SELECT (COUNT(*) AS ?n) { ?f a <http://example.org/Field> }"
    explained = runner.invoke(main, ["federation", "query", "--config", str(config), "--explain", query])
    assert explained.exit_code == 0 and "# scope 1, oxigraph, about 60 triples\nCONSTRUCT {" in explained.output
    answered = runner.invoke(main, ["federation", "query", "--config", str(config), "--format", "csv", query])
    assert answered.exit_code == 0 and answered.output.splitlines()[:2] == ["n", "60"]
    unknown = runner.invoke(main, ["federation", "query", "--config", str(config), "--source", "nope", query])
    assert unknown.exit_code == 1 and "No source is named 'nope'" in unknown.output and "Traceback" not in unknown.output


def test_describe_writes_descriptions_and_void(tmp_path, oxigraph_url):
    import json

    import pyoxigraph as ox

    config = tmp_path / "federation.toml"
    config.write_text(f'descriptions = "sources.json"\n[[source]]\nname = "oxigraph"\nurl = "{oxigraph_url}"\n')
    done = CliRunner().invoke(main, ["federation", "describe", "--config", str(config), "--output", str(tmp_path / "sources.json"),
                                     "--void", str(tmp_path / "void.ttl")])
    assert done.exit_code == 0 and done.output.startswith("oxigraph: 360 triples, 6 predicates, GeoSPARQL topology"), done.output
    assert json.loads((tmp_path / "sources.json").read_text())["oxigraph"]["classes"] == {"http://example.org/Field": 60}
    void = ox.Store()
    void.load(path=str(tmp_path / "void.ttl"), format=ox.RdfFormat.TURTLE)
    [row] = void.query("PREFIX void: <http://rdfs.org/ns/void#> SELECT ?n ?e { ?d void:triples ?n ; "
                       "void:classPartition [ void:class <http://example.org/Field> ; void:entities ?e ] }")
    assert (int(row["n"].value), int(row["e"].value)) == (360, 60)
    assert void.query("ASK { ?d <http://www.opengis.net/ont/geosparql#hasBoundingBox>/<http://www.opengis.net/ont/geosparql#asWKT> ?b }")
