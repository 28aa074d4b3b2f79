"""GML geometries (the GML 3.2 / 3.1.1 simple-features profile, and GML 2 coordinates) to and from shapely.

Read: Point, LineString, LinearRing, Curve (LineStringSegment), Polygon, Surface (PolygonPatch),
Envelope/Box, MultiPoint, MultiCurve/MultiLineString, MultiSurface/MultiPolygon, MultiGeometry,
with ``pos``, ``posList``, ``coordinates`` or ``coord``; ``srsName`` and ``srsDimension`` on the
root (or the first element that has them). The ``gml`` prefix may be left undeclared.
Coordinates are returned in the order written (the CRS's axis order); the caller swaps.
Write: GML 3.2 (or 3.1.1) Point, LineString, Polygon, MultiPoint, MultiCurve, MultiSurface,
MultiGeometry.

>>> shape, srs = parse('<gml:Point srsName="EPSG:4326"><gml:pos>1 2</gml:pos></gml:Point>')
>>> shape.wkt, srs
('POINT (1 2)', 'EPSG:4326')
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import shapely
from shapely.geometry import GeometryCollection, LinearRing, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, box

from kg.errors import InvalidGeometry, UnsupportedFeature
from kg.geosparql.vocab import GML32_NS, GML311_NS

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)
PROFILES = {"": GML32_NS, "3.2": GML32_NS, "3.2.1": GML32_NS, "gml3.2": GML32_NS, "gml 3.2": GML32_NS,
            GML32_NS.lower(): GML32_NS, "3.1.1": GML311_NS, "gml3.1.1": GML311_NS, "gml 3.1.1": GML311_NS,
            GML311_NS.lower(): GML311_NS}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _root(text: str) -> ET.Element:
    body = _DECLARATION.sub("", text).strip()
    try:
        return ET.fromstring(body)
    except ET.ParseError as error:
        if "unbound prefix" not in str(error):
            raise
    wrapped = (f'<wrapper xmlns:gml="{GML32_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" '
               f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{body}</wrapper>')
    return ET.fromstring(wrapped)[0]


def parse(text: str) -> tuple[shapely.Geometry, str | None]:
    """(shape in written axis order, srsName or None) of a GML geometry element."""
    root = _root(text)
    srs, dimension = None, None
    for element in root.iter():
        srs = srs or element.get("srsName")
        dimension = dimension or element.get("srsDimension")
    return _geometry(root, int(dimension) if dimension else None), srs


def _children(element: ET.Element, *names: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) in names]


def _numbers(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split()]


def _coordinates(element: ET.Element, dimension: int | None) -> list[tuple[float, ...]]:
    """The coordinates of a Point/LineString/LinearRing, however they are written."""
    points: list[tuple[float, ...]] = []
    for child in element:
        name = _local(child.tag)
        if name == "posList":
            dim = int(child.get("srsDimension") or dimension or 2)
            values = _numbers(child.text)
            if len(values) % dim:
                raise InvalidGeometry(f"a posList has {len(values)} numbers, not a multiple of srsDimension {dim}")
            points.extend(tuple(values[i : i + dim]) for i in range(0, len(values), dim))
        elif name == "pos":
            points.append(tuple(_numbers(child.text)))
        elif name == "coordinates":  # GML 2: "x,y x,y" (cs="," ts=" ")
            cs, ts = child.get("cs", ","), child.get("ts")
            tuples = (child.text or "").split(ts) if ts else (child.text or "").split()
            points.extend(tuple(float(v) for v in t.split(cs)) for t in tuples if t.strip())
        elif name == "coord":
            points.append(tuple(float(c.text) for c in child if _local(c.tag) in ("X", "Y", "Z")))
        elif name in ("pointProperty", "pointRep"):
            points.extend(_coordinates(child[0], dimension))
    return points


def _ring(element: ET.Element, dimension: int | None) -> list[tuple[float, ...]]:
    rings = _children(element, "LinearRing", "Ring")
    if not rings:
        raise InvalidGeometry(f"<{_local(element.tag)}> has no LinearRing")
    ring = rings[0]
    if _local(ring.tag) == "Ring":  # Ring of curveMembers: concatenate their coordinates
        coords: list[tuple[float, ...]] = []
        for member in _children(ring, "curveMember"):
            coords.extend(_line_coordinates(member[0], dimension))
        return coords
    return _coordinates(ring, dimension)


def _line_coordinates(element: ET.Element, dimension: int | None) -> list[tuple[float, ...]]:
    if _local(element.tag) == "Curve":
        coords: list[tuple[float, ...]] = []
        for segments in _children(element, "segments"):
            for segment in segments:
                coords.extend(_coordinates(segment, dimension))
        return coords
    return _coordinates(element, dimension)


def _polygon(element: ET.Element, dimension: int | None) -> Polygon:
    if _local(element.tag) == "Surface":
        patches = [p for ps in _children(element, "patches", "polygonPatches") for p in ps]
        if len(patches) != 1:
            raise UnsupportedFeature("A gml:Surface with other than one PolygonPatch", hint="Use gml:Polygon or gml:MultiSurface.")
        element = patches[0]
    outer = _children(element, "exterior", "outerBoundaryIs")
    inner = _children(element, "interior", "innerBoundaryIs")
    if not outer:
        return Polygon()
    return Polygon(_ring(outer[0], dimension), [_ring(i, dimension) for i in inner])


def _members(element: ET.Element, single: tuple[str, ...], plural: tuple[str, ...]) -> list[ET.Element]:
    found = []
    for child in element:
        name = _local(child.tag)
        if name in single:
            found.extend(list(child)[:1])
        elif name in plural:
            found.extend(child)
    return found


def _geometry(element: ET.Element, dimension: int | None) -> shapely.Geometry:
    name = _local(element.tag)
    if name == "Point":
        coords = _coordinates(element, dimension)
        return Point(coords[0]) if coords else Point()
    if name in ("LineString", "Curve", "LineStringSegment"):
        return LineString(_line_coordinates(element, dimension))
    if name == "LinearRing":
        return LinearRing(_coordinates(element, dimension))
    if name in ("Polygon", "Surface", "PolygonPatch"):
        return _polygon(element, dimension)
    if name in ("Envelope", "Box"):
        corners = [tuple(_numbers(c.text)) for c in _children(element, "lowerCorner", "upperCorner")]
        corners = corners or _coordinates(element, dimension)
        (x1, y1, *_), (x2, y2, *_) = corners
        return box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    if name == "MultiPoint":
        return MultiPoint([_geometry(m, dimension) for m in _members(element, ("pointMember",), ("pointMembers",))])
    if name in ("MultiCurve", "MultiLineString"):
        members = _members(element, ("curveMember", "lineStringMember"), ("curveMembers",))
        return MultiLineString([_geometry(m, dimension) for m in members])
    if name in ("MultiSurface", "MultiPolygon"):
        members = _members(element, ("surfaceMember", "polygonMember"), ("surfaceMembers",))
        return MultiPolygon([_geometry(m, dimension) for m in members])
    if name in ("MultiGeometry", "GeometryCollection"):
        members = _members(element, ("geometryMember",), ("geometryMembers",))
        return GeometryCollection([_geometry(m, dimension) for m in members])
    raise UnsupportedFeature(
        f"The GML element <{name}>",
        hint="Supported: Point, LineString, LinearRing, Curve, Polygon, Surface, Envelope, MultiPoint, "
        "MultiCurve, MultiLineString, MultiSurface, MultiPolygon, MultiGeometry.",
    )


# --- writing ---------------------------------------------------------------------------------


def namespace_for(profile: str | None) -> str:
    """The GML namespace of a profile string given to geof:asGML ("3.2" by default)."""
    key = (profile or "").strip().lower()
    if key in PROFILES:
        return PROFILES[key]
    raise UnsupportedFeature(
        f"The GML profile {profile!r}", hint='Use "3.2" (the default, namespace http://www.opengis.net/gml/3.2) or "3.1.1".'
    )


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _pos_list(coords) -> str:
    return " ".join(" ".join(_number(v) for v in c) for c in coords)


def _write(shape: shapely.Geometry) -> str:
    kind = shape.geom_type
    if kind == "Point":
        return f"<gml:Point><gml:pos>{_pos_list(shape.coords)}</gml:pos></gml:Point>"
    if kind in ("LineString", "LinearRing"):
        return f"<gml:LineString><gml:posList>{_pos_list(shape.coords)}</gml:posList></gml:LineString>"
    if kind == "Polygon":
        ring = "<gml:{0}><gml:LinearRing><gml:posList>{1}</gml:posList></gml:LinearRing></gml:{0}>"
        parts = [ring.format("exterior", _pos_list(shape.exterior.coords))]
        parts += [ring.format("interior", _pos_list(r.coords)) for r in shape.interiors]
        return f"<gml:Polygon>{''.join(parts)}</gml:Polygon>"
    container, member = {
        "MultiPoint": ("MultiPoint", "pointMember"),
        "MultiLineString": ("MultiCurve", "curveMember"),
        "MultiPolygon": ("MultiSurface", "surfaceMember"),
        "GeometryCollection": ("MultiGeometry", "geometryMember"),
    }[kind]
    members = "".join(f"<gml:{member}>{_write(part)}</gml:{member}>" for part in shape.geoms if not part.is_empty)
    return f"<gml:{container}>{members}</gml:{container}>"


def write(shape: shapely.Geometry, srs: str, namespace: str) -> str:
    """GML of ``shape`` (coordinates already in the CRS's axis order); "" for the empty geometry."""
    if shape.is_empty:
        return ""
    text = _write(shape)
    head_end = text.index(">")
    dimension = ' srsDimension="3"' if shapely.has_z(shape) else ""
    attributes = f' xmlns:gml="{namespace}" srsName="{srs}"{dimension}'
    return text[:head_end] + attributes + text[head_end:]
