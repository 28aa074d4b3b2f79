"""The spatial aggregates against shapely on the collected inputs, CRS handling, empty groups and
failures reported on the evaluation context through a real pyoxigraph query."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import shapely
from geosparql_helpers import EPSG, aggregate, wkt

from kg.errors import InvalidGeometry
from kg.geosparql.context import EvaluationContext
from kg.geosparql.literals import parse_literal
from kg.geosparql.registry import custom_aggregates
from kg.geosparql.vocab import GEO, GEOF, WKT_LITERAL

INPUTS = ["POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))", "POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))", "POINT(5 0)", "LINESTRING(0 4, 1 5)"]
SHAPES = [shapely.from_wkt(t) for t in INPUTS]
EXPECTED = {
    "aggBoundingBox": shapely.envelope(shapely.GeometryCollection(SHAPES)),
    "aggBoundingCircle": shapely.minimum_bounding_circle(shapely.GeometryCollection(SHAPES)),
    "aggCentroid": shapely.centroid(shapely.union_all(SHAPES)),
    "aggConcaveHull": shapely.concave_hull(shapely.GeometryCollection(SHAPES), ratio=0.3),
    "aggConvexHull": shapely.convex_hull(shapely.GeometryCollection(SHAPES)),
    "aggUnion": shapely.union_all(SHAPES),
}


def shape_of(term) -> shapely.Geometry:
    return parse_literal(term.value, WKT_LITERAL).shape


@pytest.mark.parametrize("name", EXPECTED)
def test_aggregate_matches_shapely(name):
    got = shape_of(aggregate(name, *(wkt(t) for t in INPUTS)))
    assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(EXPECTED[name]), tolerance=1e-9) or shapely.equals(got, EXPECTED[name])


@pytest.mark.parametrize("name", EXPECTED)
def test_empty_group_gives_the_empty_geometry(name):
    assert aggregate(name).value == "GEOMETRYCOLLECTION EMPTY"


def test_inputs_are_moved_into_the_crs_of_the_first():
    first = wkt("POINT(50 10)", EPSG + "4326")  # 10 E, 50 N
    box = aggregate("aggBoundingBox", first, wkt("POINT(11 51)"))
    assert box.value == f"<{EPSG}4326> POLYGON ((50 10, 50 11, 51 11, 51 10, 50 10))"


def test_aggregates_in_a_query_report_bad_literals():
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    for i, text in enumerate(["POINT(0 0)", "POINT(2 1)", "POINT(1"]):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/{i}"), p, wkt(text)))
    context = EvaluationContext()
    query = f"SELECT (<{GEOF}aggConvexHull>(?g) AS ?hull) WHERE {{ ?s <http://example.org/p> ?g }}"
    rows = list(store.query(query, custom_aggregate_functions=custom_aggregates(context)))
    assert rows[0]["hull"] is None
    with pytest.raises(InvalidGeometry, match='geof:aggConvexHull: invalid WKT literal "POINT\\(1"'):
        context.raise_if_failed()


def test_grouped_aggregates_in_a_query():
    store = ox.Store()
    p, g = ox.NamedNode("http://example.org/p"), ox.NamedNode("http://example.org/group")
    for i, text in enumerate(INPUTS):
        s = ox.NamedNode(f"http://example.org/{i}")
        store.add(ox.Quad(s, p, wkt(text)))
        store.add(ox.Quad(s, g, ox.Literal(i % 2)))
    context = EvaluationContext()
    query = f"""SELECT ?k (<{GEOF}aggUnion>(?w) AS ?u) WHERE {{ ?s <http://example.org/p> ?w ; <http://example.org/group> ?k }}
                GROUP BY ?k ORDER BY ?k"""
    rows = list(store.query(query, custom_aggregate_functions=custom_aggregates(context)))
    context.raise_if_failed()
    assert shapely.equals(shape_of(rows[0]["u"]), shapely.union(SHAPES[0], SHAPES[2]))
    assert shapely.equals(shape_of(rows[1]["u"]), shapely.union(SHAPES[1], SHAPES[3]))
    assert rows[0]["u"].datatype == ox.NamedNode(GEO + "wktLiteral")
