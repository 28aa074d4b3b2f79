"""Properties of one geometry (SRID, bounds, dimensions, parts) and its serialisations.

Bounds (``geof:minX`` ...) are in the coordinates of the literal as written: for a CRS whose
first axis is latitude/northing (EPSG:4326), X is that first axis.

>>> from pyoxigraph import Literal, NamedNode
>>> wkt = lambda s: Literal(s, datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
>>> max_z(wkt("POLYGON Z((0 0 0, 1 0 1, 1 1 1, 0 0 0))")).value
'1'
>>> geometry_type(wkt("POINT(1 2)")).value
'http://www.opengis.net/ont/sf#Point'
"""

from __future__ import annotations

import shapely

from kg.errors import InvalidGeometry, UnsupportedFeature
from kg.geosparql.crs import crs_info
from kg.geosparql.literals import geojson_literal, geometry_of, gml_literal, kml_literal, wkt_literal
from kg.geosparql.terms import any_uri, boolean, double, integer, integer_of, iri_of, string_of
from kg.geosparql.vocab import SF_TYPES


def get_srid(geom):
    """geof:getSRID: the CRS IRI of geom (CRS84 when a WKT literal names none), as xsd:anyURI."""
    return any_uri(geometry_of(geom).crs)


def _bound(axis: int, highest: bool):
    def function(geom):
        g = geometry_of(geom)
        if g.shape.is_empty:
            return None  # no coordinates: undefined
        if crs_info(g.crs).northing_first:
            axis_as_written = 1 - axis
        else:
            axis_as_written = axis
        bounds = shapely.bounds(g.shape)
        return double(bounds[axis_as_written + (2 if highest else 0)])

    return function


def _z_bound(highest: bool):
    def function(geom):
        g = geometry_of(geom)
        if g.shape.is_empty or not shapely.has_z(g.shape):
            return None  # no z coordinate: undefined
        z = shapely.get_coordinates(g.shape, include_z=True)[:, 2]
        return double(z.max() if highest else z.min())

    return function


min_x, max_x = _bound(0, False), _bound(0, True)
min_y, max_y = _bound(1, False), _bound(1, True)
min_z, max_z = _z_bound(False), _z_bound(True)


def num_geometries(geom):
    """geof:numGeometries: parts of a collection, 1 for a single geometry, 0 if empty."""
    shape = geometry_of(geom).shape
    return integer(0 if shape.is_empty else shapely.get_num_geometries(shape))


def geometry_n(geom, n):
    """geof:geometryN(geom, n): the n-th (1-based) part of a collection; geom itself for n = 1 of a single one."""
    g = geometry_of(geom)
    index = integer_of(n, "geometry index n")
    count = 0 if g.shape.is_empty else shapely.get_num_geometries(g.shape)
    if not 1 <= index <= count:
        raise InvalidGeometry(f"geometry index {index} is out of range: the geometry has {count} part(s), numbered from 1.")
    return wkt_literal(shapely.get_geometry(g.shape, index - 1), g.crs)


def geometry_type(geom):
    """geof:geometryType: the Simple Features class IRI (sf:Point, sf:Polygon ...) as xsd:anyURI."""
    return any_uri(SF_TYPES[geometry_of(geom).shape.geom_type])


def is_empty(geom):
    return boolean(geometry_of(geom).shape.is_empty)


def is_simple(geom):
    """geof:isSimple; a GeometryCollection (which GEOS always calls non-simple) is simple if all its parts are."""
    return boolean(_simple(geometry_of(geom).shape))


def _simple(shape: shapely.Geometry) -> bool:
    if shape.geom_type == "GeometryCollection":
        return all(_simple(part) for part in shape.geoms)
    return bool(shapely.is_simple(shape))


def is_3d(geom):
    return boolean(shapely.has_z(geometry_of(geom).shape))


def is_measured(geom):
    return boolean(shapely.has_m(geometry_of(geom).shape))


def dimension(geom):
    """geof:dimension: topological dimension (0 point, 1 curve, 2 surface; largest in a collection; -1 empty)."""
    shape = geometry_of(geom).shape
    return integer(-1 if shape.is_empty else shapely.get_dimensions(shape))


def coordinate_dimension(geom):
    """geof:coordinateDimension: numbers per coordinate (2, 3 with z or m, 4 with both)."""
    shape = geometry_of(geom).shape
    return integer(2 + bool(shapely.has_z(shape)) + bool(shapely.has_m(shape)))


def spatial_dimension(geom):
    """geof:spatialDimension: 3 with z coordinates, else 2."""
    return integer(2 + bool(shapely.has_z(geometry_of(geom).shape)))


def as_wkt(geom):
    g = geometry_of(geom)
    return wkt_literal(g.shape, g.crs)


def as_geojson(geom):
    return geojson_literal(geometry_of(geom))


def as_gml(geom, profile=None):
    return gml_literal(geometry_of(geom), None if profile is None else string_of(profile, "GML profile"))


def as_kml(geom):
    return kml_literal(geometry_of(geom))


def as_dggs(geom, datatype=None):
    """geof:asDGGS: not supported (no DGGS library; GeoSPARQL 1.1 defines no common DGGS encoding)."""
    target = iri_of(datatype, "DGGS datatype") if datatype is not None else "geo:dggsLiteral"
    raise UnsupportedFeature(
        f"Converting a geometry to a DGGS literal ({target})",
        hint="DGGS serialisations are not implemented; use geof:asWKT, geof:asGeoJSON, geof:asGML or geof:asKML.",
    )
