"""Measures in units: distance, area, length, perimeter and their metric (metre) variants.

How metres are obtained depends on the CRS of the (first) geometry:

- geographic CRS (CRS84, EPSG:4326 ...): on the ellipsoid of the CRS with pyproj ``Geod``:
  ``Geod.inv`` between points, ``Geod.line_length`` for lines and rings, ``polygon_area_perimeter``
  for areas; the distance between other geometries is the geodesic distance between their
  nearest points, found in a local azimuthal equidistant projection;
- projected CRS: in the CRS's own units, times the size of the unit in metres; except Mercator
  projections (EPSG:3857, 3395), whose "metres" grow with latitude: moved to CRS84 and measured
  on the ellipsoid;
- angular units (degree, radian) are planar in the coordinates of a geographic CRS, an error for
  a projected one.

>>> from pyoxigraph import Literal, NamedNode
>>> wkt = lambda s: Literal(s, datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
>>> round(float(metric_distance(wkt("POINT(0 0)"), wkt("POINT(1 0)")).value))
111319
"""

from __future__ import annotations

import numpy as np
import shapely
from pyoxigraph import NamedNode

from kg.errors import InvalidGeometry
from kg.geosparql.crs import CrsInfo, crs_info, local_metric, reproject
from kg.geosparql.literals import geometry_of, pair
from kg.geosparql.terms import double, iri_of
from kg.geosparql.units import METRE, Unit, unit
from kg.geosparql.vocab import CRS84

_METRE_TERM = NamedNode(METRE.iri)


def _unit(term, kinds=("linear", "angular")) -> Unit:
    return unit(iri_of(term, "unit of measure"), kinds)


def _angular_factor(info: CrsInfo, u: Unit, what: str) -> float:
    """Conversion from the CRS's coordinate unit to ``u`` for planar angular measures."""
    if not info.geographic:
        raise InvalidGeometry(
            f"{what} in the angular unit <{u.iri}> needs a geographic CRS, but the geometry is in <{info.iri}> "
            "(projected); use a linear unit such as uom:metre."
        )
    return info.unit_factor / u.factor


def _geodetic(shape: shapely.Geometry, info: CrsInfo) -> tuple[shapely.Geometry, CrsInfo] | None:
    """The shape in longitude/latitude degrees with the CRS to measure it on, or None for planar."""
    if info.geographic:
        return shape, info
    if info.geodesic_measures:
        return reproject(shape, info.iri, CRS84), crs_info(CRS84)
    return None


# --- distance --------------------------------------------------------------------------------


def metres_between(shape1: shapely.Geometry, shape2: shapely.Geometry, info: CrsInfo) -> float:
    """Distance in metres between two shapes in the CRS ``info`` (see the module docstring)."""
    geodetic = _geodetic(shape1, info)
    if geodetic is None:
        return float(shapely.distance(shape1, shape2)) * info.unit_factor
    shape1, ginfo = geodetic
    if info.geodesic_measures:
        shape2 = reproject(shape2, info.iri, CRS84)
    if shape1.geom_type == "Point" and shape2.geom_type == "Point":
        return float(ginfo.geod.inv(shape1.x, shape1.y, shape2.x, shape2.y)[2])
    if shapely.intersects(shape1, shape2):
        return 0.0
    near1, near2 = shapely.shortest_line(shape1, shape2).coords[:2]
    centre = ((near1[0] + near2[0]) / 2, (near1[1] + near2[1]) / 2)
    forward, backward = local_metric(ginfo.iri, *centre)
    line = shapely.shortest_line(forward(shape1), forward(shape2))
    (x1, y1), (x2, y2) = (c[:2] for c in backward(line).coords[:2])
    return float(ginfo.geod.inv(x1, y1, x2, y2)[2])


def distance(first, second, units):
    """geof:distance(geom1, geom2, units): shortest distance, in the CRS of geom1."""
    u = _unit(units)
    g1, shape2 = pair(first, second)
    if g1.shape.is_empty or shape2.is_empty:
        return None  # undefined for an empty geometry
    info = crs_info(g1.crs)
    if u.kind == "angular":
        return double(shapely.distance(g1.shape, shape2) * _angular_factor(info, u, "a distance"))
    return double(metres_between(g1.shape, shape2, info) / u.factor)


def metric_distance(first, second):
    """geof:metricDistance(geom1, geom2): distance in metres."""
    return distance(first, second, _METRE_TERM)


# --- area, length, perimeter -----------------------------------------------------------------


def _parts(shape: shapely.Geometry):
    parts = shapely.get_parts(shape)
    while any(p.geom_type == "GeometryCollection" or p.geom_type.startswith("Multi") for p in parts):
        parts = shapely.get_parts(parts)
    return parts


def _rings(shape: shapely.Geometry, polygons_only: bool):
    for part in _parts(shape):
        if part.geom_type == "Polygon" and not part.is_empty:
            yield part.exterior
            yield from part.interiors
        elif not polygons_only and part.geom_type in ("LineString", "LinearRing") and not part.is_empty:
            yield part


def square_metres(shape: shapely.Geometry, info: CrsInfo) -> float:
    geodetic = _geodetic(shape, info)
    if geodetic is None:
        return float(shapely.area(shape)) * info.unit_factor**2
    shape, ginfo = geodetic
    total = 0.0
    for polygon in _parts(shape):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        total += abs(ginfo.geod.polygon_area_perimeter(*_xy(polygon.exterior))[0])
        total -= sum(abs(ginfo.geod.polygon_area_perimeter(*_xy(r))[0]) for r in polygon.interiors)
    return total


def _xy(line) -> tuple[np.ndarray, np.ndarray]:
    coords = shapely.get_coordinates(line)
    return coords[:, 0], coords[:, 1]


def linear_metres(shape: shapely.Geometry, info: CrsInfo, polygons_only: bool) -> float:
    geodetic = _geodetic(shape, info)
    if geodetic is None:
        return sum(float(shapely.length(r)) for r in _rings(shape, polygons_only)) * info.unit_factor
    shape, ginfo = geodetic
    return float(sum(ginfo.geod.line_length(*_xy(r)) for r in _rings(shape, polygons_only)))


def area(geom, units):
    """geof:area(geom, units): area in an area unit (or the square of a linear or angular unit)."""
    u = _unit(units, ("area", "linear", "angular"))
    g = geometry_of(geom)
    info = crs_info(g.crs)
    if u.kind == "angular":
        return double(float(shapely.area(g.shape)) * _angular_factor(info, u, "an area") ** 2)
    divisor = u.factor if u.kind == "area" else u.factor**2
    return double(square_metres(g.shape, info) / divisor)


def _linear(geom, units, polygons_only: bool, name: str):
    u = _unit(units)
    g = geometry_of(geom)
    info = crs_info(g.crs)
    if u.kind == "angular":
        planar = sum(float(shapely.length(r)) for r in _rings(g.shape, polygons_only))
        return double(planar * _angular_factor(info, u, name))
    return double(linear_metres(g.shape, info, polygons_only) / u.factor)


def length(geom, units):
    """geof:length(geom, units): length of lines plus the boundary length of polygons (as GEOS)."""
    return _linear(geom, units, False, "a length")


def perimeter(geom, units):
    """geof:perimeter(geom, units): length of the rings of the polygons of geom (0 for points, lines)."""
    return _linear(geom, units, True, "a perimeter")


def metric_area(geom):
    return area(geom, _METRE_TERM)


def metric_length(geom):
    return length(geom, _METRE_TERM)


def metric_perimeter(geom):
    return perimeter(geom, _METRE_TERM)

