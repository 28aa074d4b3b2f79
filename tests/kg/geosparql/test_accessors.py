"""Properties of one geometry against shapely: bounds (in the literal's axis order), dimensions,
parts, type, emptiness, simplicity, z and m."""

from __future__ import annotations

import pytest
from geosparql_helpers import EPSG, call, geojson, wkt
from pyoxigraph import Literal

from kg.errors import InvalidGeometry
from kg.geosparql.vocab import SF

CASES = {
    # text: (dimension, coordinateDimension, spatialDimension, is3D, isMeasured, isEmpty, isSimple, numGeometries, type)
    "POINT(1 2)": (0, 2, 2, False, False, False, True, 1, "Point"),
    "POINT Z(1 2 3)": (0, 3, 3, True, False, False, True, 1, "Point"),
    "POINT M(1 2 3)": (0, 3, 2, False, True, False, True, 1, "Point"),
    "POINT ZM(1 2 3 4)": (0, 4, 3, True, True, False, True, 1, "Point"),
    "LINESTRING(0 0, 1 1, 0 1, 1 0)": (1, 2, 2, False, False, False, False, 1, "LineString"),
    "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 8 2, 8 8, 2 8, 2 2))": (2, 2, 2, False, False, False, True, 1, "Polygon"),
    "MULTIPOINT((0 0), (1 1), (2 2))": (0, 2, 2, False, False, False, True, 3, "MultiPoint"),
    "MULTILINESTRING((0 0, 1 1), (2 2, 3 3))": (1, 2, 2, False, False, False, True, 2, "MultiLineString"),
    "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))": (2, 2, 2, False, False, False, True, 2, "MultiPolygon"),
    "GEOMETRYCOLLECTION(POINT(5 5), POLYGON((0 0, 1 0, 1 1, 0 0)))": (2, 2, 2, False, False, False, True, 2, "GeometryCollection"),
    "POLYGON EMPTY": (-1, 2, 2, False, False, True, True, 0, "Polygon"),
}
NAMES = ("dimension", "coordinateDimension", "spatialDimension", "is3D", "isMeasured", "isEmpty", "isSimple", "numGeometries")


@pytest.mark.parametrize("text", CASES)
@pytest.mark.parametrize("index", range(len(NAMES)))
def test_geometry_properties(text, index):
    assert call(NAMES[index], wkt(text)) == CASES[text][index]


@pytest.mark.parametrize("text", CASES)
def test_geometry_type(text):
    assert call("geometryType", wkt(text)) == SF + CASES[text][-1]


def test_bounds_in_the_literals_axis_order():
    polygon = "POLYGON Z((-83.4 34.0 0, -83.1 34.0 1, -83.1 34.2 1, -83.4 34.2 1, -83.4 34.0 0))"
    assert [call(f, wkt(polygon)) for f in ("minX", "maxX", "minY", "maxY", "minZ", "maxZ")] == [-83.4, -83.1, 34.0, 34.2, 0.0, 1.0]
    lat_lon = wkt("POLYGON((34.0 -83.4, 34.0 -83.1, 34.2 -83.1, 34.0 -83.4))", EPSG + "4326")
    assert [call(f, lat_lon) for f in ("minX", "maxX", "minY", "maxY")] == [34.0, 34.2, -83.4, -83.1]
    assert call("minZ", wkt("POINT(1 2)")) is None  # no z: undefined
    assert call("maxX", wkt("POINT EMPTY")) is None
    assert call("maxY", geojson('{"type": "LineString", "coordinates": [[1, 2], [3, 4]]}')) == 4.0


def test_geometry_n_is_one_based():
    multi = wkt("MULTIPOINT((0 0), (1 1), (2 2))", EPSG + "32633")
    assert call("geometryN", multi, Literal(2)) == f"<{EPSG}32633> POINT (1 1)"
    assert call("geometryN", wkt("POINT(5 6)"), Literal(1)) == "POINT (5 6)"
    with pytest.raises(InvalidGeometry, match="geof:geometryN: geometry index 4 is out of range: the geometry has 3 part"):
        call("geometryN", multi, Literal(4))
    with pytest.raises(InvalidGeometry, match="must be an integer"):
        call("geometryN", multi, Literal(1.5))
