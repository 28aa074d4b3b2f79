"""What each source holds, for source selection: predicates, classes, spatial extent, GeoSPARQL support.

A description is made once (``describe``), kept as JSON, and made again when a source's data
changes (``eekg federation describe``): a description that misses a predicate the source has since
gained makes the federation skip that source for it. The spatial extent is the CRS84 bounding box
of every geometry literal, computed by our own literal parser (``kg.geosparql.index.stage``), so
literals in any CRS count.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from federation.errors import ConfigurationError, FederationError, ReplyTooLarge
from federation.sources import Source
from kg.errors import GeoKGError
from kg.geosparql.index import stage
from kg.geosparql.vocab import GEOF, GEOMETRY_DATATYPES, WKT_LITERAL

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_GEOMETRY_IN = ", ".join(f"<{d}>" for d in GEOMETRY_DATATYPES)
_CHUNK = 50_000  # geometry literals parsed together when measuring the extent

# What a source's GeoSPARQL can be trusted with, from probes with known answers:
#   "full"      every geof: function as ours (an eekg server): spatial filters are sent as written;
#   "topology"  geof:sfIntersects on plain CRS84 WKT (e.g. Oxigraph's native functions): spatial
#               filters are sent as a bounding-box pre-filter, the exact test stays at the federator;
#   "none"      spatial filters stay at the federator.
_BOX = '"POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"^^<' + WKT_LITERAL + ">"
_PROBES = {
    "topology": [
        (f'ASK {{ FILTER(<{GEOF}sfIntersects>("POINT(1 1)"^^<{WKT_LITERAL}>, {_BOX})) }}', True),
        (f'ASK {{ FILTER(<{GEOF}sfIntersects>("POINT(3 3)"^^<{WKT_LITERAL}>, {_BOX})) }}', False),
        (f'ASK {{ FILTER(<{GEOF}sfIntersects>("LINESTRING(-1 1, 3 1)"^^<{WKT_LITERAL}>, {_BOX})) }}', True),
    ],
    "full": [
        (f'ASK {{ FILTER(<{GEOF}distance>("POINT(0 0)"^^<{WKT_LITERAL}>, "POINT(0 1)"^^<{WKT_LITERAL}>, '
         f'<http://www.opengis.net/def/uom/OGC/1.0/metre>) > 110000) }}', True),
        (f'ASK {{ FILTER(<{GEOF}sfWithin>(<{GEOF}buffer>("POINT(1 1)"^^<{WKT_LITERAL}>, 1000, '
         f'<http://www.opengis.net/def/uom/OGC/1.0/metre>), {_BOX})) }}', True),
    ],
}


@dataclass
class Description:
    """A source's content, as far as source selection needs it."""

    source: str
    triples: int
    predicates: dict[str, int] = field(default_factory=dict)  # predicate IRI -> triples
    classes: dict[str, int] = field(default_factory=dict)  # class IRI -> instances
    extent: tuple[float, float, float, float] | None = None  # CRS84 (min lon, min lat, max lon, max lat)
    geosparql: str = "none"  # "full", "topology" or "none", see _PROBES

    def may_match(self, predicate: str | None, rdf_class: str | None = None) -> bool:
        """Whether the source may hold triples with this predicate (None: any) and, for rdf:type, object class.

        >>> d = Description("s", 3, {RDF_TYPE: 1, "http://x/p": 2}, {"http://x/C": 1})
        >>> d.may_match("http://x/p"), d.may_match("http://x/q"), d.may_match(RDF_TYPE, "http://x/D"), d.may_match(None)
        (True, False, False, True)
        """
        if predicate is None:
            return self.triples > 0
        if predicate not in self.predicates:
            return False
        return rdf_class is None or predicate != RDF_TYPE or rdf_class in self.classes

    def may_intersect(self, box: tuple[float, float, float, float]) -> bool:
        """Whether any geometry of the source may intersect a CRS84 box (True when the extent is unknown)."""
        if self.extent is None:
            return self.triples > 0
        a = self.extent
        return not (box[2] < a[0] or box[0] > a[2] or box[3] < a[1] or box[1] > a[3])

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Description":
        extent = data.get("extent")
        return cls(data["source"], int(data["triples"]), dict(data.get("predicates", {})), dict(data.get("classes", {})),
                   tuple(extent) if extent else None, data.get("geosparql", "none"))


def describe(source: Source, timeout: float | None = None) -> Description:
    """Ask a source what it holds: counts by predicate and class, the extent of its geometries, its GeoSPARQL."""
    predicates = _counts(source, "SELECT ?k (COUNT(*) AS ?n) { ?s ?k ?o } GROUP BY ?k", timeout)
    classes = _counts(source, f"SELECT ?k (COUNT(*) AS ?n) {{ ?s <{RDF_TYPE}> ?k }} GROUP BY ?k", timeout)
    geosparql = source.geosparql or _geosparql(source, timeout)  # as configured, else probed
    return Description(source.name, sum(predicates.values()), predicates, classes, _extent(source, timeout), geosparql)


def _counts(source: Source, sparql: str, timeout) -> dict[str, int]:
    counts = {}
    for key, n in source.rows(sparql, timeout):
        if isinstance(key, ox.NamedNode) and n is not None:
            counts[key.value] = int(n.value)
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _extent(source: Source, timeout) -> tuple[float, float, float, float] | None:
    """The CRS84 box around every geometry literal; None when there are none, or when they are more
    than one reply may carry (then the source is never pruned by place)."""
    try:
        rows = source.rows(f"SELECT DISTINCT ?o {{ ?s ?p ?o FILTER(isLiteral(?o) && DATATYPE(?o) IN ({_GEOMETRY_IN})) }}", timeout)
    except ReplyTooLarge:
        return None
    boxes = np.empty((0, 4))
    for start in range(0, len(rows), _CHUNK):
        try:
            staged = stage([row[0] for row in rows[start:start + _CHUNK]], strict=True)
        except GeoKGError as error:
            raise FederationError(source.name, f"holds a geometry literal we cannot read: {error.message}") from None
        boxes = np.vstack([boxes, staged.boxes[~np.isnan(staged.boxes).any(axis=1)]])
    if not len(boxes):
        return None
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def _geosparql(source: Source, timeout) -> str:
    level = "none"
    for name in ("topology", "full"):
        try:
            if not all(source.ask(probe, timeout) == expected for probe, expected in _PROBES[name]):
                break
        except FederationError:  # a source that refuses the probe does not have the function
            break
        level = name
    return level


VOID = "http://rdfs.org/ns/void#"


def void_turtle(descriptions: dict[str, Description], base: str = "urn:eekg:source:") -> bytes:
    """Descriptions as VoID (Turtle): a ``void:Dataset`` per source with its triples, a property
    partition per predicate and a class partition per class, and its extent as ``geo:hasBoundingBox``.

    >>> print(void_turtle({"s": Description("s", 2, {"http://x/p": 2})}).decode().splitlines()[-1])
    <urn:eekg:source:s> a void:Dataset ; void:triples 2 ; void:propertyPartition [ void:property <http://x/p> ; void:triples 2 ] .
    """
    lines = [f"@prefix void: <{VOID}> .", "@prefix geo: <http://www.opengis.net/ont/geosparql#> ."]
    for name, d in descriptions.items():
        parts = [f"void:triples {int(d.triples)}"]
        parts += [f"void:propertyPartition [ void:property {ox.NamedNode(p)} ; void:triples {int(c)} ]" for p, c in d.predicates.items()]
        parts += [f"void:classPartition [ void:class {ox.NamedNode(k)} ; void:entities {int(c)} ]" for k, c in d.classes.items()]
        if d.extent:
            w, south, e, north = d.extent
            box = f"POLYGON(({w} {south}, {e} {south}, {e} {north}, {w} {north}, {w} {south}))"
            parts.append(f"geo:hasBoundingBox [ geo:asWKT {ox.Literal(box, datatype=ox.NamedNode(WKT_LITERAL))} ]")
        lines.append(f"{ox.NamedNode(base + name)} a void:Dataset ; " + " ; ".join(parts) + " .")
    return ("\n".join(lines) + "\n").encode()


def save_descriptions(descriptions: dict[str, Description], path: Path) -> None:
    """Write descriptions as one JSON file."""
    path.write_text(json.dumps({name: d.to_json() for name, d in descriptions.items()}, indent=1))


def load_descriptions(path: Path) -> dict[str, Description]:
    """Read descriptions written by :func:`save_descriptions`."""
    try:
        data = json.loads(Path(path).read_text())
        return {name: Description.from_json(entry) for name, entry in data.items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(f"Cannot read the source descriptions {path}: {error}. "
                                 "Make them again with `eekg federation describe`.") from None


def grown(box: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float] | None:
    """A CRS84 box grown by a distance in metres on every side (None when it reaches a pole: no pruning).

    >>> [round(v, 4) for v in grown((16.0, 48.0, 16.1, 48.1), 1000)]
    [15.9864, 47.9909, 16.1136, 48.1091]
    """
    dlat = metres / 110_574.0 * 1.01  # a degree of latitude is at least 110,574 m; 1 % margin
    top = max(abs(box[1] - dlat), abs(box[3] + dlat))
    if top >= 89.0:
        return None
    dlon = metres / (111_320.0 * math.cos(math.radians(top))) * 1.01
    return (box[0] - dlon, box[1] - dlat, box[2] + dlon, box[3] + dlat)
