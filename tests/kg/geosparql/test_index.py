"""The spatial index: answers equal naive evaluation with the geof: functions; in step with every write."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError, InvalidGeometry, LoadError
from kg.geosparql import index as index_module
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
    queries = random_literals(random.Random(8), 10)[1:] + MULTI_PART
    index = SpatialIndex()
    index.add(stored)
    return index, stored, queries


MULTI_PART = [  # each part's envelope is searched, not the whole one's
    wkt("MULTIPOLYGON(((0 44, 1 44, 1 45, 0 45, 0 44)), ((5 49, 6 49, 6 50, 5 50, 5 49)))"),
    wkt("GEOMETRYCOLLECTION(POINT(2 46), LINESTRING(4 47, 5 48), POLYGON((1 44, 2 44, 2 45, 1 45, 1 44)))"),
    wkt("MULTIPOINT((0.5 44.5), (3 47), (6 50))"),
]


def test_a_multi_part_query_searches_under_its_parts_only():
    index = SpatialIndex()
    between, inside = wkt("POINT(3 47)"), wkt("POINT(0.5 44.5)")
    index.add([between, inside])
    index._compile()
    scattered = geometry_of(MULTI_PART[0])
    assert index.select(MULTI_PART[0], "sfIntersects") == [inside]
    assert len(index._candidates(*(index_module._envelope(p, scattered.crs) for p in index_module._parts(scattered.shape)))) == 1


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


# --- nearest neighbours --------------------------------------------------------------------


def ranked(candidates, query, unit=METRE) -> list[tuple[float, str, str]]:
    """Brute force: (geof:distance(g, query, unit), lexical form, datatype) of each candidate once, sorted;
    unbound (empty) and failing ones left out."""
    out = []
    for candidate in dict.fromkeys(candidates):
        try:
            d = FUNCTIONS[GEOF + "distance"](candidate, query, unit)
        except GeoKGError:
            continue
        if d is not None:
            out.append((float(d.value), candidate.value, candidate.datatype.value))
    return sorted(out)


def first(rows, k: int, max_distance: float | None = None, inclusive: bool = True) -> list:
    if max_distance is not None:
        rows = [r for r in rows if (r[0] <= max_distance if inclusive else r[0] < max_distance)]
    return rows[: max(k, 0)]


def answered(pairs) -> list[tuple[float, str, str]]:
    return [(d, literal.value, literal.datatype.value) for literal, d in pairs]


@pytest.mark.parametrize("max_distance", [None, 0.0, 40_000.0, 150_000.0])
def test_nearest_equals_brute_force(data, max_distance):
    index, stored, queries = data
    for query in queries:
        want = ranked(stored, query)
        for k in (0, 1, 2, 5, 17, 60, 500):  # 500: more than the index holds
            for inclusive in (True, False):
                got = index.nearest(query, k, max_distance=max_distance, inclusive=inclusive)
                assert answered(got) == first(want, k, max_distance, inclusive), (query.value, k, inclusive)


def test_nearest_in_degrees_leaves_out_projected_rows(data):
    index, stored, queries = data
    for query in queries[:4]:
        want = ranked(stored, query, DEGREE)  # rows in projected CRSs fail: left out
        for k, max_distance in ((1, None), (8, None), (30, 0.6), (500, None)):
            got = index.nearest(query, k, max_distance=max_distance, unit_iri=DEGREE.value)
            assert answered(got) == first(want, k, max_distance), (query.value, k)


def test_nearest_among_given_literals(data):
    index, stored, queries = data
    rng = random.Random(9)
    junk = [ox.Literal("POINT(1 1)"), wkt("POINT(1"), ox.NamedNode("http://ex.org/a"), wkt("POINT EMPTY")]
    for query in queries[:5]:
        among = rng.sample(stored, 40) + queries[5:] + junk  # queries[5:] are not indexed
        among += among[:10]  # each literal counts once
        want = ranked(among, query)
        for k, max_distance in ((1, None), (6, None), (25, 80_000.0), (100, None)):
            got = index.nearest(query, k, max_distance=max_distance, among=among)
            assert answered(got) == first(want, k, max_distance), (query.value, k)
    assert index.nearest(queries[0], 3, among=[]) == []


def test_nearest_breaks_ties_by_lexical_form_then_datatype():
    point = wkt("POINT(1 1)")
    ties = [point, wkt("POINT (1 1)"), wkt("POINT(1.0 1.0)"), wkt("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POINT(1 1)"),
            FUNCTIONS[GEOF + "asGeoJSON"](point)]
    stored = [wkt("POINT(2 2)"), *ties, wkt("POINT(0 0)")]
    index = SpatialIndex()
    index.add(stored)
    query = wkt("POINT(3 3)")
    got = answered(index.nearest(query, 4))
    assert got == ranked(stored, query)[:4]
    assert got[0][1] == "POINT(2 2)"
    assert len({d for d, *_ in got[1:]}) == 1 and got[1:] == sorted(got[1:])
    assert answered(index.nearest(query, 3, among=ties)) == sorted(ranked(ties, query))[:3]


def test_nearest_of_nothing():
    query = wkt("POINT(1 1)")
    assert SpatialIndex().nearest(query, 3) == []
    index = SpatialIndex()
    index.add([wkt("POINT EMPTY"), wkt("POLYGON EMPTY")])
    assert index.nearest(query, 3) == []
    index.add([query])
    assert answered(index.nearest(query, 3)) == [(0.0, "POINT(1 1)", WKT_LITERAL)]
    assert index.nearest(wkt("POINT EMPTY"), 3) == [] and index.nearest(query, 0) == [] and index.nearest(query, -1) == []
    assert index.nearest(query, 3, max_distance=-1.0) == [] and index.nearest(query, 3, max_distance=0.0, inclusive=False) == []
    assert index.nearest(geometry_of(query), 1) == index.nearest(query, 1)


def test_nearest_over_many_points_equals_brute_force():
    """Points all over the globe, in a main and a delta tree: near the poles and across the antimeridian."""
    rng = random.Random(12)
    points = [wkt(f"POINT({rng.uniform(-180, 180):.4f} {rng.uniform(-90, 90):.4f})") for _ in range(3000)]
    points += [wkt(f"POINT({x}.5 {y}.5)") for x in range(3) for y in range(3)] * 2  # duplicates answer once
    index = SpatialIndex()
    index.add(points[:2400])
    index.nearest(wkt("POINT(0 0)"), 1)
    index.add(points[2400:])
    queries = ["POINT(179.95 0.1)", "POINT(-179.99 -10)", "POINT(0 89.9)", "POINT(10 -89.5)", "POINT(1.5 1.5)",
               *(f"POINT({rng.uniform(-180, 180)} {rng.uniform(-90, 90)})" for _ in range(6))]
    for query in map(wkt, queries):
        want = ranked(points, query)
        for k, max_distance in ((1, None), (7, None), (40, None), (40, 600_000.0), (3, 1.0)):
            got = index.nearest(query, k, max_distance=max_distance)
            assert answered(got) == first(want, k, max_distance), (query.value, k, max_distance)
        among = points[::5]
        assert answered(index.nearest(query, 12, among=among)) == first(ranked(among, query), 12)


def test_nearest_answers_only_literals_the_store_holds():
    rng = random.Random(13)
    points = [wkt(f"POINT({rng.uniform(0, 1):.4f} {rng.uniform(0, 1):.4f})") for _ in range(300)]
    gone = set(points[::3])
    index = SpatialIndex(exists=lambda literal: literal not in gone)
    index.add(points)
    query = wkt("POINT(0.5 0.5)")
    index.nearest(query, 1)
    index.may_have_removed()
    want = ranked([p for p in points if p not in gone], query)
    for k in (1, 5, 50, 400):
        assert answered(index.nearest(query, k)) == first(want, k)
