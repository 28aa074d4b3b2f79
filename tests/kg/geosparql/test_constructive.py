"""Constructed geometries against shapely on the same coordinates, buffers against pyproj Geod,
and the CRS of results (the first argument's, written as a WKT prefix unless CRS84)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from geosparql_helpers import DEGREE, EPSG, KILOMETRE, METRE, call, num, wkt
from pyoxigraph import Literal, NamedNode

from kg.errors import InvalidGeometry, UnknownCRS
from kg.geosparql.literals import parse_literal
from kg.geosparql.vocab import WKT_LITERAL

GEOD = pyproj.Geod(ellps="WGS84")
SQUARE = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))"
OTHER = "POLYGON((2 2, 6 2, 6 6, 2 6, 2 2))"
SHAPES = {
    "point": "POINT(1 2)",
    "line": "LINESTRING(0 0, 3 4, 5 0)",
    "square": SQUARE,
    "holed": "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 8 2, 8 8, 2 8, 2 2))",
    "multi": "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)), ((3 3, 4 3, 4 4, 3 4, 3 3)))",
    "multipoint": "MULTIPOINT((0 0), (4 0), (2 3), (2 1))",
    "polygon_3d": "POLYGON Z((0 0 1, 4 0 2, 4 4 3, 0 4 4, 0 0 1))",
    "collection": "GEOMETRYCOLLECTION(POINT(2 2), LINESTRING(5 5, 6 6))",
    "empty": "POLYGON EMPTY",
}
UNARY = {
    "boundary": None,  # collections: boundary of each part
    "centroid": shapely.centroid,
    "envelope": shapely.envelope,
    "convexHull": shapely.convex_hull,
    "boundingCircle": shapely.minimum_bounding_circle,
}
BINARY = {
    "intersection": shapely.intersection,
    "union": shapely.union,
    "difference": shapely.difference,
    "symDifference": shapely.symmetric_difference,
}


def shape_of(text: str) -> shapely.Geometry:
    return parse_literal(text, WKT_LITERAL).shape


def same(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    if a.is_empty or b.is_empty:
        return a.is_empty and b.is_empty
    return shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-9) or shapely.equals(a, b)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_constructors_match_shapely(name, shape):
    geometry = shapely.from_wkt(SHAPES[shape])
    operation = UNARY[name] or shapely.boundary
    if name == "boundary" and shape == "collection":
        expected = shapely.GeometryCollection([shapely.boundary(g) for g in geometry.geoms if not shapely.boundary(g).is_empty])
    else:
        expected = operation(geometry)
    assert same(shape_of(call(name, wkt(SHAPES[shape]))), expected)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_binary_constructors_match_shapely(name, shape):
    expected = BINARY[name](shapely.from_wkt(SHAPES[shape]), shapely.from_wkt(OTHER))
    got = shape_of(call(name, wkt(SHAPES[shape]), wkt(OTHER)))
    assert same(got, expected)


def test_results_are_in_the_crs_of_the_first_argument():
    lat_lon = wkt("POLYGON((0 0, 0 4, 4 4, 4 0, 0 0))", EPSG + "4326")  # the square, latitude first
    answer = call("intersection", lat_lon, wkt(OTHER))
    assert answer.startswith(f"<{EPSG}4326> POLYGON")
    assert shapely.equals(shape_of(answer), shapely.from_wkt("POLYGON((2 2, 4 2, 4 4, 2 4, 2 2))"))
    assert not call("union", wkt(SQUARE), lat_lon).startswith("<")  # CRS84: no prefix


def test_concave_hull():
    points = "MULTIPOINT((0 0), (1 0), (1 1), (0 1), (0.5 0.6))"
    expected = shapely.concave_hull(shapely.from_wkt(points), ratio=0.1)
    assert shapely.equals(shape_of(call("concaveHull", wkt(points), num(0.1))), expected)
    assert shapely.equals(shape_of(call("concaveHull", wkt(points), num(1))), shapely.convex_hull(shapely.from_wkt(points)))
    assert call("concaveHull", wkt(points)) is not None
    with pytest.raises(InvalidGeometry, match="geof:concaveHull: the concave hull ratio must be between 0"):
        call("concaveHull", wkt(points), num(30))


@pytest.mark.parametrize(("lon", "lat"), [(0, 0), (15, 52), (-70, -60), (139.7, 35.7)])
def test_metre_buffer_of_a_point_is_a_geodesic_circle(lon, lat):
    circle = shape_of(call("buffer", wkt(f"POINT({lon} {lat})"), num(1000), METRE))
    xy = shapely.get_coordinates(circle)
    radii = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2]
    assert radii == pytest.approx(1000, rel=2e-4)
    assert shape_of(call("metricBuffer", wkt(f"POINT({lon} {lat})"), num(1000))).equals(circle)
    assert shape_of(call("buffer", wkt(f"POINT({lon} {lat})"), num(1), KILOMETRE)).equals(circle)


def test_metre_buffer_of_a_polygon_keeps_its_distance():
    field = "POLYGON((15 52, 15.01 52, 15.01 52.01, 15 52.01, 15 52))"
    grown = shape_of(call("buffer", wkt(field), num(500), METRE))
    outline = shapely.get_coordinates(grown.exterior)  # vertices lie on the true offset curve
    edge = shapely.get_coordinates(shapely.segmentize(shapely.from_wkt(field).exterior, 0.00002))
    nearest = np.array([GEOD.inv(np.full(len(edge), x), np.full(len(edge), y), edge[:, 0], edge[:, 1])[2].min() for x, y in outline])
    assert nearest == pytest.approx(500, rel=1e-6)
    shrunk = shape_of(call("buffer", wkt(field), num(-100), METRE))
    assert shapely.within(shrunk, shapely.from_wkt(field))


def test_buffer_in_projected_crs_and_in_degrees():
    got = shape_of(call("buffer", wkt("POINT(500000 5700000)", EPSG + "32633"), num(2), KILOMETRE))
    assert shapely.equals_exact(got, shapely.buffer(shapely.Point(500000, 5700000), 2000), tolerance=1e-6)
    degrees = shape_of(call("buffer", wkt("POINT(10 50)"), num(0.5), DEGREE))
    assert shapely.equals_exact(degrees, shapely.buffer(shapely.Point(10, 50), 0.5), tolerance=1e-9)
    with pytest.raises(InvalidGeometry, match="geof:buffer: a buffer in the angular unit"):
        call("buffer", wkt("POINT(500000 5700000)", EPSG + "32633"), num(1), DEGREE)
    with pytest.raises(InvalidGeometry, match="geof:buffer: the buffer radius must be a finite number"):
        call("buffer", wkt("POINT(1 1)"), Literal("far"), METRE)
    assert call("buffer", wkt("POINT EMPTY"), num(1), METRE) == "POINT EMPTY"


@pytest.mark.parametrize(("code", "point"), [("32633", (15, 52)), ("3035", (10, 52)), ("4326", (15, 52)), ("3857", (-83.4, 34.3))])
def test_transform_matches_pyproj_and_axis_order(code, point):
    crs = pyproj.CRS.from_epsg(int(code))
    x, y = pyproj.Transformer.from_crs("OGC:CRS84", crs).transform(*point)  # authority axis order
    answer = call("transform", wkt(f"POINT({point[0]} {point[1]})"), NamedNode(EPSG + code))
    prefix, body = answer.split("> ")
    assert prefix == f"<{EPSG}{code}"
    written = shapely.from_wkt(body)
    assert (written.x, written.y) == pytest.approx((x, y), rel=1e-9)
    back = call("transform", wkt(answer[len(prefix) + 2 :], EPSG + code), Literal("http://www.opengis.net/def/crs/OGC/1.3/CRS84"))
    assert shape_of(back).x == pytest.approx(point[0]) and shape_of(back).y == pytest.approx(point[1])


def test_transform_keeps_z_and_rejects_unknown_crs():
    answer = call("transform", wkt("POINT Z(15 52 100)"), NamedNode(EPSG + "32633"))
    assert shapely.get_coordinates(shape_of(answer), include_z=True)[0, 2] == pytest.approx(100)
    with pytest.raises(UnknownCRS, match=r"geof:transform: Unknown CRS IRI <http://www.opengis.net/def/crs/EPSG/0/999999>"):
        call("transform", wkt("POINT(1 1)"), NamedNode(EPSG + "999999"))
