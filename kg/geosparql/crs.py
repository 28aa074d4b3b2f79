"""Coordinate reference systems named by IRI, with the axis order GeoSPARQL asks for.

Geometries are held internally with x = easting/longitude and y = northing/latitude, whatever
the CRS. GeoSPARQL (Req 16) says the coordinates of a literal follow the axis order of its CRS, so
for a CRS whose first axis points north or south (EPSG:4326, EPSG:4258, EPSG:3035 ...) the
coordinates are swapped when a literal is read and swapped back when one is written.
``crs_info`` and ``transformer`` are cached: no pyproj object is built per function call.

>>> crs_info("http://www.opengis.net/def/crs/EPSG/0/4326").northing_first
True
>>> crs_info(CRS84).geographic
True
>>> canonical_crs_iri("urn:ogc:def:crs:EPSG::32633")
'http://www.opengis.net/def/crs/EPSG/0/32633'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import pyproj
import shapely

from kg.errors import UnknownCRS
from kg.geosparql.vocab import CRS84, CRS84_OGC_2, EPSG_PREFIX

ACCEPTED_FORMS = (
    "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> (the default), "
    "<http://www.opengis.net/def/crs/EPSG/0/CODE> for any EPSG code (e.g. 4326, 3035, 32633), "
    "and in GML srsName also EPSG:CODE and urn:ogc:def:crs:EPSG::CODE"
)

_OGC_IRI = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC|IAU_2015)/([^/]+)/([^/#?]+)$", re.I)
_URN = re.compile(r"^urn:ogc:def:crs:(EPSG|OGC):[^:]*:([^:]+)$", re.I)
_SHORT = re.compile(r"^(EPSG|OGC):+([A-Za-z0-9]+)$", re.I)
_GML_SRS = re.compile(r"^https?://www\.opengis\.net/gml/srs/epsg\.xml#(\d+)$", re.I)
_MERCATOR = re.compile(r"\bmercator\b", re.I)


@dataclass(frozen=True, eq=False)
class CrsInfo:
    """What the functions need to know about one CRS, computed once per IRI."""

    iri: str
    crs: pyproj.CRS
    northing_first: bool  # literals list northing/latitude first: swap on read and write
    geographic: bool  # coordinates are angles (degrees); measure with ``geod``
    unit_factor: float  # metres (projected) or radians (geographic) per coordinate unit
    geodesic_measures: bool  # measure metres on the ellipsoid even though projected (Mercator)
    geod: pyproj.Geod

    @property
    def is_crs84(self) -> bool:
        return self.iri == CRS84


def canonical_crs_iri(text: str) -> str:
    """The canonical OGC IRI of a CRS written as an IRI, a URN or ``EPSG:code``.

    Spellings we cannot read are returned unchanged so that :func:`crs_info` can name them.
    """
    text = text.strip()
    if text == CRS84:
        return text
    if match := _OGC_IRI.match(text):
        authority, code = match.group(1).upper(), match.group(3)
    elif match := _URN.match(text):
        authority, code = match.group(1).upper(), match.group(2)
    elif match := _SHORT.match(text):
        authority, code = match.group(1).upper(), match.group(2)
    elif match := _GML_SRS.match(text):
        authority, code = "EPSG", match.group(1)
    else:
        return text
    if authority == "OGC" and code.upper() == "CRS84":
        return CRS84
    if authority == "EPSG":
        return EPSG_PREFIX + code
    return f"http://www.opengis.net/def/crs/{authority}/{'1.3' if authority == 'OGC' else '0'}/{code}"


@lru_cache(maxsize=512)
def crs_info(iri: str) -> CrsInfo:
    """The CRS named by ``iri`` (canonical or not); :class:`UnknownCRS` if pyproj does not know it."""
    canonical = canonical_crs_iri(iri)
    if canonical != iri:
        return crs_info(canonical)
    crs = _pyproj_crs(iri)
    axes = crs.axis_info
    northing_first = bool(axes) and axes[0].direction.lower() in ("north", "south")
    geographic = crs.is_geographic
    unit = axes[0].unit_conversion_factor if axes else 1.0
    method = crs.coordinate_operation.method_name if crs.coordinate_operation else ""
    mercator = crs.is_projected and bool(_MERCATOR.search(method)) and "transverse" not in method.lower()
    geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
    return CrsInfo(iri, crs, northing_first, geographic, unit, mercator, geod)


def _pyproj_crs(iri: str) -> pyproj.CRS:
    if iri in (CRS84, CRS84_OGC_2):
        return pyproj.CRS.from_user_input("OGC:CRS84")
    match = _OGC_IRI.match(iri)
    if not match:
        raise UnknownCRS(f"Unknown CRS IRI <{iri[:100]}>; use {ACCEPTED_FORMS}.")
    authority, code = match.group(1).upper(), match.group(3)
    try:
        return pyproj.CRS.from_user_input(f"{authority}:{code}")
    except pyproj.exceptions.CRSError:
        raise UnknownCRS(
            f"Unknown CRS IRI <{iri[:100]}>: {authority} has no CRS {code!r} that pyproj knows; use {ACCEPTED_FORMS}."
        ) from None


def swap_axes(shape: shapely.Geometry) -> shapely.Geometry:
    """The geometry with its first two coordinates exchanged (northing-first <-> easting-first)."""
    if shape.is_empty:
        return shape
    has_z = shapely.has_z(shape)
    order = [1, 0, 2] if has_z else [1, 0]
    return shapely.transform(shape, lambda xy: xy[:, order], include_z=has_z)


@lru_cache(maxsize=1024)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """A cached pyproj transformer between two canonical CRS IRIs (easting/longitude first)."""
    return pyproj.Transformer.from_crs(crs_info(source).crs, crs_info(target).crs, always_xy=True)


def reproject(shape: shapely.Geometry, source: str, target: str) -> shapely.Geometry:
    """``shape`` moved from CRS ``source`` to CRS ``target`` (both easting/longitude first)."""
    if source == target or shape.is_empty:
        return shape
    return apply_transformer(transformer(source, target), shape)


def apply_transformer(transform: pyproj.Transformer, shape, *, include_z: bool | None = None):
    """Apply a pyproj transformer to every coordinate of a shapely geometry, or of an array of them
    (vectorised); z is kept for a geometry that has it unless ``include_z`` says otherwise."""
    has_z = shapely.has_z(shape) if include_z is None else include_z

    def move(coords: np.ndarray) -> np.ndarray:
        moved = transform.transform(*coords.T, errcheck=False)
        result = np.column_stack(moved)
        if not np.isfinite(result).all():
            raise UnknownCRS(
                f"The coordinates cannot be transformed from {transform.source_crs.name} to "
                f"{transform.target_crs.name} (outside the area where the transformation is defined)."
            )
        return result

    return shapely.transform(shape, move, include_z=has_z)


# Local azimuthal equidistant projections for metric buffers and distances on geographic CRSs.
# Centres are rounded to a 1-degree grid so transformers can be cached; at most ~80 km off the
# geometry the scale error of the projection is below 1e-4 (and distances are re-measured on
# the ellipsoid anyway).
@lru_cache(maxsize=2048)
def _local_transformers(geographic_iri: str, lon: float, lat: float) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    info = crs_info(geographic_iri)
    ellps = info.crs.ellipsoid
    local = pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat} +lon_0={lon} +a={ellps.semi_major_metre} +rf={ellps.inverse_flattening or 0} +units=m"
        if ellps.inverse_flattening
        else f"+proj=aeqd +lat_0={lat} +lon_0={lon} +R={ellps.semi_major_metre} +units=m"
    )
    geodetic = info.crs.geodetic_crs or info.crs
    forward = pyproj.Transformer.from_crs(geodetic, local, always_xy=True)
    backward = pyproj.Transformer.from_crs(local, geodetic, always_xy=True)
    return forward, backward


def local_metric(geographic_iri: str, lon: float, lat: float) -> tuple[Callable, Callable]:
    """Functions moving shapes between a geographic CRS and a metric projection centred near (lon, lat)."""
    forward, backward = _local_transformers(geographic_iri, float(round(lon)), float(max(-89.0, min(89.0, round(lat)))))
    return (lambda s: apply_transformer(forward, s)), (lambda s: apply_transformer(backward, s))

