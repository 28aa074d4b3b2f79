"""The `eekg` command line, run as users run it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from api.cli import main

FEATURES = """@prefix geo: <http://www.opengis.net/ont/geosparql#> .
<http://example.org/a> geo:hasGeometry <http://example.org/ga> .
<http://example.org/ga> geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral .
<http://example.org/b> geo:hasGeometry <http://example.org/gb> .
<http://example.org/gb> geo:asWKT "POINT(5 5)"^^geo:wktLiteral .
"""
NEAR = "SELECT ?f { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, 'POINT(1 1)'^^geo:wktLiteral)) }"


@pytest.fixture
def loaded(tmp_path):
    data = tmp_path / "features.ttl"
    data.write_text(FEATURES)
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["load", str(data), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "Loaded 4 triples (2 geometries)" in result.output
    return store


def test_load_then_query_in_every_result_format(loaded):
    runner = CliRunner()
    out = runner.invoke(main, ["query", NEAR, "--store", str(loaded)])
    assert [b["f"]["value"] for b in json.loads(out.output)["results"]["bindings"]] == ["http://example.org/a"]
    out = runner.invoke(main, ["query", NEAR, "--store", str(loaded), "--format", "csv"])
    assert list(csv.reader(io.StringIO(out.output))) == [["f"], ["http://example.org/a"]]
    out = runner.invoke(main, ["query", NEAR, "--store", str(loaded), "--format", "tsv"])
    assert out.output.splitlines() == ["?f", "<http://example.org/a>"]
    out = runner.invoke(main, ["query", NEAR, "--store", str(loaded), "--format", "xml"])
    assert "<uri>http://example.org/a</uri>" in out.output


def test_query_from_a_file_and_construct_as_turtle(loaded, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text("CONSTRUCT { ?f a geo:Feature } WHERE { ?f geo:hasGeometry ?g }")
    out = CliRunner().invoke(main, ["query", "-f", str(query), "--store", str(loaded)])
    assert out.exit_code == 0 and "<http://example.org/a> a <http://www.opengis.net/ont/geosparql#Feature>" in out.output


def test_stats(loaded):
    out = CliRunner().invoke(main, ["stats", "--store", str(loaded)])
    assert "triples       4" in out.output and "geometries    2" in out.output


def test_load_into_a_named_graph(tmp_path):
    data = tmp_path / "features.ttl"
    data.write_text(FEATURES)
    runner = CliRunner()
    store = str(tmp_path / "store")
    runner.invoke(main, ["load", str(data), "--store", store, "--graph", "http://example.org/g"])
    out = runner.invoke(main, ["query", "ASK { GRAPH <http://example.org/g> { ?s geo:asWKT ?o } }", "--store", store])
    assert json.loads(out.output)["boolean"] is True


@pytest.mark.parametrize("args,message", [
    (["query", "SELECT * { ?s ?p }"], "SPARQL syntax error at line 1, column"),
    (["query", "SELECT * { SERVICE <http://example.org/s> { ?s ?p ?o } }"], "SERVICE"),
    (["query", "SELECT * { ?s ?p ?o }", "--format", "yaml"], "json, xml, csv or tsv"),
])
def test_user_errors_are_one_clear_line_without_traceback(loaded, args, message):
    out = CliRunner().invoke(main, args + ["--store", str(loaded)])
    assert out.exit_code == 1
    assert message in out.output and "Traceback" not in out.output


def test_a_broken_file_loads_nothing_and_says_where(loaded, tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text(FEATURES + "<http://example.org/c> geo:asWKT\n")
    out = CliRunner().invoke(main, ["load", str(broken), "--store", str(loaded)])
    assert out.exit_code == 1 and "broken.ttl, line 7" in out.output and "Nothing was loaded" in out.output
    out = CliRunner().invoke(main, ["stats", "--store", str(loaded)])
    assert "triples       4" in out.output


def test_demo_builds_the_demo_knowledge_graph(tmp_path):
    store = tmp_path / "demo"
    out = CliRunner().invoke(main, ["demo", "--store", str(store), "--no-serve"])
    assert out.exit_code == 0, out.output
    runner = CliRunner()
    # every sea-ice observation of the sample (api/demo_data/sea_ice.parquet) classifies a region with a
    # geometry, into a class of the code list loaded next to it; and the README's example query runs
    prefixes = ("PREFIX polar: <https://w3id.org/eekg/ont/polar#> PREFIX sosa: <http://www.w3.org/ns/sosa/> "
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
    query = prefixes + """SELECT (COUNT(DISTINCT ?r) AS ?n) (COUNT(DISTINCT ?c) AS ?classes) {
        ?o polar:iceClass ?c ; sosa:hasFeatureOfInterest ?r . ?r geo:hasGeometry/geo:asWKT ?wkt .
        ?c skos:inScheme <https://w3id.org/eekg/codes/sea-ice/scheme> ; skos:prefLabel ?label }"""
    answer = json.loads(runner.invoke(main, ["query", query, "--store", str(store)]).output)
    assert int(answer["results"]["bindings"][0]["n"]["value"]) == 52
    assert int(answer["results"]["bindings"][0]["classes"]["value"]) == 7
    readme = prefixes + """SELECT ?region ?class (geof:area(?wkt, uom:metre) / 1e6 AS ?km2) WHERE {
        ?observation polar:iceClass ?class ; sosa:hasFeatureOfInterest ?region .
        ?region geo:hasGeometry/geo:asWKT ?wkt .
      } ORDER BY DESC(?km2)"""
    rows = json.loads(runner.invoke(main, ["query", readme, "--store", str(store)]).output)["results"]["bindings"]
    assert len(rows) == 52 and 1_000 < float(rows[0]["km2"]["value"]) < 50_000
    again = CliRunner().invoke(main, ["demo", "--store", str(store), "--no-serve"])  # rebuilt, not doubled
    assert again.output == out.output


def test_demo_refuses_to_wipe_a_directory_that_is_not_a_demo_store(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    out = CliRunner().invoke(main, ["demo", "--store", str(tmp_path), "--no-serve"])
    assert out.exit_code == 1 and "is not a demo store" in out.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", [[], ["load"], ["query"], ["serve"], ["stats"], ["demo"], ["map"]])
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "api.cli", *command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Usage:" in out.stdout
