"""The store's spatial index holds exactly the geometry literals the store holds, after every kind
of write, in memory and on disk, and after closing and reopening (docs/store.md, "Spatial index")."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyoxigraph as ox
import pytest

from kg.embedded import EmbeddedStore
from kg.errors import InvalidGeometry, LoadError
from kg.geosparql.index import SpatialIndex
from kg.geosparql.vocab import GEO, GEOMETRY_DATATYPES

G1, G2 = "http://example.org/g1", "http://example.org/g2"
WKT = f"^^<{GEO}wktLiteral>"
DEFAULT = f"""@prefix geo: <{GEO}> .
<http://example.org/a> geo:asWKT "POINT(1 1)"^^geo:wktLiteral .
<http://example.org/b> geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral .
<http://example.org/c> geo:asGeoJSON "{{\\"type\\": \\"Point\\", \\"coordinates\\": [3, 4]}}"^^geo:geoJSONLiteral .
<http://example.org/d> geo:asWKT "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(6 5)"^^geo:wktLiteral .
<http://example.org/e> <http://example.org/label> "not a geometry" .
"""
NAMED = f"""@prefix geo: <{GEO}> .
<http://example.org/f> geo:asWKT "POINT(1 1)"^^geo:wktLiteral .
<http://example.org/g> geo:asWKT "LINESTRING(7 7, 8 8)"^^geo:wktLiteral .
"""
NEW_NT = f'<http://example.org/n> <{GEO}asWKT> "POINT(20 20)"{WKT} .\n<http://example.org/m> <{GEO}asWKT> "POINT(1 1)"{WKT} .\n'
# Geometry literals the store holds, by SPARQL over the default graph and every named graph (DGGS
# literals have no shape and are not indexed).
HELD = (
    "SELECT DISTINCT ?o { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } "
    f"FILTER(DATATYPE(?o) IN ({', '.join(f'<{d}>' for d in GEOMETRY_DATATYPES if not d.endswith('dggsLiteral'))})) }}"
)


def held(store: EmbeddedStore) -> set:
    return {row["o"] for row in store.query(HELD, naive=True).bindings()}


def assert_in_step(store: EmbeddedStore) -> set:
    indexed = set(store.spatial_index().literals())
    assert indexed == held(store)
    return indexed


@pytest.fixture
def rebuilds(monkeypatch) -> list:
    """Every full rebuild of an index from its store (tracked writes should need none)."""
    calls, original = [], SpatialIndex.rebuild
    monkeypatch.setattr(SpatialIndex, "rebuild", lambda self, literals: calls.append(1) or original(self, literals))
    return calls


@pytest.fixture
def directory(tmp_path):
    """A directory for stores, in memory-backed /dev/shm where there is one: RocksDB syncs its
    files when it opens and closes a store, which on a disk makes this file several times slower."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="eekg-test-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["memory", "disk"])
def store(request, directory):
    store = EmbeddedStore(directory / "store" if request.param == "disk" else None)
    store.load_data(DEFAULT.encode(), "turtle")
    store.load_data(NAMED.encode(), "turtle", graph=G1)
    store.spatial_index()
    yield store
    store.close()


def file(directory, name: str, text: str):
    path = directory / name
    path.write_text(text)
    return path


def update(sparql: str):
    return lambda store, directory: store.update(sparql)


def failed_load(text: str):
    def write(store, directory):
        with pytest.raises(LoadError):
            store.load([file(directory, "good.nt", NEW_NT), file(directory, "bad.nt", text)])

    return write


def failed_update(store, directory):
    with pytest.raises(InvalidGeometry):
        store.update('INSERT DATA { <http://example.org/x> geo:asWKT "POINT(30 30)"^^geo:wktLiteral . '
                     '<http://example.org/y> geo:asWKT "POINT(30"^^geo:wktLiteral }')


# name: (the write, whether it makes the index rebuild from the store rather than follow the write)
WRITES = {
    "load": (lambda s, d: s.load([file(d, "new.nt", NEW_NT)]), False),
    "load into a graph": (lambda s, d: s.load([file(d, "new.nt", NEW_NT)], graph=G2), False),
    "load N-Quads": (lambda s, d: s.load([file(d, "new.nq", NEW_NT.replace(" .\n", f" <{G2}> .\n"))]), False),
    "load validated": (lambda s, d: s.load([file(d, "new.nt", NEW_NT)], validated=True), False),
    "load failing on a geometry": (failed_load(f'<http://example.org/z> <{GEO}asWKT> "POINT(1"{WKT} .\n'), False),
    "load failing on syntax": (failed_load(NEW_NT.replace("m>", "w>") + "<http://example.org/broken\n"), False),
    "load_data add": (lambda s, d: s.load_data(NEW_NT.encode(), "ntriples", graph=G1), False),
    "load_data replace a graph": (lambda s, d: s.load_data(NEW_NT.encode(), "ntriples", graph=G1, replace=True), False),
    "load_data replace the default graph": (lambda s, d: s.load_data(NEW_NT.encode(), "ntriples", replace=True), False),
    "load_data replace with nothing": (lambda s, d: s.load_data(b"", "ntriples", graph=G1, replace=True), False),
    "drop_graph": (lambda s, d: s.drop_graph(G1), False),
    "drop_graph default": (lambda s, d: s.drop_graph(None), False),
    "INSERT DATA": (update(f'INSERT DATA {{ GRAPH <{G2}> {{ <http://example.org/x> geo:asWKT "POINT(9 9)"^^geo:wktLiteral }} }}'), False),
    "DELETE DATA": (update('DELETE DATA { <http://example.org/b> geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^geo:wktLiteral }'), False),
    "DELETE DATA of a literal another graph holds": (update('DELETE DATA { <http://example.org/a> geo:asWKT "POINT(1 1)"^^geo:wktLiteral }'), False),
    "DELETE/INSERT WHERE": (update('DELETE { ?s geo:asWKT ?g } INSERT { ?s geo:asWKT "POINT(10 10)"^^geo:wktLiteral } '
                                   "WHERE { ?s geo:asWKT ?g FILTER(?s = <http://example.org/b>) }"), False),
    "DELETE WHERE": (update(f"DELETE WHERE {{ GRAPH <{G1}> {{ ?s geo:asWKT ?g }} }}"), False),
    "CLEAR GRAPH": (update(f"CLEAR GRAPH <{G1}>"), False),
    "CLEAR ALL": (update("CLEAR ALL"), False),
    "DROP DEFAULT": (update("DROP DEFAULT"), False),
    "MOVE": (update(f"MOVE GRAPH <{G1}> TO DEFAULT"), False),
    "COPY": (update(f"COPY DEFAULT TO GRAPH <{G1}>"), False),
    "ADD": (update(f"ADD GRAPH <{G1}> TO GRAPH <{G2}>"), False),
    "STRDT": (update('INSERT { <http://example.org/x> geo:asWKT ?w } WHERE { BIND(STRDT("POINT(9 8)", geo:wktLiteral) AS ?w) }'), True),
    "geof:envelope": (update("INSERT { ?s <http://example.org/box> ?e } WHERE { ?s geo:asWKT ?g BIND(geof:envelope(?g) AS ?e) }"), True),
    "geof:asGeoJSON": (update(f"INSERT {{ GRAPH <{G2}> {{ ?s geo:asGeoJSON ?j }} }} WHERE {{ ?s geo:asWKT ?g BIND(geof:asGeoJSON(?g) AS ?j) }}"), True),
    "a \\u escape in a literal": (update('INSERT DATA { <http://example.org/x> geo:asGeoJSON '
                                         '"{\\"type\\": \\"Point\\", \\"coordinates\\": [1, 2], \\"n\\": \\"\\u00e9\\"}"^^geo:geoJSONLiteral }'), True),
    "a \\u escape in a datatype": (update('INSERT DATA { <http://example.org/x> geo:asWKT '
                                          '"POINT(3 3)"^^<http://www.opengis.net/ont/geosparql#wktLiter\\u0061l> }'), True),
    "a \\u escape in a deleted datatype": (update('DELETE DATA { <http://example.org/b> geo:asWKT "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"'
                                                  '^^<http://www.opengis.net/ont/geosparql#wktLiter\\u0061l> }'), False),
    "an update refused": (failed_update, False),
}

# Writes after which the store holds the same geometry literals as before.
UNCHANGED = {"load failing on a geometry", "load failing on syntax", "an update refused", "ADD",
             "DELETE DATA of a literal another graph holds"}


@pytest.mark.parametrize("write", WRITES)
def test_the_index_follows_every_write(write, store, tmp_path, rebuilds):
    before = assert_in_step(store)
    action, rebuilt = WRITES[write]
    action(store, tmp_path)
    after = assert_in_step(store)
    assert bool(rebuilds) == rebuilt
    assert (after == before) == (write in UNCHANGED)
    if store.path is not None:  # and the saved index describes the store after reopening
        store.close()
        rebuilds.clear()
        reopened = EmbeddedStore(store.path)
        assert assert_in_step(reopened) == after
        assert not rebuilds
        reopened.close()


@pytest.fixture
def closed(directory):
    """A store on disk with its index saved, and its geometry literals."""
    store = EmbeddedStore(directory / "store")
    store.load([file(directory, "default.ttl", DEFAULT)])
    store.load([file(directory, "named.ttl", NAMED)], graph=G1)
    literals = assert_in_step(store)
    store.close()
    assert (store.path / "spatial-index.npz").is_file()
    return store.path, literals


def test_reopening_reads_the_saved_index_without_pickle(closed, rebuilds):
    path, literals = closed
    with np.load(path / "spatial-index.npz", allow_pickle=False) as saved:
        assert len(saved["boxes"]) == len(literals)
    store = EmbeddedStore(path)
    assert assert_in_step(store) == literals
    assert not rebuilds
    store.close()


def test_after_a_crash_the_index_is_rebuilt(closed, rebuilds):
    path, literals = closed
    (path / "spatial-index.npz").unlink()
    store = EmbeddedStore(path)
    assert assert_in_step(store) == literals
    assert rebuilds


def test_a_crash_after_a_write_leaves_no_saved_index(closed, rebuilds):
    path, _ = closed
    store = EmbeddedStore(path)
    store.update('INSERT DATA { <http://example.org/x> geo:asWKT "POINT(9 9)"^^geo:wktLiteral }')
    assert not (path / "spatial-index.npz").exists()
    del store  # no close: RocksDB closes, the index is not saved
    store = EmbeddedStore(path)
    assert any(literal.value == "POINT(9 9)" for literal in assert_in_step(store))
    assert rebuilds
    store.close()


def test_a_crash_without_writes_still_means_a_rebuild(closed, rebuilds):
    path, literals = closed
    store = EmbeddedStore(path)
    store.spatial_index()
    del store  # no close: the store's files changed when RocksDB opened them, the saved index is older
    store = EmbeddedStore(path)
    assert assert_in_step(store) == literals
    assert rebuilds
    store.close()


def test_a_store_written_by_another_program_is_indexed_again(closed, rebuilds):
    path, literals = closed
    other = ox.Store(str(path))
    other.add(ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode(GEO + "asWKT"), ox.Literal("POINT(9 9)", datatype=ox.NamedNode(GEO + "wktLiteral"))))
    other.flush()
    del other
    store = EmbeddedStore(path)
    assert len(assert_in_step(store)) == len(literals) + 1
    assert rebuilds
    store.close()


def test_an_unreadable_saved_index_is_rebuilt(closed, rebuilds):
    path, literals = closed
    saved = path / "spatial-index.npz"
    stat = saved.stat()
    saved.write_bytes(b"not an index")
    os.utime(saved, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    store = EmbeddedStore(path)
    assert assert_in_step(store) == literals
    assert rebuilds
    store.close()


def test_rows_to_check_after_an_untracked_removal_survive_reopening(closed, rebuilds):
    path, _ = closed
    store = EmbeddedStore(path)
    store.update(f"DELETE WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    store.close()  # saved before any answer checked the rows
    store = EmbeddedStore(path)
    assert {literal.value for literal in assert_in_step(store)} == {
        "POINT(1 1)", "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))", '{"type": "Point", "coordinates": [3, 4]}',
        "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(6 5)",
    }
    assert not rebuilds
    store.close()
