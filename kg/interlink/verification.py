"""Verification: one DE-9IM matrix per candidate pair, then every relation read off the matrix.

``shapely.relate`` computes the matrices of a whole array of pairs in GEOS; the matrices become a
``(pairs, 9)`` byte array, and each relation is a vectorised test of its cells. (One thread:
``shapely.relate`` holds the GIL while it makes the strings, so two threads gain nothing, and GEOS
predicates on prepared geometries from two threads at once can crash the process.)
The relations are the ones the store's ``geof:`` functions compute (``kg.geosparql.topology``):
the Simple Features ones as GEOS defines its named predicates (with their dimension rules for
touches, crosses, overlaps and equals), the Egenhofer covers/coveredBy by their GeoSPARQL patterns.
A pair's relations are one integer, a bit per relation in the order of :data:`RELATIONS`.

>>> import shapely
>>> square = shapely.box(0, 0, 2, 2)
>>> masks, related = relation_masks([square, square], [shapely.box(2, 0, 3, 1), shapely.Point(1, 1)])
>>> [names_of(m) for m in masks], related.tolist()
([['sfIntersects', 'sfTouches'], ['sfIntersects', 'sfContains']], [True, True])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely

from kg.errors import GeoKGError
from kg.geosparql.topology import PATTERNS
from kg.geosparql.vocab import GEO

RELATIONS = ("sfEquals", "sfIntersects", "sfTouches", "sfCrosses", "sfWithin", "sfContains", "sfOverlaps",
             "ehCovers", "ehCoveredBy")
BITS = {name: 1 << position for position, name in enumerate(RELATIONS)}
_F = ord("F")


def relation_names(names: str | Iterable[str] | None) -> tuple[str, ...]:
    """The relations asked for (``None``: all), by local name, ``geo:`` name or IRI, in canonical order.

    >>> relation_names("geo:sfWithin, sfContains")
    ('sfWithin', 'sfContains')
    """
    if names is None:
        return RELATIONS
    given = names.split(",") if isinstance(names, str) else list(names)
    wanted = set()
    for name in (n.strip() for n in given):
        local = name.removeprefix(GEO).removeprefix("geo:").strip("<>")
        if local not in BITS:
            raise GeoKGError(f"Got relation {name!r}; use some of {', '.join(RELATIONS)} (comma-separated).")
        wanted.add(local)
    if not wanted:
        raise GeoKGError(f"No relation given; use some of {', '.join(RELATIONS)} (comma-separated).")
    return tuple(r for r in RELATIONS if r in wanted)


def names_of(mask: int) -> list[str]:
    """The relations set in a mask."""
    return [name for name, bit in BITS.items() if mask & bit]


def relation_masks(first: Sequence, second: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """For each pair ``(first[k], second[k])`` of non-empty geometries: the mask of every relation
    (int16) and whether the pair is related at all (not disjoint)."""
    first, second = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    if len(first) == 0:
        return np.zeros(0, dtype=np.int16), np.zeros(0, dtype=bool)
    masks = masks_of_matrices(shapely.relate(first, second), first, second)
    return masks, masks != 0


def masks_of_matrices(matrices: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The relation masks of DE-9IM matrices (strings of cells II IB IE BI BB BE EI EB EE) of these pairs."""
    m = np.frombuffer("".join(matrices.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 9)
    return _masks(m, shapely.get_dimensions(first), shapely.get_dimensions(second))


def _masks(m: np.ndarray, dim_a: np.ndarray, dim_b: np.ndarray) -> np.ndarray:
    """The relations of DE-9IM matrices, as bytes, for geometries of these dimensions."""
    t = m != _F
    f = ~t
    same = dim_a == dim_b
    intersects = t[:, 0] | t[:, 1] | t[:, 3] | t[:, 4]
    tests = {
        "sfEquals": same & t[:, 0] & f[:, 2] & f[:, 5] & f[:, 6] & f[:, 7],  # T*F**FFF*
        "sfIntersects": intersects,
        "sfTouches": ~((dim_a == 0) & (dim_b == 0)) & f[:, 0] & (t[:, 1] | t[:, 3] | t[:, 4]),
        "sfCrosses": _crosses(m, t, dim_a, dim_b),
        "sfWithin": t[:, 0] & f[:, 2] & f[:, 5],  # T*F**F***
        "sfContains": t[:, 0] & f[:, 6] & f[:, 7],  # T*****FF*
        "sfOverlaps": same & t[:, 2] & t[:, 6] & np.where(dim_a == 1, m[:, 0] == ord("1"), t[:, 0]),
        "ehCovers": _matches(m, PATTERNS["ehCovers"]),
        "ehCoveredBy": _matches(m, PATTERNS["ehCoveredBy"]),
    }
    masks = np.zeros(len(m), dtype=np.int16)
    for name, holds in tests.items():
        masks |= np.where(holds & intersects, BITS[name], 0).astype(np.int16)
    return masks


def _crosses(m: np.ndarray, t: np.ndarray, dim_a: np.ndarray, dim_b: np.ndarray) -> np.ndarray:
    """GEOS's crosses: T*T****** when the first is of lower dimension, T*****T** when higher
    (neither point/point nor area/area), 0******** between two lines."""
    lower = (dim_a < dim_b) & t[:, 0] & t[:, 2]
    higher = (dim_a > dim_b) & t[:, 0] & t[:, 6]
    lines = (dim_a == 1) & (dim_b == 1) & (m[:, 0] == ord("0"))
    return lower | higher | lines


def _matches(m: np.ndarray, pattern: str) -> np.ndarray:
    """Which matrices match a DE-9IM pattern (T, F, *, 0, 1, 2)."""
    holds = np.ones(len(m), dtype=bool)
    for cell, want in enumerate(pattern):
        if want == "T":
            holds &= m[:, cell] != _F
        elif want != "*":
            holds &= m[:, cell] == ord(want)
    return holds
