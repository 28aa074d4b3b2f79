"""Distances, areas, lengths and perimeters against independent computations: pyproj Geod on the
WGS84 ellipsoid for geographic CRSs, shapely in metres for projected ones, and unit conversions."""

from __future__ import annotations

import pyproj
import pytest
import shapely
from geosparql_helpers import DEGREE, EPSG, HECTARE, KILOMETRE, METRE, RADIAN, call, wkt
from pyoxigraph import NamedNode

from kg.errors import InvalidGeometry
from kg.geosparql.vocab import QUDT_UNIT, UOM

GEOD = pyproj.Geod(ellps="WGS84")
TO_UTM = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:32633", always_xy=True)
FIELD = "POLYGON((15 52, 15.01 52, 15.01 52.01, 15 52.01, 15 52))"
HOLED = "POLYGON((15 52, 15.1 52, 15.1 52.1, 15 52.1, 15 52), (15.02 52.02, 15.05 52.02, 15.05 52.05, 15.02 52.05, 15.02 52.02))"


def geod_area(text: str) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(shapely.from_wkt(text)))[0])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((0, 0), (1, 0)),
        ((15, 52), (15.3, 52.2)),
        ((-83.4, 34.3), (151.2, -33.9)),  # across the globe
        ((179.9, 10), (-179.9, 10)),  # across the antimeridian
    ],
)
def test_point_distance_is_geodesic(a, b):
    expected = GEOD.inv(a[0], a[1], b[0], b[1])[2]
    got = call("distance", wkt(f"POINT({a[0]} {a[1]})"), wkt(f"POINT({b[0]} {b[1]})"), METRE)
    assert got == pytest.approx(expected, rel=1e-9)
    assert call("metricDistance", wkt(f"POINT({a[0]} {a[1]})"), wkt(f"POINT({b[0]} {b[1]})")) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("first", "second", "nearest"),
    [
        ("LINESTRING(15 52, 15 53)", "POINT(15.2 52.5)", ((15, 52.5), (15.2, 52.5))),
        (FIELD, "POINT(15.005 52.1)", ((15.005, 52.01), (15.005, 52.1))),
        ("POLYGON((10 50, 11 50, 11 51, 10 51, 10 50))", "POLYGON((11.5 50.2, 12 50.2, 12 50.4, 11.5 50.4, 11.5 50.2))", None),
    ],
)
def test_geometry_distance_is_the_geodesic_between_nearest_points(first, second, nearest):
    got = call("distance", wkt(first), wkt(second), METRE)
    if nearest is None:  # brute force: smallest geodesic distance between densified boundaries
        a = shapely.get_coordinates(shapely.segmentize(shapely.boundary(shapely.from_wkt(first)), 0.002))
        b = shapely.get_coordinates(shapely.segmentize(shapely.boundary(shapely.from_wkt(second)), 0.002))
        a = a[a[:, 0] > 10.9]  # only the facing sides can be nearest
        b = b[b[:, 0] < 11.6]
        expected = min(GEOD.inv([x] * len(b), [y] * len(b), b[:, 0], b[:, 1])[2].min() for x, y in a)
        assert got == pytest.approx(expected, rel=1e-4)
    else:
        (x1, y1), (x2, y2) = nearest
        assert got == pytest.approx(GEOD.inv(x1, y1, x2, y2)[2], rel=1e-4)


def test_intersecting_geometries_are_at_distance_zero():
    assert call("distance", wkt(FIELD), wkt("POINT(15.005 52.005)"), METRE) == 0.0


def test_distance_to_an_empty_geometry_is_undefined():
    assert call("distance", wkt("POINT EMPTY"), wkt("POINT(1 1)"), METRE) is None


@pytest.mark.parametrize(
    ("unit", "factor"),
    [(METRE, 1.0), (KILOMETRE, 1e-3), (NamedNode(QUDT_UNIT + "FT"), 1 / 0.3048), (NamedNode(QUDT_UNIT + "MI"), 1 / 1609.344),
     (NamedNode(QUDT_UNIT + "M"), 1.0), (NamedNode("http://www.opengis.net/def/uom/EPSG/0/9001"), 1.0)],
)
def test_linear_units(unit, factor):
    metres = GEOD.inv(15, 52, 15.3, 52.2)[2]
    assert call("distance", wkt("POINT(15 52)"), wkt("POINT(15.3 52.2)"), unit) == pytest.approx(metres * factor)


def test_angular_units_are_planar_degrees_on_geographic_crs():
    assert call("distance", wkt("POINT(0 0)"), wkt("POINT(3 4)"), DEGREE) == pytest.approx(5.0)
    assert call("distance", wkt("POINT(0 0)"), wkt("POINT(3 4)"), RADIAN) == pytest.approx(5.0 * 3.141592653589793 / 180)


def test_angular_units_are_refused_for_projected_crs():
    with pytest.raises(InvalidGeometry, match="geof:distance: .*needs a geographic CRS.*32633"):
        call("distance", wkt("POINT(0 0)", EPSG + "32633"), wkt("POINT(3 4)", EPSG + "32633"), DEGREE)


def test_unknown_unit_is_named():
    with pytest.raises(InvalidGeometry, match="Unknown unit of measure <http://example.org/furlong>.*uom:metre"):
        call("distance", wkt("POINT(0 0)"), wkt("POINT(3 4)"), NamedNode("http://example.org/furlong"))


def test_projected_crs_measures_in_its_own_units():
    a, b = TO_UTM.transform(15, 52), TO_UTM.transform(15.3, 52.2)
    utm = lambda p: wkt(f"POINT({p[0]} {p[1]})", EPSG + "32633")  # noqa: E731
    assert call("distance", utm(a), utm(b), METRE) == pytest.approx(shapely.Point(a).distance(shapely.Point(b)))
    # within the UTM scale error (< 0.1 %) of the geodesic
    assert call("distance", utm(a), utm(b), METRE) == pytest.approx(GEOD.inv(15, 52, 15.3, 52.2)[2], rel=1e-3)


def test_us_foot_crs_converts_to_metres():
    # EPSG:2263 (NY Long Island) counts in US survey feet
    assert call("distance", wkt("POINT(0 0)", EPSG + "2263"), wkt("POINT(1000 0)", EPSG + "2263"), METRE) == pytest.approx(
        1000 * 1200 / 3937
    )


def test_web_mercator_is_measured_on_the_ellipsoid():
    to_merc = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    a, b = to_merc.transform(15, 60), to_merc.transform(16, 60)
    merc = lambda p: wkt(f"POINT({p[0]} {p[1]})", EPSG + "3857")  # noqa: E731
    assert call("distance", merc(a), merc(b), METRE) == pytest.approx(GEOD.inv(15, 60, 16, 60)[2], rel=1e-9)


@pytest.mark.parametrize("polygon", [FIELD, HOLED, "POLYGON((15 52, 15 52.01, 15.01 52.01, 15.01 52, 15 52))"])
def test_area_is_geodesic(polygon):
    assert call("area", wkt(polygon), METRE) == pytest.approx(geod_area(polygon), rel=1e-9)
    assert call("metricArea", wkt(polygon)) == pytest.approx(geod_area(polygon), rel=1e-9)


def test_area_units_and_parts():
    metres = geod_area(FIELD)
    assert call("area", wkt(FIELD), HECTARE) == pytest.approx(metres / 1e4)
    assert call("area", wkt(FIELD), KILOMETRE) == pytest.approx(metres / 1e6)  # square of a linear unit
    assert call("area", wkt(FIELD), NamedNode(QUDT_UNIT + "M2")) == pytest.approx(metres)
    assert call("area", wkt(FIELD), DEGREE) == pytest.approx(1e-4)  # square degrees, planar
    multi = f"GEOMETRYCOLLECTION({FIELD}, POINT(0 0), LINESTRING(0 0, 1 1))"
    assert call("area", wkt(multi), METRE) == pytest.approx(metres)
    assert call("area", wkt("LINESTRING(0 0, 1 1)"), METRE) == 0.0
    assert call("area", wkt("POLYGON EMPTY"), METRE) == 0.0


def test_area_in_lat_lon_crs_and_projected_crs():
    lat_lon = "POLYGON((52 15, 52 15.01, 52.01 15.01, 52.01 15, 52 15))"
    assert call("area", wkt(lat_lon, EPSG + "4326"), METRE) == pytest.approx(geod_area(FIELD), rel=1e-9)
    utm = shapely.transform(shapely.from_wkt(FIELD), lambda c: __import__("numpy").column_stack(TO_UTM.transform(*c.T)))
    assert call("area", wkt(utm.wkt, EPSG + "32633"), METRE) == pytest.approx(utm.area)
    laea = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:3035", always_xy=True)
    equal_area = shapely.transform(shapely.from_wkt(FIELD), lambda c: __import__("numpy").column_stack(laea.transform(*c.T)))
    swapped = shapely.transform(equal_area, lambda c: c[:, ::-1])  # EPSG:3035 is northing first
    assert call("area", wkt(swapped.wkt, EPSG + "3035"), METRE) == pytest.approx(geod_area(FIELD), rel=1e-4)


def test_length_and_perimeter():
    line = "MULTILINESTRING((15 52, 15.1 52.1, 15.2 52), (0 0, 0 1))"
    expected = GEOD.line_length([15, 15.1, 15.2], [52, 52.1, 52]) + GEOD.line_length([0, 0], [0, 1])
    assert call("length", wkt(line), METRE) == pytest.approx(expected, rel=1e-9)
    assert call("metricLength", wkt(line)) == pytest.approx(expected, rel=1e-9)
    assert call("length", wkt(line), KILOMETRE) == pytest.approx(expected / 1000, rel=1e-9)
    assert call("perimeter", wkt(line), METRE) == 0.0
    ring = GEOD.line_length([15, 15.01, 15.01, 15, 15], [52, 52, 52.01, 52.01, 52])
    assert call("perimeter", wkt(FIELD), METRE) == pytest.approx(ring, rel=1e-9)
    assert call("metricPerimeter", wkt(FIELD)) == pytest.approx(ring, rel=1e-9)
    assert call("length", wkt(FIELD), METRE) == pytest.approx(ring, rel=1e-9)  # GEOS: a polygon's length is its boundary's
    holed = shapely.from_wkt(HOLED)
    rings = sum(GEOD.line_length(*r.xy) for r in [holed.exterior, *holed.interiors])
    assert call("perimeter", wkt(HOLED), METRE) == pytest.approx(rings, rel=1e-9)
    assert call("length", wkt("LINESTRING Z(15 52 0, 15.1 52.1 100)"), METRE) == pytest.approx(
        GEOD.line_length([15, 15.1], [52, 52.1]), rel=1e-9
    )
    assert call("length", wkt("POINT(1 1)"), METRE) == 0.0
    assert call("length", wkt("LINESTRING(0 0, 3 4)"), DEGREE) == pytest.approx(5.0)


def test_length_in_projected_crs():
    assert call("length", wkt("LINESTRING(500000 5700000, 503000 5704000)", EPSG + "32633"), METRE) == pytest.approx(5000.0)
    assert call("length", wkt("LINESTRING(500000 5700000, 503000 5704000)", EPSG + "32633"), KILOMETRE) == pytest.approx(5.0)


def test_ogc_uom_namespace():
    assert UOM == "http://www.opengis.net/def/uom/OGC/1.0/"
