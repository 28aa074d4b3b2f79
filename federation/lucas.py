"""Validation of a crop-type map against LUCAS survey points.

A LUCAS point whose land cover (LC1) the code-list mappings tie to crop types
(``crop:* skos:exactMatch | broadMatch | narrowMatch lc1:*``) is *positive* when a predicted crop
region with one of those crop types lies within ``distance`` metres of it (``geof:distance`` in
metres: geodesic for CRS84 literals), and *negative* when none does; points whose LC1 code maps to
no crop type say nothing about the map and are left out. Two queries, on any store or on the
federation (points, predictions and code lists may sit in different sources): the applicable points
(:data:`POINTS_QUERY`), and the positive ones (:data:`POSITIVE_QUERY`, a spatial join that the
federation gathers with a spatial bind join and our engine answers from the spatial index).

>>> print(positive_query(10.0).splitlines()[-2])
  FILTER(geof:distance(?pg, ?rg, uom:metre) <= 10.0 && ?mapped = ?crop)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from kg.errors import GeoKGError
from kg.store import Store
from ontologies.namespaces import sparql_prologue

PROLOGUE = sparql_prologue("food", "sosa", "skos") + "PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
_POINTS = """  ?obs a food:LucasObservation ; food:landCover ?lc ; sosa:hasFeatureOfInterest ?point .
  ?point food:pointId ?id .
  ?crop skos:exactMatch|skos:broadMatch|skos:narrowMatch ?lc .
"""
POINTS_QUERY = PROLOGUE + f"SELECT DISTINCT ?point ?id ?lc ?crop {{\n{_POINTS}}}"
MAX_DISTANCE = 10_000.0


def positive_query(distance: float) -> str:
    """The GeoSPARQL query of the positive points: a crop region of a mapped crop type within ``distance`` metres."""
    return PROLOGUE + f"""SELECT DISTINCT ?point {{
{_POINTS}  ?point geo:hasGeometry/geo:asWKT ?pg .
  ?prediction food:cropType ?mapped ; sosa:hasFeatureOfInterest ?region .
  ?region geo:hasGeometry/geo:asWKT ?rg .
  FILTER(geof:distance(?pg, ?rg, uom:metre) <= {float(distance)!r} && ?mapped = ?crop)
}}"""


@dataclass(frozen=True)
class PointResult:
    """One applicable LUCAS point and whether a matching crop region lies near it."""

    point: str  # IRI
    point_id: str
    land_cover: str  # LC1 code, e.g. "B16"
    crop_types: tuple[str, ...]  # the crop types its LC1 code maps to (notations)
    positive: bool


@dataclass(frozen=True)
class ClassSummary:
    """Counts for one LC1 class."""

    land_cover: str
    crop_types: tuple[str, ...]
    points: int
    positive: int

    @property
    def negative(self) -> int:
        return self.points - self.positive

    @property
    def share_positive(self) -> float:
        return self.positive / self.points if self.points else 0.0


@dataclass
class Validation:
    """The outcome: every applicable point, and a summary per LC1 class."""

    distance: float
    points: list[PointResult] = field(default_factory=list)

    @property
    def positive(self) -> int:
        return sum(p.positive for p in self.points)

    @property
    def negative(self) -> int:
        return len(self.points) - self.positive

    def by_class(self) -> list[ClassSummary]:
        groups: dict[str, list[PointResult]] = defaultdict(list)
        for point in self.points:
            groups[point.land_cover].append(point)
        return [ClassSummary(lc, members[0].crop_types, len(members), sum(p.positive for p in members))
                for lc, members in sorted(groups.items())]


def validate_crop_map(store: Store, distance: float = 10.0, *, timeout: float | None = None) -> Validation:
    """Compare the crop-type predictions in ``store`` (a store or the federation) with its LUCAS points."""
    if not 0 <= distance <= MAX_DISTANCE:
        raise GeoKGError(f"The distance {distance} m is not between 0 and {MAX_DISTANCE:g} m; LUCAS validation uses 10 m.")
    mapped = store.query(POINTS_QUERY, timeout=timeout).bindings()
    positive = {row["point"].value for row in store.query(positive_query(distance), timeout=timeout).bindings()}
    points: dict[str, tuple[str, str, set[str]]] = {}
    for row in mapped:
        entry = points.setdefault(row["point"].value, (row["id"].value, _local(row["lc"].value), set()))
        entry[2].add(_local(row["crop"].value))
    results = [PointResult(iri, point_id, lc, tuple(sorted(crops)), iri in positive)
               for iri, (point_id, lc, crops) in points.items()]
    return Validation(distance, sorted(results, key=lambda p: p.point_id))


def _local(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]
