"""`eekg map`, run as users run it."""

from __future__ import annotations

import json

from click.testing import CliRunner
from mapping_helpers import DATA, MAPPINGS

from api.cli import main

LUCAS = ["map", str(MAPPINGS / "lucas.rml.ttl"), str(DATA / "lucas.csv")]
COUNT = "SELECT (COUNT(?o) AS ?n) { GRAPH ?g { ?o a <https://w3id.org/eekg/ont/food#LucasObservation> } }"


def query(store, sparql: str) -> dict:
    out = CliRunner().invoke(main, ["query", sparql, "--store", str(store)])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_map_into_a_named_graph_then_query(tmp_path):
    store = tmp_path / "store"
    out = CliRunner().invoke(main, LUCAS + ["--store", str(store), "--graph", "https://example.org/lucas"])
    assert out.exit_code == 0, out.output
    assert "Mapped 5 rows into 117 triples (10 geometries)" in out.output and "0 rows rejected" in out.output
    answer = query(store, COUNT)
    assert int(answer["results"]["bindings"][0]["n"]["value"]) == 5


def test_report_lists_the_rejected_rows_and_loads_the_rest(tmp_path):
    header, s1, s2 = (DATA / "products.csv").read_text().splitlines()
    broken = tmp_path / "products.csv"
    broken.write_text("\n".join([header, s1.split(',"POLYGON')[0] + ',"POLYGON ((2.1 79.2"', s2]) + "\n")
    out = CliRunner().invoke(main, ["map", str(MAPPINGS / "products.rml.ttl"), str(broken),
                                    "--store", str(tmp_path / "store"), "--validate", "report"])
    assert out.exit_code == 0, out.output
    assert f"rejected: {broken}, row 1: invalid WKT 'POLYGON ((2.1 79.2'" in out.output
    assert "Mapped 2 rows into 25 triples" in out.output and "1 rows rejected" in out.output


def test_a_bad_input_is_one_clear_line_and_loads_nothing(tmp_path):
    store = tmp_path / "store"
    out = CliRunner().invoke(main, ["map", str(MAPPINGS / "lucas.rml.ttl"), str(DATA / "products.csv"), "--store", str(store)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.startswith("error: ") and "reads the columns ['GPS_LAT', 'GPS_LONG'" in out.output
    stats = CliRunner().invoke(main, ["stats", "--store", str(store)])
    assert "triples       0" in stats.output


def test_map_has_help():
    out = CliRunner().invoke(main, ["map", "--help"])
    assert out.exit_code == 0 and "--validate [strict|report|off]" in out.output
