"""Geometry literals: parsed once (cached) into a :class:`Geom`, and written back.

A ``Geom`` holds a shapely geometry with x = easting/longitude, y = northing/latitude, and the
canonical IRI of its CRS. ``geo:wktLiteral`` may start with ``<crs IRI>`` (CRS84 otherwise);
``geo:geoJSONLiteral`` and ``geo:kmlLiteral`` are always CRS84; ``geo:gmlLiteral`` takes its CRS
from ``srsName``. ``geo:dggsLiteral`` is not supported (:class:`UnsupportedFeature`). An empty
literal of any of these types is the empty geometry.

>>> g = parse_literal("<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(33.95 -83.38)", WKT_LITERAL)
>>> g.shape.wkt, g.crs
('POINT (-83.38 33.95)', 'http://www.opengis.net/def/crs/EPSG/0/4326')
>>> wkt_text(g.shape, g.crs)
'<http://www.opengis.net/def/crs/EPSG/0/4326> POINT (33.95 -83.38)'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import shapely
from pyoxigraph import Literal, NamedNode

from kg.errors import GeoKGError, InvalidGeometry, UnknownCRS, UnsupportedFeature
from kg.geosparql import gml, kml
from kg.geosparql.crs import canonical_crs_iri, crs_info, reproject, swap_axes
from kg.geosparql.vocab import (
    CRS84,
    DATATYPE_NAMES,
    DGGS_LITERAL,
    GEO,
    GEOJSON_LITERAL,
    GML_LITERAL,
    KML_LITERAL,
    WKT_LITERAL,
)

CACHE_SIZE = 65536
_DEGREE = math.pi / 180
WKT_HINT = 'Write WKT like "POLYGON((0 0, 1 0, 1 1, 0 0))", optionally preceded by a CRS IRI in <...>.'
GEOJSON_HINT = 'Write a GeoJSON geometry like {"type": "Point", "coordinates": [1, 2]} (always longitude, latitude).'
EMPTY = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
WKT_DATATYPE = NamedNode(WKT_LITERAL)
GEOJSON_DATATYPE = NamedNode(GEOJSON_LITERAL)
GML_DATATYPE = NamedNode(GML_LITERAL)
KML_DATATYPE = NamedNode(KML_LITERAL)


@dataclass(frozen=True, slots=True, eq=False)
class Geom:
    """A parsed geometry: shapely shape (easting/longitude first) and canonical CRS IRI."""

    shape: shapely.Geometry
    crs: str = CRS84


def show(text: str, limit: int = 100) -> str:
    """A literal's text for an error message: one line, at most ``limit`` characters, quoted."""
    flat = " ".join(text.split())
    return '"' + (flat if len(flat) <= limit else flat[: limit - 3] + "...") + '"'


# --- reading ---------------------------------------------------------------------------------


def geometry_of(term) -> Geom:
    """The geometry of an RDF term; a type error (raised) for anything but a geometry literal."""
    if type(term) is Literal:
        return parse_literal(term.value, term.datatype.value)
    kind = type(term).__name__
    raise InvalidGeometry(
        f"expected a geometry literal (geo:wktLiteral, geo:geoJSONLiteral, geo:gmlLiteral or geo:kmlLiteral) "
        f"but got the {kind} {_show_term(term)}. {WKT_HINT}"
    )


@lru_cache(maxsize=CACHE_SIZE)
def parse_literal(text: str, datatype: str) -> Geom:
    """Parse the lexical form of a geometry literal of ``datatype`` (cached, shape prepared)."""
    geom = _parse(text, datatype)
    if geom.shape.geom_type != "Point":
        shapely.prepare(geom.shape)  # speeds up repeated predicates with this geometry
    return geom


def pair(first, second) -> tuple[Geom, shapely.Geometry]:
    """Two geometry arguments, the second moved into the CRS of the first (cached)."""
    g1, g2 = geometry_of(first), geometry_of(second)
    if g2.crs == g1.crs:
        return g1, g2.shape
    return g1, _reprojected(second.value, second.datatype.value, g1.crs)


@lru_cache(maxsize=CACHE_SIZE // 4)
def _reprojected(text: str, datatype: str, crs: str) -> shapely.Geometry:
    geom = parse_literal(text, datatype)
    return reproject(geom.shape, geom.crs, crs)


def _parse(text: str, datatype: str) -> Geom:
    if datatype == WKT_LITERAL:
        return _parse_wkt(text)
    if datatype == GEOJSON_LITERAL:
        return _parse_geojson(text)
    if datatype == GML_LITERAL:
        return _parse_xml(text, "GML", gml.parse)
    if datatype == KML_LITERAL:
        return _parse_xml(text, "KML", kml.parse)
    if datatype == DGGS_LITERAL or (datatype.startswith(GEO) and datatype.endswith("DggsLiteral")):
        raise UnsupportedFeature(
            f"The DGGS literal {show(text)} (datatype <{datatype}>)",
            hint="DGGS serialisations have no common definition in GeoSPARQL 1.1; store the geometry as "
            "geo:wktLiteral, geo:geoJSONLiteral, geo:gmlLiteral or geo:kmlLiteral.",
        )
    if datatype.endswith("#string") or datatype.endswith("#langString"):
        hint = " Add ^^geo:wktLiteral after the string." if _looks_like_wkt(text) else ""
        raise InvalidGeometry(f"expected a geometry literal but got the plain string {show(text)}.{hint} {WKT_HINT}")
    raise InvalidGeometry(
        f"expected a geometry literal but got {show(text)} of datatype <{datatype}>; use geo:wktLiteral, "
        f"geo:geoJSONLiteral, geo:gmlLiteral or geo:kmlLiteral. {WKT_HINT}"
    )


def split_crs(text: str) -> tuple[str, str]:
    """(canonical CRS IRI, WKT body) of a WKT literal's text."""
    stripped = text.strip()
    if stripped.startswith("<"):
        end = stripped.find(">")
        if end < 0:
            raise InvalidGeometry(f"invalid WKT literal {show(text)}: the CRS IRI is not closed with '>'. {WKT_HINT}")
        return canonical_crs_iri(stripped[1:end]), stripped[end + 1 :].strip()
    return CRS84, stripped


def _parse_wkt(text: str) -> Geom:
    crs, body = split_crs(text)
    info = _crs_or_raise(crs, text)
    if not body:
        return Geom(EMPTY, crs)
    try:
        shape = shapely.from_wkt(body)
    except shapely.errors.ShapelyError as error:
        raise InvalidGeometry(f"invalid WKT literal {show(text)} ({_reason(error)}). {WKT_HINT}") from None
    if shape is None:
        raise InvalidGeometry(f"invalid WKT literal {show(text)}. {WKT_HINT}")
    return _checked(Geom(swap_axes(shape) if info.northing_first else shape, crs), info, text)


def _checked(geom: Geom, info, text: str) -> Geom:
    """Refuse latitudes beyond +-90 degrees: the usual sign of coordinates in the wrong axis order."""
    if info.geographic and abs(info.unit_factor - _DEGREE) < 1e-12 and not geom.shape.is_empty:
        _, low, _, high = shapely.bounds(geom.shape)
        if low < -90 or high > 90:
            order = "latitude first" if info.northing_first else "longitude first"
            fix = (" For longitude-first coordinates, drop the CRS IRI (CRS84 is the default)."
                   if info.northing_first else "")
            raise InvalidGeometry(
                f"latitude {high if high > 90 else low:g} is outside [-90, 90] in the literal {show(text)}; "
                f"<{geom.crs}> lists coordinates {order}.{fix}"
            )
    return geom


def _parse_geojson(text: str) -> Geom:
    body = text.strip()
    if not body or body == "null":
        return Geom(EMPTY, CRS84)
    try:
        if '"geometry"' in body and json.loads(body).get("geometry", 0) is None:
            return Geom(EMPTY, CRS84)
        shape = shapely.from_geojson(body)
    except (shapely.errors.ShapelyError, ValueError, AttributeError) as error:
        raise InvalidGeometry(f"invalid GeoJSON literal {show(text)} ({_reason(error)}). {GEOJSON_HINT}") from None
    if shape is None:
        raise InvalidGeometry(f"invalid GeoJSON literal {show(text)}. {GEOJSON_HINT}")
    return _checked(Geom(shape, CRS84), crs_info(CRS84), text)


def _parse_xml(text: str, kind: str, parse) -> Geom:
    if not text.strip():
        return Geom(EMPTY, CRS84)
    try:
        shape, srs = parse(text)
    except GeoKGError as error:
        error.message = f"invalid {kind} literal {show(text)}: {error.message}"
        error.args = (error.message,)
        raise
    except Exception as error:  # XML syntax errors, bad numbers
        raise InvalidGeometry(f"invalid {kind} literal {show(text)} ({_reason(error)}).") from None
    if srs is None:
        return _checked(Geom(shape, CRS84), crs_info(CRS84), text)
    crs = canonical_crs_iri(srs)
    info = _crs_or_raise(crs, text)
    return _checked(Geom(swap_axes(shape) if info.northing_first else shape, crs), info, text)


def _crs_or_raise(crs: str, text: str):
    try:
        return crs_info(crs)
    except UnknownCRS as error:
        raise UnknownCRS(f"{error.message} (in the literal {show(text)})") from None


def _reason(error: Exception) -> str:
    message = str(error).split("\n")[0]
    return message.replace("ParseException: ", "")[:160]


def _looks_like_wkt(text: str) -> bool:
    head = text.lstrip().lstrip("<").upper()
    return any(head.startswith(t) or ("> " + t) in text.upper() for t in ("POINT", "LINESTRING", "POLYGON", "MULTI", "GEOMETRYCOLLECTION"))


def _show_term(term) -> str:
    value = getattr(term, "value", None)
    return f"<{value}>" if type(term) is NamedNode else show(str(value if value is not None else term))


# --- checking whole files --------------------------------------------------------------------


def check_literals(literals: Sequence[Literal], shapes: list | None = None) -> list[tuple[int, str]]:
    """(index, message) for every geometry literal that cannot be read; vectorised for WKT.

    DGGS literals are not checked: they may be stored, only the functions refuse them. With a
    ``shapes`` list, it gets the shapes parsed on the way (as ``parse_literal`` would give them
    for WKT without a CRS IRI, None for the others), so the spatial index need not parse again.

    >>> check_literals([Literal("POINT(1 2)", datatype=WKT_DATATYPE), Literal("POINT(1", datatype=WKT_DATATYPE)])[0][0]
    1
    """
    problems: list[tuple[int, str]] = []
    wkt_indices, wkt_texts = [], []
    for index, literal in enumerate(literals):
        datatype = literal.datatype.value
        if datatype == WKT_LITERAL:
            wkt_indices.append(index)
            wkt_texts.append(literal.value)
        elif datatype == DGGS_LITERAL:
            continue
        else:
            try:
                parse_literal(literal.value, datatype)
            except GeoKGError as error:
                problems.append((index, error.message))
    if shapes is not None:
        shapes[:] = [None] * len(literals)
    if wkt_texts:
        problems.extend(_check_wkt(wkt_indices, wkt_texts, shapes))
    problems.sort()
    return problems


def _check_wkt(indices: list[int], texts: list[str], parsed: list | None = None) -> list[tuple[int, str]]:
    problems = []
    bodies = np.empty(len(texts), dtype=object)
    crs_of_position: dict[str, list[int]] = {}
    canonical: dict[str, str] = {}
    for position, text in enumerate(texts):
        if text[:1] == "<":
            iri, closed, body = text.partition(">")
            if not closed:
                problems.append((indices[position], f"invalid WKT literal {show(text)}: the CRS IRI is not closed with '>'. {WKT_HINT}"))
                body = ""
            crs = canonical.get(iri)
            if crs is None:
                crs = canonical[iri] = canonical_crs_iri(iri[1:])
            crs_of_position.setdefault(crs, []).append(position)
            bodies[position] = body if body and not body.isspace() else "POINT EMPTY"
        elif text[:1].isspace() or not text:
            crs, body = split_crs(text)
            crs_of_position.setdefault(crs, []).append(position)
            bodies[position] = body or "POINT EMPTY"
        else:
            bodies[position] = text
    shapes = shapely.from_wkt(bodies, on_invalid="ignore")
    bad = shapely.is_missing(shapes)
    # latitudes beyond +-90: coordinates in the wrong axis order (checked per CRS, vectorised)
    bounds = shapely.bounds(shapes)
    in_other_crs = np.zeros(len(texts), dtype=bool)
    groups = [(crs, np.asarray(positions)) for crs, positions in crs_of_position.items()]
    for _, positions in groups:
        in_other_crs[positions] = True
    groups.append((CRS84, np.flatnonzero(~in_other_crs)))
    for crs, positions in groups:
        try:
            info = crs_info(crs)
        except UnknownCRS as error:
            bad[positions] = False
            problems.extend((indices[p], f"{error.message} (in the literal {show(texts[p])})") for p in positions)
            continue
        if info.geographic and abs(info.unit_factor - _DEGREE) < 1e-12 and len(positions):
            low, high = (0, 2) if info.northing_first else (1, 3)
            with np.errstate(invalid="ignore"):
                outside = (bounds[positions, low] < -90) | (bounds[positions, high] > 90)
            bad[positions[outside]] = True
    for position in np.flatnonzero(bad):
        try:
            _parse_wkt(texts[position])
            message = f"invalid WKT literal {show(texts[position])}. {WKT_HINT}"
        except GeoKGError as error:
            message = error.message
        problems.append((indices[position], message))
    if parsed is not None:
        for position in np.flatnonzero(~bad):
            if texts[position][:1].isalpha():
                parsed[indices[position]] = shapes[position]
    return problems


# --- writing ---------------------------------------------------------------------------------


def _dimension(shape: shapely.Geometry) -> int:
    return 4 if shapely.has_m(shape) else 3


def wkt_text(shape: shapely.Geometry, crs: str = CRS84) -> str:
    """WKT of ``shape`` in ``crs``: coordinates in the CRS's axis order, ``<iri>`` unless CRS84."""
    info = crs_info(crs)
    if info.northing_first:
        shape = swap_axes(shape)
    text = shapely.to_wkt(shape, rounding_precision=17, trim=True, output_dimension=_dimension(shape))
    return text if crs == CRS84 else f"<{crs}> {text}"


def wkt_literal(shape: shapely.Geometry, crs: str = CRS84) -> Literal:
    return Literal(wkt_text(shape, crs), datatype=WKT_DATATYPE)


def geojson_literal(geom: Geom) -> Literal:
    """GeoJSON (always CRS84, longitude first) of a geometry."""
    shape = reproject(geom.shape, geom.crs, CRS84)
    if shape.is_empty:
        return Literal("", datatype=GEOJSON_DATATYPE)
    return Literal(shapely.to_geojson(shape), datatype=GEOJSON_DATATYPE)


def gml_literal(geom: Geom, profile: str | None = None) -> Literal:
    """GML 3.2 (or 3.1.1) of a geometry in its own CRS, axis order as the CRS defines it."""
    namespace = gml.namespace_for(profile)
    info = crs_info(geom.crs)
    shape = swap_axes(geom.shape) if info.northing_first else geom.shape
    return Literal(gml.write(shape, geom.crs, namespace), datatype=GML_DATATYPE)


def kml_literal(geom: Geom) -> Literal:
    """KML 2.2 (always CRS84) of a geometry."""
    return Literal(kml.write(reproject(geom.shape, geom.crs, CRS84)), datatype=KML_DATATYPE)


def datatype_name(datatype: str) -> str:
    return DATATYPE_NAMES.get(datatype, f"<{datatype}>")
