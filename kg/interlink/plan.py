"""What an interlinking run is asked to do, checked once, and what it found.

>>> Plan.of(budget=100).weighting.text
'mbro'
>>> Plan.of().progressive
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from kg.errors import GeoKGError
from kg.interlink.grid import Grid
from kg.interlink.verification import BITS, RELATIONS, relation_names
from kg.interlink.weighting import Side, Weighting

DEFAULT_WEIGHTING = "mbro"  # the best measured here (docs/interlink.md), with chi-square x MBRO a close second


@dataclass(frozen=True)
class Plan:
    """Relations to emit; the budget of verified pairs (None: every candidate); the weighting that
    orders a progressive run (None: exhaustive, candidates verified as they come); tile size factor."""

    relations: tuple[str, ...] = RELATIONS
    budget: int | None = None
    weighting: Weighting | None = None
    granularity: float = 1.0
    seed: int = 0

    @classmethod
    def of(cls, *, relations=None, budget=None, weighting=None, granularity: float = 1.0, seed: int = 0) -> "Plan":
        """A plan from user input: a budget without a weighting uses :data:`DEFAULT_WEIGHTING`; a
        weighting without a budget verifies every candidate, heaviest first."""
        if budget is not None:
            if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
                raise GeoKGError(f"Got budget={budget!r}; give a whole number of candidate pairs to verify, at least 1 "
                                 "(or no budget to verify them all).")
            budget = int(budget)
        if isinstance(weighting, str):
            weighting = Weighting.parse(weighting)
        if weighting is None and budget is not None:
            weighting = Weighting.parse(DEFAULT_WEIGHTING)
        if not isinstance(granularity, (int, float)) or isinstance(granularity, bool) or not granularity > 0:
            raise GeoKGError(f"Got granularity={granularity!r}; give a positive number (1: tiles of the source's mean MBR size).")
        return cls(relation_names(relations), budget, weighting, float(granularity), int(seed))

    @property
    def progressive(self) -> bool:
        return self.weighting is not None

    @property
    def method(self) -> str:
        return "progressive" if self.progressive else "exhaustive"

    @property
    def mask(self) -> int:
        """The bits of the relations asked for."""
        return sum(BITS[r] for r in self.relations)


@dataclass(frozen=True)
class Geometries:
    """One dataset's shapes (in the run's CRS) and what filtering and weighting read of them."""

    shapes: np.ndarray
    side: Side

    @classmethod
    def of(cls, shapes: np.ndarray, grid: Grid, ids: np.ndarray | None = None) -> "Geometries":
        """``ids``: each shape's position in the whole dataset (default: its position here)."""
        boxes = shapely.bounds(shapes)
        ids = np.arange(len(shapes), dtype=np.int64) if ids is None else ids
        return cls(shapes, Side(boxes, grid.ranges(boxes), shapely.get_num_coordinates(shapes).astype(float), ids))


@dataclass(frozen=True)
class Found:
    """The related pairs (source and target positions, sorted) with the mask of their relations;
    ``ranks``: for a progressive run, each pair's place in the verification order."""

    s: np.ndarray
    t: np.ndarray
    masks: np.ndarray
    ranks: np.ndarray | None
    candidates: int
    verified: int

    @classmethod
    def of(cls, s, t, masks, ranks, candidates: int, verified: int) -> "Found":
        s, t = np.asarray(s, dtype=np.int64), np.asarray(t, dtype=np.int64)
        order = np.lexsort((t, s))
        ranks = None if ranks is None else np.asarray(ranks, dtype=np.int64)[order]
        return cls(s[order], t[order], np.asarray(masks, dtype=np.int16)[order], ranks, int(candidates), int(verified))

    @property
    def related(self) -> int:
        return len(self.s)

    def links(self, mask: int) -> int:
        """How many links (pair, relation) the relations in ``mask`` give."""
        kept = (self.masks & mask).astype(np.int64)
        return int(sum(((kept >> bit) & 1).sum() for bit in range(len(RELATIONS))))
