"""The eekgfn: functions against independent computations, and their lexical forms against XSD."""

from __future__ import annotations

import doctest
import inspect
import math
import re

import pandas as pd
import pytest
import shapely
from mapping_helpers import GEOD, geodesic_area

import mappings.functions as fn
from mappings.functions import EEKGFN, FUNCTIONS

POINT = shapely.Point(16.02, 48.33)
POINT_Z = shapely.Point(16.02, 48.33, 190.0)
LINE = shapely.LineString([(16.0, 48.3), (16.1, 48.3), (16.1, 48.4)])
BOWTIE_LINE = shapely.LineString([(0, 0), (1, 1), (0, 1), (1, 0)])  # crosses itself: not simple
FIELD = shapely.box(16.01, 48.33, 16.013, 48.333)
HOLED = shapely.Polygon(shapely.box(16.0, 48.3, 16.1, 48.4).exterior.coords,
                        [shapely.box(16.04, 48.34, 16.06, 48.36).exterior.coords])
ARCTIC = shapely.Polygon([(12.0, 81.0), (14.0, 81.0), (14.0, 81.5), (12.0, 81.5)])
MULTI = shapely.MultiPolygon([FIELD, shapely.box(16.02, 48.33, 16.021, 48.331)])
EMPTY = shapely.from_wkt("POLYGON EMPTY")
ALL = [POINT, POINT_Z, LINE, BOWTIE_LINE, FIELD, HOLED, ARCTIC, MULTI, EMPTY]

XSD = {  # lexical spaces (XML Schema 1.1 part 2), enough to catch "2021.0", "True", "nan", "<NA>"
    "double": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"),
    "integer": re.compile(r"[+-]?\d+"),
    "boolean": re.compile(r"true|false|1|0"),
    "date": re.compile(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?"),
    "dateTime": re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"),
}


def call(name: str, *columns) -> list:
    return FUNCTIONS[EEKGFN + name](*[pd.Series(c, dtype=object) for c in columns]).tolist()


def test_the_docstring_examples():
    assert doctest.testmod(fn).failed == 0


def test_every_function_is_documented_and_takes_named_columns():
    for iri, function in FUNCTIONS.items():
        assert iri.startswith(EEKGFN) and function.__doc__, iri
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in inspect.signature(function).parameters.values())


def test_wkt_round_trips_exactly_and_keeps_z():
    texts = call("asWKT", ALL)
    assert [shapely.equals_exact(shapely.from_wkt(t), g, tolerance=0) for t, g in zip(texts, ALL)] == [True] * len(ALL)
    assert texts[1] == "POINT Z (16.02 48.33 190)"


def test_metric_area_is_geodesic_for_polygons_only():
    areas = call("metricArea", ALL)
    assert areas[:4] == [None] * 4
    for area, shape in zip(areas[4:8], [FIELD, HOLED, ARCTIC, MULTI]):
        assert float(area) == pytest.approx(geodesic_area(shape), rel=1e-7)
    assert float(areas[8]) == 0.0
    assert float(areas[4]) == pytest.approx(222.5 * 333.6, rel=2e-3)  # by hand: 0.003° of longitude x of latitude


def test_metric_length_is_the_sum_of_geodesic_segments_for_lines_only():
    lengths = call("metricLength", ALL)
    coords = list(LINE.coords)
    by_segment = sum(GEOD.inv(x1, y1, x2, y2)[2] for (x1, y1), (x2, y2) in zip(coords[:-1], coords[1:]))
    assert float(lengths[2]) == pytest.approx(by_segment, rel=1e-12)
    # by hand: 0.1° of the 48.3°N parallel (N cos φ Δλ = 7419 m) and 0.1° of meridian at 48.35°N (M Δφ = 11120 m)
    assert float(lengths[2]) == pytest.approx(7419 + 11120, rel=1e-3)
    assert [v for i, v in enumerate(lengths) if i not in (2, 3)] == [None] * 7


@pytest.mark.parametrize("name,want", [
    ("dimension", ["0", "0", "1", "1", "2", "2", "2", "2", "2"]),
    ("coordinateDimension", ["2", "3", "2", "2", "2", "2", "2", "2", "2"]),
    ("spatialDimension", ["2", "3", "2", "2", "2", "2", "2", "2", "2"]),
    ("isEmpty", ["false"] * 8 + ["true"]),
    ("isSimple", ["true", "true", "true", "false", "true", "true", "true", "true", "true"]),
    ("is3D", ["false", "true"] + ["false"] * 7),
])
def test_geometry_properties(name, want):
    assert call(name, ALL) == want


def test_centroids_are_planar_in_crs84_and_absent_for_empty_geometries():
    texts = call("centroidWKT", ALL)
    assert texts[0] == texts[1] == "POINT (16.02 48.33)"  # 2D, also for a 3D point
    field = shapely.from_wkt(texts[4])
    assert (field.x, field.y) == pytest.approx(((16.01 + 16.013) / 2, (48.33 + 48.333) / 2), abs=1e-12)
    assert texts[8] is None
    xs, ys = call("centroidX", [FIELD, EMPTY]), call("centroidY", [FIELD, EMPTY])
    assert float(xs[0]) == pytest.approx(16.0115) and float(ys[0]) == pytest.approx(48.3315) and xs[1] is ys[1] is None


@pytest.mark.parametrize("value,want", [
    ("B11", "B11"), (" 5 ", "5"), ("100", "100"), ("8.5", "8.5"), ("Quercus", "Quercus"),
    ("8", None), ("88", None), ("888", None), ("8888", None), ("88.888888", None), ("", None), (None, None),
])
def test_present_drops_empty_values_and_every_lucas_missing_code(value, want):
    assert call("present", [value]) == [want]


@pytest.mark.parametrize("value,want", [("8", "8"), ("88", "88"), ("8888", None), ("", None), (None, None), ("12", "12")])
def test_present_unless_drops_only_the_columns_own_code(value, want):
    assert call("presentUnless", [value], ["8888"]) == [want]


def test_lucas_position_is_gps_when_both_gps_coordinates_are_there():
    gps_long = ["16.006551", "88.888888", "", "16.1", "8"]
    gps_lat = ["48.330398", "88.888888", "", "88.888888", "48.2"]
    th_long, th_lat = ["16.0065"] * 5, ["48.3304"] * 5
    assert call("lucasPointWKT", gps_long, gps_lat, th_long, th_lat) == [
        "POINT (16.006551 48.330398)", "POINT (16.0065 48.3304)", "POINT (16.0065 48.3304)",
        "POINT (16.0065 48.3304)", "POINT (16.0065 48.3304)"]  # GPS_LONG "8" is the code, not 8°E
    assert call("lucasPositionSource", gps_long, gps_lat, th_long, th_lat) == [
        "gps", "theoretical", "theoretical", "theoretical", "theoretical"]


def test_lucas_point_without_any_position_has_no_wkt():
    assert call("lucasPointWKT", ["88.888888"], ["88.888888"], [""], [""]) == [None]


@pytest.mark.parametrize("value,want", [
    ("14/06/18", "2018-06-14"), ("01/10/18", "2018-10-01"), ("31/02/18", None), ("8", None), ("", None),
    ("2018-06-14", None), (None, None),
])
def test_date_dmy(value, want):
    assert call("dateDMY", [value]) == [want]


@pytest.mark.parametrize("value,want", [
    ("2018-03-05T07:35:20Z", "2018-03-05T07:35:20Z"),
    ("2018-03-05T08:35:20+01:00", "2018-03-05T07:35:20Z"),  # to UTC
    ("2018-03-05 07:35:20", "2018-03-05T07:35:20Z"),  # no zone: taken as UTC
    ("2021-06-15T09:50:31.024Z", "2021-06-15T09:50:31.024Z"),  # fractions kept
    ("2021-06-15T09:50:31.000Z", "2021-06-15T09:50:31Z"),
    (pd.Timestamp("2018-03-05T07:35:20", tz="UTC"), "2018-03-05T07:35:20Z"),  # a GeoParquet timestamp
    ("tomorrow", None), (None, None),
])
def test_date_time(value, want):
    assert call("dateTime", [value]) == [want]


def test_product_class_follows_the_mission():
    eo = "https://w3id.org/eekg/ont/eo#"
    assert call("productClass", ["Sentinel-1A", "S1B", "Sentinel-2B", "S2A", "Landsat-8", None]) == [
        eo + "Sentinel1Product", eo + "Sentinel1Product", eo + "Sentinel2Product", eo + "Sentinel2Product",
        eo + "Product", eo + "Product"]


@pytest.mark.parametrize("name,datatype", [
    ("metricArea", "double"), ("metricLength", "double"), ("dimension", "integer"),
    ("coordinateDimension", "integer"), ("spatialDimension", "integer"), ("isEmpty", "boolean"),
    ("isSimple", "boolean"), ("is3D", "boolean"), ("centroidX", "double"), ("centroidY", "double"),
])
def test_lexical_forms_are_valid_for_the_datatype_the_mappings_give(name, datatype):
    for value in call(name, ALL):
        assert value is None or XSD[datatype].fullmatch(value), (name, value)
        if datatype == "double" and value is not None:
            assert math.isfinite(float(value))


def test_date_lexical_forms_are_valid():
    assert XSD["date"].fullmatch(call("dateDMY", ["14/06/18"])[0])
    assert XSD["dateTime"].fullmatch(call("dateTime", ["2021-06-15T09:50:31.024Z"])[0])
