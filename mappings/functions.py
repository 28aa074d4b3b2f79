"""The functions mappings call (FnO, namespace ``eekgfn:``), evaluated on whole columns.

GeoTriples-style geometry functions (WKT serialisation, metric area and length, the dimensions,
isEmpty/isSimple/is3D, centroid) and the few value functions the LUCAS and catalogue layouts
need. The runner evaluates them with shapely and numpy before morph-kgc sees the data, and the
mapping reads the results as ordinary columns: morph-kgc would call a Python function once per row
and does not escape what it returns.

Each function takes pandas Series (geometries are shapely objects in CRS84, longitude first)
and returns a Series of lexical forms (str) or None where there is no value: morph-kgc writes no
triple for None.

>>> import shapely
>>> square = pd.Series([shapely.box(16.0, 48.0, 16.01, 48.01)])
>>> FUNCTIONS[EEKGFN + "dimension"](square).tolist()
['2']
>>> round(float(FUNCTIONS[EEKGFN + "metricArea"](square)[0]) / 1e6, 3)  # km², geodesic
0.83
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyproj
import shapely

EEKGFN = "https://w3id.org/eekg/fn#"
GEOD = pyproj.Geod(ellps="WGS84")

# LUCAS codes a missing value as 8, 88, 888, 8888 or 88.888888 (LUCAS 2018 documentation).
LUCAS_MISSING = frozenset({"8", "88", "888", "8888", "88.888888"})


def _text(values, mask=None) -> pd.Series:
    """A column of lexical forms, None where ``mask`` is False."""
    out = pd.Series(np.asarray(values, dtype=object), dtype=object)
    if mask is not None:
        out[~np.asarray(mask, dtype=bool)] = None
    return out


def _booleans(values) -> pd.Series:
    return _text(np.where(values, "true", "false"))


def _numbers(values: np.ndarray, mask=None) -> pd.Series:
    """xsd:double lexical forms (shortest round-trip repr)."""
    return _text([repr(float(v)) for v in values], mask)


def _integers(values) -> pd.Series:
    return _text(np.asarray(values).astype(np.int64).astype(str))


def _geometries(series: pd.Series) -> np.ndarray:
    return np.asarray(series, dtype=object)


# --- geometry functions ---------------------------------------------------------------------


def as_wkt(geometry: pd.Series) -> pd.Series:
    """WKT in CRS84 (GeoSPARQL's default CRS, so no CRS IRI is written)."""
    shapes = _geometries(geometry)
    return _text(shapely.to_wkt(shapes, rounding_precision=-1, trim=True, output_dimension=3))


def metric_area(geometry: pd.Series) -> pd.Series:
    """Geodesic area in m² on the WGS84 ellipsoid, for areal geometries (holes subtracted).

    pyproj signs each ring's area by its orientation, so the rings are oriented first (outer
    counter-clockwise, holes clockwise): shapefiles store them the other way round, and GeoJSON
    written without the right-hand rule in any way.
    """
    shapes = _geometries(geometry)
    return _numbers(geodesic_areas(shapes), shapely.get_dimensions(shapes) == 2)


def geodesic_areas(shapes: np.ndarray) -> np.ndarray:
    """The WGS84 geodesic area in m² of each CRS84 shape (0 for points and lines), rings oriented
    first (see :func:`metric_area`)."""
    areal = shapely.get_dimensions(shapes) == 2
    areas = np.zeros(len(shapes))
    oriented = shapely.orient_polygons(shapes[areal], exterior_cw=False)
    for i, shape in zip(np.flatnonzero(areal), oriented):
        areas[i] = abs(GEOD.geometry_area_perimeter(shape)[0])
    return areas


def metric_length(geometry: pd.Series) -> pd.Series:
    """Geodesic length in m on the WGS84 ellipsoid, for lines (a polygon's perimeter is not its length)."""
    shapes = _geometries(geometry)
    linear = shapely.get_dimensions(shapes) == 1
    lengths = np.zeros(len(shapes))
    for i in np.flatnonzero(linear):
        lengths[i] = GEOD.geometry_length(shapes[i])
    return _numbers(lengths, linear)


def dimension(geometry: pd.Series) -> pd.Series:
    """Topological dimension: 0 points, 1 lines, 2 polygons (of the highest part)."""
    return _integers(np.maximum(shapely.get_dimensions(_geometries(geometry)), 0))


def coordinate_dimension(geometry: pd.Series) -> pd.Series:
    """Number of coordinates per position (2 or 3; shapely keeps no M)."""
    return _integers(shapely.get_coordinate_dimension(_geometries(geometry)))


def spatial_dimension(geometry: pd.Series) -> pd.Series:
    """Number of spatial coordinates per position (2 or 3)."""
    return coordinate_dimension(geometry)


def is_empty(geometry: pd.Series) -> pd.Series:
    """Whether the geometry has no points (``POLYGON EMPTY``)."""
    return _booleans(shapely.is_empty(_geometries(geometry)))


def is_simple(geometry: pd.Series) -> pd.Series:
    """Whether the geometry has no anomalous points, such as a line crossing itself (GEOS isSimple)."""
    return _booleans(shapely.is_simple(_geometries(geometry)))


def is_3d(geometry: pd.Series) -> pd.Series:
    """Whether the geometry has Z coordinates."""
    return _booleans(shapely.has_z(_geometries(geometry)))


def _centroids(geometry: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Centroids, with POINT (0 0) in place of empty ones (GEOS cannot take x of an empty point)."""
    shapes = _geometries(geometry)
    present = ~shapely.is_empty(shapes)
    return np.where(present, shapely.centroid(shapes), shapely.Point(0, 0)), present


def centroid_wkt(geometry: pd.Series) -> pd.Series:
    """The centroid as a WKT point in CRS84."""
    centroids, present = _centroids(geometry)
    return _text(shapely.to_wkt(centroids, rounding_precision=-1, trim=True, output_dimension=2), present)


def centroid_x(geometry: pd.Series) -> pd.Series:
    """Longitude of the centroid (xsd:double), nothing for an empty geometry."""
    centroids, present = _centroids(geometry)
    return _numbers(shapely.get_x(centroids), present)


def centroid_y(geometry: pd.Series) -> pd.Series:
    """Latitude of the centroid (xsd:double), nothing for an empty geometry."""
    centroids, present = _centroids(geometry)
    return _numbers(shapely.get_y(centroids), present)


# --- value functions --------------------------------------------------------------------------


def present(value: pd.Series) -> pd.Series:
    """The value, or nothing where it is empty or a LUCAS missing-value code."""
    text = value.astype("string").str.strip()
    missing = text.isna() | (text == "") | text.isin(LUCAS_MISSING)
    return _text(text.astype(object), ~missing)


def present_unless(value: pd.Series, missing: pd.Series) -> pd.Series:
    """The value, or nothing where it is empty or equals this column's own missing-value code.

    For LUCAS measurements, where a small code would be a real value: a GPS precision of 8 m or an
    observation distance of 88 m is data; only the field's full-width code (8888) means missing.

    >>> present_unless(pd.Series(["8", "8888", " 12 ", ""]), pd.Series(["8888"] * 4)).tolist()
    ['8', None, '12', None]
    """
    text = value.astype("string").str.strip()
    code = missing.astype("string").str.strip()
    gone = text.isna() | (text == "") | (text == code)
    return _text(text.astype(object), ~gone.to_numpy(dtype=bool))


def lucas_point_wkt(gps_long, gps_lat, th_long, th_lat) -> pd.Series:
    """The surveyed GPS position when there is one, else the theoretical point, as WKT."""
    x, y, _ = _lucas_position(gps_long, gps_lat, th_long, th_lat)
    ok = np.isfinite(x) & np.isfinite(y)
    return _text(shapely.to_wkt(shapely.points(np.where(ok, x, 0), np.where(ok, y, 0)), rounding_precision=-1), ok)


def lucas_position_source(gps_long, gps_lat, th_long, th_lat) -> pd.Series:
    """'gps' or 'theoretical': where the point's position comes from."""
    _, _, from_gps = _lucas_position(gps_long, gps_lat, th_long, th_lat)
    return _text(np.where(from_gps, "gps", "theoretical"))


def _lucas_position(gps_long, gps_lat, th_long, th_lat):
    def number(column):
        values = pd.to_numeric(present(column), errors="coerce").astype(float).to_numpy()
        return values

    gx, gy, tx, ty = number(gps_long), number(gps_lat), number(th_long), number(th_lat)
    from_gps = np.isfinite(gx) & np.isfinite(gy)
    return np.where(from_gps, gx, tx), np.where(from_gps, gy, ty), from_gps


def date_dmy(value: pd.Series) -> pd.Series:
    """An xsd:date from a dd/mm/yy date (LUCAS' SURVEY_DATE); nothing where missing."""
    dates = pd.to_datetime(present(value), format="%d/%m/%y", errors="coerce")
    return _text(dates.dt.strftime("%Y-%m-%d").astype(object), dates.notna())


def date_time(value: pd.Series) -> pd.Series:
    """An xsd:dateTime in UTC (``2018-03-05T07:35:20Z``) from ISO 8601 text or timestamps.

    Fractions of a second are kept when there are any; text without a zone is taken as UTC.

    >>> date_time(pd.Series(["2021-06-15T09:50:31.024Z", "2018-03-05 08:35:20+01:00", "soon"])).tolist()
    ['2021-06-15T09:50:31.024Z', '2018-03-05T07:35:20Z', None]
    """
    stamps = pd.to_datetime(value, utc=True, errors="coerce", format="ISO8601")
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.rstrip("0").str.rstrip(".") + "Z"
    return _text(text.astype(object), stamps.notna())


def product_class(mission: pd.Series) -> pd.Series:
    """The product class IRI for a mission name (Sentinel-1A ... -> eo:Sentinel1Product)."""
    text = mission.astype("string").str.strip()
    s1 = text.str.match(r"^(?:S1|Sentinel-1)", na=False).to_numpy(dtype=bool)
    s2 = text.str.match(r"^(?:S2|Sentinel-2)", na=False).to_numpy(dtype=bool)
    eo = "https://w3id.org/eekg/ont/eo#"
    return _text(np.where(s1, eo + "Sentinel1Product", np.where(s2, eo + "Sentinel2Product", eo + "Product")))


# Functions whose results are WKT of geometries the readers found valid: nothing to re-check.
WKT_FUNCTIONS = frozenset({EEKGFN + "asWKT", EEKGFN + "centroidWKT", EEKGFN + "lucasPointWKT"})

FUNCTIONS: dict[str, Callable[..., pd.Series]] = {
    EEKGFN + name: function
    for name, function in {
        "asWKT": as_wkt,
        "metricArea": metric_area,
        "metricLength": metric_length,
        "dimension": dimension,
        "coordinateDimension": coordinate_dimension,
        "spatialDimension": spatial_dimension,
        "isEmpty": is_empty,
        "isSimple": is_simple,
        "is3D": is_3d,
        "centroidWKT": centroid_wkt,
        "centroidX": centroid_x,
        "centroidY": centroid_y,
        "present": present,
        "presentUnless": present_unless,
        "lucasPointWKT": lucas_point_wkt,
        "lucasPositionSource": lucas_position_source,
        "dateDMY": date_dmy,
        "dateTime": date_time,
        "productClass": product_class,
    }.items()
}
