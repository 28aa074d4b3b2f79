"""The spatial index: answers equal naive evaluation with the geof: functions; in step with every write."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from kg.embedded import EmbeddedStore
from kg.errors import InvalidGeometry, LoadError
from kg.geosparql.index import RELATIONS, SpatialIndex
from kg.geosparql.literals import geometry_of
from kg.geosparql.registry import FUNCTIONS
from kg.geosparql.vocab import GEO, GEOF, UOM, WKT_LITERAL

WKT = ox.NamedNode(WKT_LITERAL)
GEOJSON = ox.NamedNode(GEO + "geoJSONLiteral")
PATTERNS = ("T*F**F***", "FF*FF****", "****T****")
METRE, DEGREE = ox.NamedNode(UOM + "metre"), ox.NamedNode(UOM + "degree")


def wkt(text: str) -> ox.Literal:
    return ox.Literal(text, datatype=WKT)


def random_literals(rng: random.Random, n: int) -> list[ox.Literal]:
    """Points, lines and polygons on a coarse grid (so that touching and equal shapes occur), some
    in EPSG:4326 (latitude first), Web Mercator and UTM 31N, some GeoJSON, and an empty one."""
    out = [wkt("POINT EMPTY")]
    for _ in range(n):
        x, y = rng.randint(0, 12) / 2, 44 + rng.randint(0, 12) / 2
        w, h = rng.randint(1, 4) / 2, rng.randint(1, 4) / 2
        kind = rng.choice(["point", "line", "box", "box"])
        if kind == "point":
            shape = f"POINT({x} {y})"
        elif kind == "line":
            shape = f"LINESTRING({x} {y}, {x + w} {y + h})"
        else:
            shape = f"POLYGON(({x} {y}, {x + w} {y}, {x + w} {y + h}, {x} {y + h}, {x} {y}))"
        crs = rng.random()
        if crs < 0.1:
            literal = wkt("<http://www.opengis.net/def/crs/EPSG/0/4326> " + _swap(shape))
        elif crs < 0.2:
            literal = FUNCTIONS[GEOF + "transform"](wkt(shape), ox.NamedNode("http://www.opengis.net/def/crs/EPSG/0/3857"))
        elif crs < 0.25:
            literal = FUNCTIONS[GEOF + "transform"](wkt(shape), ox.NamedNode("http://www.opengis.net/def/crs/EPSG/0/32631"))
        elif crs < 0.3:
            literal = FUNCTIONS[GEOF + "asGeoJSON"](wkt(shape))
        else:
            literal = wkt(shape)
        out.append(literal)
    return list(dict.fromkeys(out))


def _swap(shape: str) -> str:
    head, _, body = shape.partition("(")
    pairs = body.rstrip(")").lstrip("(").split(", ")
    swapped = ", ".join(" ".join(reversed(p.split())) for p in pairs)
    return shape.replace(body.rstrip(")").lstrip("("), swapped)


def holds(function: str, *args) -> bool:
    answer = FUNCTIONS[GEOF + function](*args)
    return answer is not None and answer.value == "true"


def keys(literals) -> set[tuple[str, str]]:
    return {(literal.value, literal.datatype.value) for literal in literals}


@pytest.fixture(scope="module")
def data():
    rng = random.Random(7)
    stored = random_literals(rng, 120)
    queries = random_literals(random.Random(8), 10)[1:]
    index = SpatialIndex()
    index.add(stored)
    return index, stored, queries


@pytest.mark.parametrize("relation", [r for r in RELATIONS if r != "relate"] + [f"relate {p}" for p in PATTERNS])
def test_selection_equals_naive_evaluation(data, relation):
    index, stored, queries = data
    name, _, pattern = relation.partition(" ")
    extra = (ox.Literal(pattern),) if pattern else ()
    for query in queries:
        for stored_first in (True, False):
            got = index.select(query, name, pattern=pattern or None, stored_first=stored_first)
            want = [s for s in stored if holds(name, *((s, query) if stored_first else (query, s)), *extra)]
            assert keys(got) == keys(want), (relation, query.value, stored_first)


@pytest.mark.parametrize("distance,unit", [(1.0, METRE), (30_000.0, METRE), (120_000.0, METRE), (0.7, DEGREE)])
def test_distance_selection_equals_naive_evaluation(data, distance, unit):
    index, stored, queries = data
    for query in queries[:5]:
        for inclusive in (False, True):
            want, failed = [], False
            for s in stored:
                try:
                    d = FUNCTIONS[GEOF + "distance"](s, query, unit)
                except InvalidGeometry:  # an angular unit on a projected CRS: the query fails
                    failed = True
                    continue
                if d is not None and (float(d.value) <= distance if inclusive else float(d.value) < distance):
                    want.append(s)
            if failed:
                with pytest.raises(InvalidGeometry):
                    index.within_distance(query, distance, unit.value, inclusive=inclusive)
                continue
            got = index.within_distance(query, distance, unit.value, inclusive=inclusive)
            assert keys(got) == keys(want), (query.value, distance, unit.value)


@pytest.mark.parametrize("relation", ["sfIntersects", "sfTouches", "sfWithin", "sfDisjoint", "rcc8ec", "ehCovers"])
def test_join_equals_naive_evaluation(data, relation):
    index, stored, _ = data
    left, right = stored[:50], stored[30:]
    got = index.join(relation, left, right)
    want = [(a, b) for a in left for b in right if holds(relation, a, b)]
    assert {(a.value, b.value) for a, b in got} == {(a.value, b.value) for a, b in want}
    assert len(index.join(relation)) == sum(holds(relation, a, b) for a in stored for b in stored)


def test_distance_join_equals_naive_evaluation(data):
    index, stored, _ = data
    left, right = stored[:40], stored[40:90]
    got = index.join_within_distance(25_000, left=left, right=right)
    want = [(a, b) for a in left for b in right
            if (d := FUNCTIONS[GEOF + "distance"](a, b, METRE)) is not None and float(d.value) < 25_000]
    assert {(a.value, b.value) for a, b in got} == {(a.value, b.value) for a, b in want}


def test_query_may_be_a_parsed_geometry(data):
    index, stored, queries = data
    assert keys(index.select(geometry_of(queries[0]), "sfIntersects")) == keys(index.select(queries[0], "sfIntersects"))


# --- in step with the store ----------------------------------------------------------------


TRUTH = ("SELECT DISTINCT ?o { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } "
         f"FILTER(isLiteral(?o) && DATATYPE(?o) IN (<{WKT_LITERAL}>, <{GEO}geoJSONLiteral>)) }}")


def in_step(store: EmbeddedStore) -> set:
    indexed = keys(store.spatial_index().literals())
    truth = keys(row["o"] for row in store.query(TRUTH).bindings())
    assert indexed == truth
    # answers come only from literals the store holds (rows an update may have removed are checked)
    everything = geometry_of(wkt("POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90))"))
    assert keys(store.spatial_index().select(everything, "sfIntersects")) == {k for k in truth if "EMPTY" not in k[0]}
    return truth


def nt(subject: str, text: str) -> str:
    return f'<http://ex.org/{subject}> <{GEO}asWKT> "{text}"^^<{WKT_LITERAL}> .\n'
