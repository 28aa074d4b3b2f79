"""The embedded store: every RDF format, named graphs, persistence, all-or-nothing loads, guards."""

from __future__ import annotations

import gzip
import time

import pyoxigraph as ox
import pytest

from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError, InvalidGeometry, LoadError, QuerySyntaxError, QueryTimeout, UnsupportedFeature

GEO = "http://www.opengis.net/ont/geosparql#"
FEATURES = f"""
@prefix geo: <{GEO}> .
@prefix ex: <http://example.org/> .
ex:a a ex:Field ; geo:hasGeometry ex:ga .
ex:ga geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral .
ex:b a ex:Field ; geo:hasGeometry ex:gb .
ex:gb geo:asWKT "POINT(1 1)"^^geo:wktLiteral .
ex:c a ex:Well ; geo:hasGeometry ex:gc .
ex:gc geo:asWKT "POINT(5 5)"^^geo:wktLiteral .
"""
TRIPLES = 9
COUNT = "SELECT (COUNT(*) AS ?n) { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def count(store) -> int:
    return int(store.query(COUNT).bindings()[0]["n"].value)


def write(path, text):
    path.write_text(text)
    return path


@pytest.fixture(params=["memory", "disk"])
def any_store(request, tmp_path):
    """An in-memory store (checked before loading) or an on-disk one (rolled back to a checkpoint)."""
    store = EmbeddedStore(None if request.param == "memory" else tmp_path / "store")
    yield store
    store.close()


@pytest.fixture
def turtle(tmp_path):
    return write(tmp_path / "features.ttl", FEATURES)


TRIPLE_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdf": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}


@pytest.mark.parametrize("extension", TRIPLE_FORMATS)
@pytest.mark.parametrize("graph", [None, "http://example.org/graph"])
def test_loads_every_triple_format_into_default_or_named_graph(tmp_path, extension, graph):
    triples = [q.triple for q in ox.parse(FEATURES, ox.RdfFormat.TURTLE)]
    path = tmp_path / f"data.{extension}"
    path.write_bytes(ox.serialize(triples, format=TRIPLE_FORMATS[extension]))
    store = EmbeddedStore()
    report = store.load([path], graph=graph)
    assert (report.triples, report.geometries) == (TRIPLES, 3)
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    assert store.query(f"ASK {{ {where} FILTER(?o = 'POINT(5 5)'^^geo:wktLiteral) }}").boolean()
    assert count(store) == TRIPLES


@pytest.mark.parametrize("fmt,ext", [(ox.RdfFormat.N_QUADS, "nq"), (ox.RdfFormat.TRIG, "trig")])
def test_loads_dataset_formats_with_their_graphs(tmp_path, fmt, ext):
    quads = [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode("http://example.org/g1"))
             for q in ox.parse(FEATURES, ox.RdfFormat.TURTLE)]
    path = tmp_path / f"data.{ext}"
    path.write_bytes(ox.serialize(quads, format=fmt))
    store = EmbeddedStore()
    store.load([path])
    assert store.graph_exists("http://example.org/g1")
    assert store.query("SELECT * { GRAPH <http://example.org/g1> { ?s a ?c } }").bindings()
    with pytest.raises(LoadError, match="name their own graphs"):
        store.load([path], graph="http://example.org/other")


def test_loads_gzipped_files_and_reports_progress(tmp_path):
    path = tmp_path / "features.ttl.gz"
    path.write_bytes(gzip.compress(FEATURES.encode()))
    seen = []
    EmbeddedStore().load([path], progress=seen.append)
    assert sum(seen) == path.stat().st_size


def test_store_persists_in_its_directory(tmp_path, turtle):
    store = EmbeddedStore(tmp_path / "store")
    store.load([turtle])
    store.close()
    reopened = EmbeddedStore(tmp_path / "store")
    assert count(reopened) == TRIPLES


def test_a_store_in_use_gives_a_clear_error(tmp_path):
    first = EmbeddedStore(tmp_path / "store")
    with pytest.raises(GeoKGError, match="in use by another process"):
        EmbeddedStore(tmp_path / "store")
    first.close()


def test_a_syntax_error_names_file_and_line_and_loads_nothing(tmp_path, turtle, any_store):
    store = any_store
    store.load([turtle])
    broken = write(tmp_path / "broken.ttl", FEATURES.replace("ex:c a ex:Well", "ex:c a ex:Well ex:x", 1))
    with pytest.raises(LoadError) as error:
        store.load([turtle, broken])  # the first file is fine: still nothing may be written
    assert "broken.ttl, line 8, column" in error.value.message and "Nothing was loaded" in error.value.message
    assert count(store) == TRIPLES


def test_an_invalid_geometry_names_its_subject_and_loads_nothing(tmp_path, any_store):
    bad = write(tmp_path / "bad.ttl", FEATURES.replace("POINT(5 5)", "POINT(5 5", 1))
    store = any_store
    with pytest.raises(LoadError) as error:
        store.load([bad])
    assert "bad.ttl" in error.value.message and "http://example.org/gc" in error.value.message
    assert "POINT(5 5" in error.value.message
    assert count(store) == 0


def test_an_unknown_crs_in_a_file_loads_nothing(tmp_path, any_store):
    bad = write(tmp_path / "crs.ttl", FEATURES.replace('"POINT(5 5)', '"<http://example.org/no-crs> POINT(5 5)', 1))
    store = any_store
    with pytest.raises(LoadError, match="no-crs"):
        store.load([bad])
    assert count(store) == 0


@pytest.mark.parametrize("name,message", [("missing.ttl", "no such file"), ("data.csv", "cannot tell the RDF format")])
def test_bad_file_names_are_refused_before_loading(tmp_path, name, message):
    if name.endswith(".csv"):
        write(tmp_path / name, "a,b\n")
    with pytest.raises(GeoKGError, match=message):
        EmbeddedStore().load([tmp_path / name])


def test_a_failed_load_on_disk_keeps_what_was_there_and_the_store_stays_usable(tmp_path, turtle):
    store = EmbeddedStore(tmp_path / "store")
    store.load([turtle], graph="http://example.org/before")
    many = "\n".join(f"<http://example.org/s{i}> <http://example.org/p> {i} ." for i in range(20000))
    late_error = write(tmp_path / "late.ttl", many + "\n<http://example.org/x> <http://example.org/p> .\n")
    with pytest.raises(LoadError, match="late.ttl, line 20001"):
        store.load([turtle, late_error])
    assert count(store) == TRIPLES and store.graph_exists("http://example.org/before")
    store.load([turtle])  # still writable after the rollback
    store.close()
    assert count(EmbeddedStore(tmp_path / "store")) == 2 * TRIPLES  # the before graph + the default graph


def test_load_data_replaces_a_graph_atomically():
    store = EmbeddedStore()
    graph = "http://example.org/g"
    store.load_data(FEATURES.encode(), "turtle", graph=graph)
    with pytest.raises(LoadError, match="line 3"):
        store.load_data(b"@prefix ex: <http://example.org/> .\n\nex:x ex:y", "turtle", graph=graph, replace=True)
    assert count(store) == TRIPLES
    store.load_data(b'<http://example.org/x> <http://example.org/y> "1" .', "ntriples", graph=graph, replace=True)
    assert count(store) == 1
    store.drop_graph(graph)
    assert not store.graph_exists(graph)


def test_update_applies_and_checks_geometry_literals_first():
    store = EmbeddedStore()
    store.update('INSERT DATA { <http://example.org/g> geo:asWKT "POINT(1 2)"^^geo:wktLiteral }')
    with pytest.raises(InvalidGeometry, match=r"POINT\(1 2"):
        store.update('INSERT DATA { <http://example.org/h> geo:asWKT "POINT(1 2"^^geo:wktLiteral }')
    assert count(store) == 1


@pytest.mark.parametrize("sparql,update", [
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", False),
    ("LOAD <http://example.org/data.ttl>", True),
])
def test_the_store_never_contacts_other_servers(sparql, update):
    store = EmbeddedStore()
    with pytest.raises(UnsupportedFeature):
        store.update(sparql) if update else store.query(sparql)


def test_syntax_errors_give_line_and_column():
    with pytest.raises(QuerySyntaxError) as error:
        EmbeddedStore().query("SELECT *\nWHERE { ?s ?p }")
    assert error.value.line == 2 and error.value.column in (15, 16)  # at or just after the '}'
    assert "at line 2, column" in error.value.message


def test_a_malformed_literal_in_a_query_fails_the_query_naming_it(turtle):
    store = EmbeddedStore()
    store.load([turtle])
    result = store.query('SELECT ?f { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, "POLYGON((0 0, 1 1"^^geo:wktLiteral)) }')
    with pytest.raises(InvalidGeometry, match=r"POLYGON\(\(0 0, 1 1"):
        result.serialize("json")


@pytest.mark.parametrize("sparql,message", [
    ("SELECT * { ?g geo:asWKT ?w FILTER(geof:sfIntersect(?w, ?w)) }", "geof:sfIntersect is not a GeoSPARQL 1.1 function; did you mean geof:sfIntersects"),
    ("PREFIX f: <http://www.opengis.net/def/function/geosparql/> SELECT (f:within(?w, ?w) AS ?x) { ?g geo:asWKT ?w }", "geof:within"),
    ("SELECT * { FILTER(<http://www.opengis.net/def/function/geosparql/aggUnions>(?w)) }", "geof:aggUnions"),
])
def test_a_misspelt_geosparql_function_is_named_not_silently_unbound(sparql, message):
    with pytest.raises(QuerySyntaxError, match=message):
        EmbeddedStore().query(sparql)


def test_a_malformed_literal_fails_an_ask_query_too():
    ask = 'ASK { BIND("POINT(1"^^geo:wktLiteral AS ?g) FILTER(geof:sfIntersects(?g, "POINT(1 1)"^^geo:wktLiteral)) }'
    with pytest.raises(InvalidGeometry, match=r"POINT\(1\b"):
        EmbeddedStore().query(ask).boolean()


def test_a_slow_query_is_stopped_at_its_timeout():
    store = EmbeddedStore()
    points = "\n".join(f'<http://example.org/p{i}> geo:asWKT "POINT({i / 20} {i / 40})"^^geo:wktLiteral .' for i in range(3000))
    store.load_data(("@prefix geo: <%s> .\n" % GEO + points).encode(), "turtle")
    join = "SELECT * { ?a geo:asWKT ?x . ?b geo:asWKT ?y FILTER(geof:sfIntersects(?x, ?y)) }"
    started = time.perf_counter()
    result = store.query(join, timeout=0.5, naive=True)  # a nested loop of 9e6 calls
    with pytest.raises(QueryTimeout, match="0.5 s timeout"):
        result.serialize("json")
    assert time.perf_counter() - started < 3
    assert len(store.query(join, timeout=0.5).bindings()) == 3000  # planned: each point meets itself


def test_stats_count_triples_geometries_and_classes(turtle):
    store = EmbeddedStore()
    store.load([turtle])
    stats = store.stats()
    assert stats.triples == TRIPLES
    assert stats.geometries == {GEO + "wktLiteral": 3}
    assert stats.classes == {"http://example.org/Field": 2, "http://example.org/Well": 1}
