"""`eekg interlink`, run as users run it: links and provenance into a store's named graph or a file;
bad input is one line on stderr and leaves the store as it was."""

from __future__ import annotations

import json

import geopandas
import pyoxigraph as ox
import pytest
import shapely
from click.testing import CliRunner
from interlink_helpers import EX

from api.cli import main

GEO = "http://www.opengis.net/ont/geosparql#"
PARCEL = EX + "Parcel"
PREFIXES = "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX il: <https://w3id.org/eekg/ont/interlink#> "


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def select(store, sparql: str) -> list[dict]:
    out = run("query", PREFIXES + sparql, "--store", str(store))
    assert out.exit_code == 0, out.output
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(out.output)["results"]["bindings"]]


@pytest.fixture
def store(tmp_path):
    """Four unit parcels in a row in the store; two regions in a GeoJSON file."""
    lines = [f'<{EX}p{k}> a <{PARCEL}> ; <{GEO}hasGeometry> <{EX}p{k}/g> . '
             f'<{EX}p{k}/g> <{GEO}asWKT> "POLYGON(({k} 0, {k + 1} 0, {k + 1} 1, {k} 1, {k} 0))"^^<{GEO}wktLiteral> .'
             for k in range(4)]
    (tmp_path / "parcels.ttl").write_text("\n".join(lines))
    regions = geopandas.GeoDataFrame({"name": ["west", "east"]}, geometry=[shapely.box(0, 0, 2, 1), shapely.box(2, 0, 4, 1)], crs="OGC:CRS84")
    regions.to_file(tmp_path / "regions.geojson", driver="GeoJSON")
    out = run("load", str(tmp_path / "parcels.ttl"), "--store", str(tmp_path / "store"))
    assert out.exit_code == 0, out.output
    return tmp_path / "store"


def test_links_and_provenance_into_a_named_graph(store, tmp_path):
    regions = f"{tmp_path / 'regions.geojson'} id=name base={EX}region/"
    out = run("interlink", "--source", f"class={PARCEL}", "--target", regions, "--store", str(store), "--graph", EX + "links")
    assert out.exit_code == 0, out.output
    assert "Exhaustive interlinking: " in out.output and "6 related" in out.output
    within = select(store, f"SELECT ?p ?r {{ GRAPH <{EX}links> {{ ?p geo:sfWithin ?r }} }} ORDER BY ?p ?r")
    assert [(w["p"], w["r"]) for w in within] == [(f"{EX}p{k}", f"{EX}region/{r}") for k, r in
                                                  [(0, "west"), (1, "west"), (2, "east"), (3, "east")]]
    touching = select(store, f"SELECT ?p ?r {{ GRAPH <{EX}links> {{ ?p geo:sfTouches ?r }} }} ORDER BY ?p")
    assert [(t["p"], t["r"]) for t in touching] == [(f"{EX}p1", f"{EX}region/east"), (f"{EX}p2", f"{EX}region/west")]
    assert not select(store, f"SELECT * {{ GRAPH <{EX}links> {{ ?p geo:sfDisjoint ?r }} }}")
    [prov] = select(store, f"""SELECT * {{ GRAPH <{EX}links> {{
        <{EX}links> prov:wasGeneratedBy ?run . ?run a prov:Activity ; prov:startedAtTime ?start ; il:method ?method ;
        il:candidatePairs ?candidates ; il:verifiedPairs ?verified ; il:relatedPairs ?related ; il:links ?links ;
        il:seconds ?seconds ; il:source ?source . ?source il:selection ?selection ; il:entities ?entities }} }}
        """)
    assert prov["method"] == "exhaustive" and prov["related"] == "6" and prov["verified"] == prov["candidates"]
    assert prov["selection"] == f"class={PARCEL}" and prov["entities"] == "4"
    links = select(store, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{EX}links> {{ ?p ?rel ?r FILTER(STRSTARTS(STR(?rel), '{GEO}')) }} }}")
    assert links[0]["n"] == prov["links"]


def test_a_budget_and_a_weighting_into_a_file_without_a_store(tmp_path, store):
    output = tmp_path / "links.nq"
    out = run("interlink", "--source", str(tmp_path / "parcels.ttl"), "--target", str(tmp_path / "regions.geojson"),
              "--budget", "3", "--weighting", "mbro", "--relations", "sfWithin,sfTouches", "--output", str(output))
    assert out.exit_code == 0, out.output
    assert "Progressive interlinking: " in out.output and "3 verified" in out.output
    quads = list(ox.parse(path=str(output), format=ox.RdfFormat.N_QUADS))
    relations = {q.predicate.value.removeprefix(GEO) for q in quads if q.predicate.value.startswith(GEO)}
    assert relations <= {"sfWithin", "sfTouches"} and relations
    facts = {q.predicate.value.rsplit("#", 1)[-1]: q.object.value for q in quads}
    assert facts["budget"] == "3" and facts["weighting"] == "mbro" and facts["verifiedPairs"] == "3"
    assert len({q.graph_name for q in quads}) == 1


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "budget=0; give a whole number"),
    (["--weighting", "mbr", "--budget", "5"], "'mbr' is not a scheme; use one of cf, js, x2"),
    (["--relations", "sfNear"], "Got relation 'sfNear'; use some of sfEquals"),
    (["--target", "nowhere.geojson"], "nowhere.geojson: no such file"),
    (["--target", "class=http://example.org/Nothing"], "has no entity with a geometry"),
])
def test_bad_input_is_one_line_and_writes_nothing(store, args, message):
    base = ["interlink", "--source", f"class={PARCEL}", "--target", f"class={PARCEL}", "--store", str(store)]
    before = run("stats", "--store", str(store)).output
    out = run(*base, *args)
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert message in out.output and "error: " in out.output
    assert run("stats", "--store", str(store)).output == before


def test_a_graph_that_holds_triples_is_replaced_only_when_asked(store):
    args = ["interlink", "--source", f"class={PARCEL}", "--target", f"class={PARCEL}", "--store", str(store), "--graph", EX + "g"]
    assert run(*args).exit_code == 0
    count = "SELECT (COUNT(*) AS ?n) { GRAPH <%s> { ?s ?p ?o } }" % (EX + "g")
    first = select(store, count)[0]["n"]
    again = run(*args)
    assert again.exit_code == 1 and "already holds triples; give another --graph, or --replace" in again.output
    assert select(store, count)[0]["n"] == first
    replaced = run(*args, "--replace", "--relations", "sfEquals")
    assert replaced.exit_code == 0, replaced.output
    assert int(select(store, count)[0]["n"]) < int(first)
    assert len(select(store, f"SELECT * {{ GRAPH <{EX}g> {{ ?a geo:sfEquals ?b }} }}")) == 4


def test_the_store_or_an_output_file_is_needed(tmp_path, store):
    out = run("interlink", "--source", str(tmp_path / "parcels.ttl"), "--target", str(tmp_path / "parcels.ttl"))
    assert out.exit_code == 2 and "Give --store DIR to write the links into, or --output FILE" in out.output
