"""Pair weighting for progressive interlinking: which candidate pairs to verify first.

Every scheme is a vectorised function of the candidate pairs' MBRs, tiles and point counts
(JedAI-spatial's schemes, Papadakis et al. 2021):

=========  =====================================================================================
``cf``     common tiles of the two MBRs
``js``     common tiles / tiles of either (Jaccard)
``x2``     Pearson's chi-square statistic of the 2x2 table of the pair's tiles among all tiles of
           the grid (in both, in only one, in neither)
``mbro``   area of the MBR intersection / area of the MBR union (1 between two zero-area MBRs)
``isp``    1 / (points of the source geometry + points of the target geometry)
``random`` a pseudo-random number per pair (the baseline; the same for a pair on every run)
=========  =====================================================================================

A weighting is written ``x2*mbro`` for a product (a hybrid) and ``mbro,isp`` for a composite
(the second weight breaks ties of the first). Pairs are ordered by weight, heaviest first, and
equal weights by source then target position, so that the order is total and the same on Spark.

>>> Weighting.parse("x2*mbro,isp").text
'x2*mbro,isp'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kg.errors import GeoKGError
from kg.interlink.grid import Grid, tile_counts



@dataclass(frozen=True)
class Side:
    """What the weights need of one dataset: MBRs, tile ranges, point counts and each geometry's
    position in the whole dataset (on Spark a partition holds some of them), by position."""

    boxes: np.ndarray
    ranges: np.ndarray
    points: np.ndarray
    ids: np.ndarray


@dataclass(frozen=True)
class Pairs:
    """Candidate pairs (source and target positions) with what their weights are computed from."""

    s: np.ndarray
    t: np.ndarray
    source: Side
    target: Side
    grid: Grid
    seed: int = 0


@dataclass(frozen=True)
class Weighting:
    """A weighting: products of schemes, the first the main weight, the others breaking ties."""

    levels: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, text: str) -> "Weighting":
        levels = []
        for level in str(text).lower().replace(" ", "").split(","):
            names = tuple(level.replace("×", "*").split("*"))
            unknown = [n for n in names if n not in SCHEMES]
            if unknown or not level:
                raise GeoKGError(f"Got weighting {text!r}: {unknown[0] if unknown else 'an empty part'!r} is not a scheme; {HINT}.")
            levels.append(names)
        return cls(tuple(levels))

    @property
    def text(self) -> str:
        return ",".join("*".join(level) for level in self.levels)

    def weights(self, pairs: Pairs) -> list[np.ndarray]:
        """One weight array per level (main weight first)."""
        cache: dict[str, np.ndarray] = {}
        out = []
        for level in self.levels:
            weight = np.ones(len(pairs.s))
            for name in level:
                if name not in cache:
                    cache[name] = _SCHEMES[name](pairs)
                weight = weight * cache[name]
            out.append(weight)
        return out


def heaviest_first(weights: list[np.ndarray], s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The positions of the pairs in verification order: heaviest first, ties by source then target."""
    return np.lexsort((t, s, *(-w for w in reversed(weights))))


def _common(pairs: Pairs) -> np.ndarray:
    a, b = pairs.source.ranges[pairs.s], pairs.target.ranges[pairs.t]
    columns = np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0]) + 1
    rows = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 2], b[:, 2]) + 1
    return (np.maximum(columns, 0) * np.maximum(rows, 0)).astype(float)


def _tiles(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    return (tile_counts(pairs.source.ranges[pairs.s]).astype(float),
            tile_counts(pairs.target.ranges[pairs.t]).astype(float))


def cf(pairs: Pairs) -> np.ndarray:
    return _common(pairs)


def js(pairs: Pairs) -> np.ndarray:
    common = _common(pairs)
    a, b = _tiles(pairs)
    return common / (a + b - common)


def x2(pairs: Pairs) -> np.ndarray:
    n11 = _common(pairs)
    a, b = _tiles(pairs)
    n12, n21 = a - n11, b - n11
    n = float(pairs.grid.tiles)
    n22 = n - n11 - n12 - n21
    denominator = (n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = n * (n11 * n22 - n12 * n21) ** 2 / denominator
    return np.where(denominator > 0, value, 0.0)  # a pair covering every tile says nothing


def mbro(pairs: Pairs) -> np.ndarray:
    a, b = pairs.source.boxes[pairs.s], pairs.target.boxes[pairs.t]
    inter = (np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])) * (np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]))
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 1.0)


def isp(pairs: Pairs) -> np.ndarray:
    return 1.0 / (pairs.source.points[pairs.s] + pairs.target.points[pairs.t])


def random(pairs: Pairs) -> np.ndarray:
    """splitmix64 of (seed, source, target), in [0, 1): the same for a pair wherever it is weighed."""
    s, t = pairs.source.ids[pairs.s], pairs.target.ids[pairs.t]
    with np.errstate(over="ignore"):
        z = (s.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + t.astype(np.uint64)
             + np.uint64(pairs.seed) * np.uint64(0xD1B54A32D192ED03))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(float) / float(1 << 53)


_SCHEMES = {"cf": cf, "js": js, "x2": x2, "mbro": mbro, "isp": isp, "random": random}
SCHEMES = tuple(_SCHEMES)
HINT = (f"use one of {', '.join(SCHEMES)}, a product such as x2*mbro, "
        "or a composite such as mbro,isp (the second weight breaks ties of the first)")
