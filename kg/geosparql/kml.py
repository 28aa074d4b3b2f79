"""KML 2.2 geometries (always CRS84: longitude,latitude[,altitude]) to and from shapely.

Read and write Point, LineString, LinearRing, Polygon (outer/innerBoundaryIs) and MultiGeometry;
a Placemark is read as its geometry.

>>> parse('<Point><coordinates>-83.38,33.95</coordinates></Point>')[0].wkt
'POINT (-83.38 33.95)'
>>> write(parse('<Point><coordinates>-83.38,33.95</coordinates></Point>')[0])
'<Point xmlns="http://www.opengis.net/kml/2.2"><coordinates>-83.38,33.95</coordinates></Point>'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import shapely
from shapely.geometry import GeometryCollection, LinearRing, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon

from kg.errors import InvalidGeometry, UnsupportedFeature
from kg.geosparql.vocab import KML_NS

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)
_GEOMETRIES = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _find(element: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in element.iter() if _local(e.tag) == name), None)


def _coordinates(element: ET.Element | None) -> list[tuple[float, ...]]:
    found = _find(element, "coordinates") if element is not None else None
    if found is None:
        return []
    return [tuple(float(v) for v in t.split(",")) for t in (found.text or "").split()]


def parse(text: str) -> tuple[shapely.Geometry, None]:
    """(shape, None) of a KML geometry element; KML has no srsName (always CRS84)."""
    root = ET.fromstring(_DECLARATION.sub("", text).strip())
    if _local(root.tag) not in _GEOMETRIES:
        found = next((e for e in root.iter() if _local(e.tag) in _GEOMETRIES), None)
        if found is None:
            raise InvalidGeometry(f"<{_local(root.tag)}> holds no KML geometry (Point, LineString, LinearRing, Polygon, MultiGeometry)")
        root = found
    return _geometry(root), None


def _geometry(element: ET.Element) -> shapely.Geometry:
    name = _local(element.tag)
    if name == "Point":
        coords = _coordinates(element)
        return Point(coords[0]) if coords else Point()
    if name == "LineString":
        return LineString(_coordinates(element))
    if name == "LinearRing":
        return LinearRing(_coordinates(element))
    if name == "Polygon":
        outer = [c for c in element if _local(c.tag) == "outerBoundaryIs"]
        inner = [c for c in element if _local(c.tag) == "innerBoundaryIs"]
        if not outer:
            return Polygon()
        return Polygon(_coordinates(outer[0]), [_coordinates(i) for i in inner])
    if name == "MultiGeometry":
        parts = [_geometry(c) for c in element if _local(c.tag) in _GEOMETRIES]
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"}:
            return MultiPoint(parts)
        if kinds == {"LineString"}:
            return MultiLineString(parts)
        if kinds == {"Polygon"}:
            return MultiPolygon(parts)
        return GeometryCollection(parts)
    raise UnsupportedFeature(f"The KML element <{name}>", hint="Supported: Point, LineString, LinearRing, Polygon, MultiGeometry.")


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _coordinate_text(coords) -> str:
    return "<coordinates>" + " ".join(",".join(_number(v) for v in c) for c in coords) + "</coordinates>"


def _write(shape: shapely.Geometry) -> str:
    kind = shape.geom_type
    if kind == "Point":
        return f"<Point>{_coordinate_text(shape.coords)}</Point>"
    if kind == "LineString":
        return f"<LineString>{_coordinate_text(shape.coords)}</LineString>"
    if kind == "LinearRing":
        return f"<LinearRing>{_coordinate_text(shape.coords)}</LinearRing>"
    if kind == "Polygon":
        outer = f"<outerBoundaryIs><LinearRing>{_coordinate_text(shape.exterior.coords)}</LinearRing></outerBoundaryIs>"
        inner = "".join(
            f"<innerBoundaryIs><LinearRing>{_coordinate_text(r.coords)}</LinearRing></innerBoundaryIs>" for r in shape.interiors
        )
        return f"<Polygon>{outer}{inner}</Polygon>"
    return "<MultiGeometry>" + "".join(_write(p) for p in shape.geoms if not p.is_empty) + "</MultiGeometry>"


def write(shape: shapely.Geometry) -> str:
    """KML of a CRS84 shape; "" for the empty geometry."""
    if shape.is_empty:
        return ""
    text = _write(shape)
    head_end = text.index(">")
    return text[:head_end] + f' xmlns="{KML_NS}"' + text[head_end:]
