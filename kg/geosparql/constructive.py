"""Functions that build geometries; each answers a ``geo:wktLiteral`` in the CRS of its (first) argument.

Set operations and hulls are planar in the coordinates of that CRS (also for longitude/latitude,
as in every GeoSPARQL implementation). ``geof:buffer`` with a linear unit on a geographic CRS is
computed in a local azimuthal equidistant projection centred near the geometry, so the radius
is true metres; with an angular unit it is planar in degrees.

>>> from pyoxigraph import Literal, NamedNode
>>> wkt = lambda s: Literal(s, datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
>>> union(wkt("POINT(0 0)"), wkt("POINT(1 1)")).value
'MULTIPOINT ((0 0), (1 1))'
"""

from __future__ import annotations

import shapely
from pyoxigraph import NamedNode

from kg.errors import InvalidGeometry
from kg.geosparql.crs import canonical_crs_iri, crs_info, local_metric, reproject
from kg.geosparql.literals import geometry_of, pair, wkt_literal
from kg.geosparql.terms import boolean_of, iri_of, number_of
from kg.geosparql.units import METRE, unit
from kg.geosparql.vocab import CRS84

_METRE = NamedNode(METRE.iri)


def _unary(operation):
    def function(geom):
        g = geometry_of(geom)
        return wkt_literal(operation(g.shape), g.crs)

    function.__doc__ = f"The {operation.__name__} of a geometry, in its CRS."
    return function


def _binary(operation):
    def function(first, second):
        g1, shape2 = pair(first, second)
        return wkt_literal(operation(g1.shape, shape2), g1.crs)

    function.__doc__ = f"The {operation.__name__} of two geometries, in the CRS of the first."
    return function


def _boundary(shape: shapely.Geometry) -> shapely.Geometry:
    if shape.geom_type == "GeometryCollection":  # GEOS has no boundary of a collection: collect the parts'
        return shapely.GeometryCollection([b for b in (_boundary(p) for p in shape.geoms) if not b.is_empty])
    return shapely.boundary(shape)


def _centroid(shape: shapely.Geometry) -> shapely.Geometry:
    return shapely.centroid(shape)


def _envelope(shape: shapely.Geometry) -> shapely.Geometry:
    return shapely.envelope(shape)


def _convex_hull(shape: shapely.Geometry) -> shapely.Geometry:
    return shapely.convex_hull(shape)


def _bounding_circle(shape: shapely.Geometry) -> shapely.Geometry:
    return shapely.minimum_bounding_circle(shape)


boundary = _unary(_boundary)
centroid = _unary(_centroid)
envelope = _unary(_envelope)
convex_hull = _unary(_convex_hull)
bounding_circle = _unary(_bounding_circle)
intersection = _binary(shapely.intersection)
union = _binary(shapely.union)
difference = _binary(shapely.difference)
sym_difference = _binary(shapely.symmetric_difference)


def concave_hull(geom, ratio=None, allow_holes=None):
    """geof:concaveHull(geom [, ratio [, allowHoles]]): GEOS concave hull; ratio in [0, 1] (default 0)."""
    g = geometry_of(geom)
    value = 0.0 if ratio is None else number_of(ratio, "concave hull ratio")
    if not 0.0 <= value <= 1.0:
        raise InvalidGeometry(f"the concave hull ratio must be between 0 (tightest) and 1 (convex hull) but got {value:g}.")
    holes = False if allow_holes is None else boolean_of(allow_holes, "allowHoles flag")
    return wkt_literal(shapely.concave_hull(g.shape, ratio=value, allow_holes=holes), g.crs)


def buffer(geom, radius, units):
    """geof:buffer(geom, radius, units): all points within ``radius`` of geom, in its CRS."""
    g = geometry_of(geom)
    distance = number_of(radius, "buffer radius")
    u = unit(iri_of(units, "unit of measure"))
    info = crs_info(g.crs)
    if g.shape.is_empty:
        return wkt_literal(g.shape, g.crs)
    if u.kind == "angular":
        if not info.geographic:
            raise InvalidGeometry(
                f"a buffer in the angular unit <{u.iri}> needs a geographic CRS, but the geometry is in <{g.crs}>; use uom:metre."
            )
        return wkt_literal(shapely.buffer(g.shape, distance * u.factor / info.unit_factor), g.crs)
    metres = distance * u.factor
    if not info.geographic and not info.geodesic_measures:
        return wkt_literal(shapely.buffer(g.shape, metres / info.unit_factor), g.crs)
    base = crs_info(CRS84) if info.geodesic_measures else info
    shape = reproject(g.shape, g.crs, CRS84) if info.geodesic_measures else g.shape
    centre = shapely.centroid(shapely.envelope(shape))
    forward, backward = local_metric(base.iri, centre.x, centre.y)
    buffered = backward(shapely.buffer(forward(shape), metres))
    if info.geodesic_measures:
        buffered = reproject(buffered, CRS84, g.crs)
    return wkt_literal(buffered, g.crs)


def metric_buffer(geom, radius):
    """geof:metricBuffer(geom, radius): buffer with the radius in metres."""
    return buffer(geom, radius, _METRE)


def transform(geom, crs):
    """geof:transform(geom, srsIRI): geom in another CRS (a WKT literal carrying that CRS)."""
    g = geometry_of(geom)
    target = canonical_crs_iri(iri_of(crs, "target CRS"))
    crs_info(target)  # UnknownCRS naming it
    return wkt_literal(reproject(g.shape, g.crs, target), target)

