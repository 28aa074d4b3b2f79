"""Topological relations: Simple Features, Egenhofer, RCC8 (GeoSPARQL 1.1 Tables 9-11) and relate.

Each relation is the DE-9IM pattern the specification gives for it; the Simple Features ones
use GEOS's own predicates (same patterns, including the dimension rules of sfOverlaps and
sfCrosses, and faster on prepared geometries). The second geometry is moved into the CRS of the
first; relations are computed in that CRS's coordinates (planar, also for longitude/latitude).

>>> from pyoxigraph import Literal, NamedNode
>>> wkt = lambda s: Literal(s, datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
>>> RELATIONS["sfContains"](wkt("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"), wkt("POINT(1 1)")).value
'true'
"""

from __future__ import annotations

import re
from typing import Callable

import shapely

from kg.errors import InvalidGeometry
from kg.geosparql.literals import pair
from kg.geosparql.terms import FALSE, TRUE, string_of

# DE-9IM patterns of the relations GEOS has no named predicate for.
PATTERNS = {
    "ehOverlap": "T*T***T**",
    "ehCovers": "T*TFT*FF*",
    "ehCoveredBy": "TFF*TFT**",
    "ehInside": "TFF*FFT**",
    "ehContains": "T*TFF*FF*",
    "rcc8eq": "TFFFTFFFT",
    "rcc8dc": "FFTFFTTTT",
    "rcc8ec": "FFTFTTTTT",
    "rcc8po": "TTTTTTTTT",
    "rcc8tppi": "TTTFTTFFT",
    "rcc8tpp": "TFFTTFTTT",
    "rcc8ntpp": "TFFTFFTTT",
    "rcc8ntppi": "TTTFFTFFT",
}
# Relations whose DE-9IM definition is exactly a GEOS predicate.
PREDICATES = {
    "sfEquals": shapely.equals,  # TFFFTFFFT
    "sfDisjoint": shapely.disjoint,  # FF*FF****
    "sfIntersects": shapely.intersects,  # T******** | *T******* | ***T***** | ****T****
    "sfTouches": shapely.touches,  # FT******* | F**T***** | F***T****
    "sfWithin": shapely.within,  # T*F**F***
    "sfContains": shapely.contains,  # T*****FF*
    "sfOverlaps": shapely.overlaps,  # T*T***T** (A/A, P/P), 1*T***T** (L/L)
    "sfCrosses": shapely.crosses,  # T*T***T** (P/L, P/A, L/A), 0******** (L/L)
    "ehEquals": shapely.equals,  # TFFFTFFFT
    "ehDisjoint": shapely.disjoint,  # FF*FF****
    "ehMeet": shapely.touches,  # FT******* | F**T***** | F***T****
}
_PATTERN = re.compile(r"^[TF*012]{9}$")


def _predicate(predicate: Callable) -> Callable:
    def relation(first, second):
        g1, shape2 = pair(first, second)
        return TRUE if predicate(g1.shape, shape2) else FALSE

    return relation


def _pattern(pattern: str) -> Callable:
    def relation(first, second):
        g1, shape2 = pair(first, second)
        return TRUE if shapely.relate_pattern(g1.shape, shape2, pattern) else FALSE

    return relation


RELATIONS: dict[str, Callable] = {name: _predicate(p) for name, p in PREDICATES.items()}
RELATIONS.update({name: _pattern(p) for name, p in PATTERNS.items()})


def relate(first, second, pattern):
    """geof:relate(geom1, geom2, pattern): whether the DE-9IM matrix matches ``pattern``."""
    text = string_of(pattern, "DE-9IM pattern").strip().upper()
    if not _PATTERN.match(text):
        raise InvalidGeometry(f'the DE-9IM pattern must be 9 characters of T, F, *, 0, 1, 2 (e.g. "T*F**F***") but got "{text[:40]}".')
    g1, shape2 = pair(first, second)
    return TRUE if shapely.relate_pattern(g1.shape, shape2, text) else FALSE
