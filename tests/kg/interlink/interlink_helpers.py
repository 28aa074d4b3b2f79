"""Shared helpers for the interlinking tests: datasets from WKT, random scenes, brute-force links."""

from __future__ import annotations

import numpy as np
import shapely

from kg.geosparql.vocab import CRS84
from kg.interlink.datasets import Dataset
from kg.interlink.verification import relation_masks

EX = "http://example.org/"


def dataset(name: str, geometries, crs: str = CRS84) -> Dataset:
    """Entities <http://example.org/{name}{k}> with the given shapes or WKT."""
    shapes = np.array([shapely.from_wkt(g) if isinstance(g, str) else g for g in geometries], dtype=object)
    iris = np.array([f"{EX}{name}{k}" for k in range(len(shapes))], dtype=object)
    return Dataset(name, iris, shapes, np.full(len(shapes), crs, dtype=object))


def scene(n: int, seed: int, *, spread: float = 20.0) -> np.ndarray:
    """Boxes, points, lines (diagonal and along an axis), multipolygons and holed polygons on an
    integer lattice, so that many pairs touch, share edges or are equal."""
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(n):
        x, y = (int(v) for v in rng.integers(0, spread, 2))
        w, h = (int(v) for v in rng.integers(1, 6, 2))
        kind = rng.integers(0, 6)
        if kind == 0:
            shapes.append(shapely.box(x, y, x + w, y + h))
        elif kind == 1:
            shapes.append(shapely.Point(x, y))
        elif kind == 2:
            shapes.append(shapely.LineString([(x, y), (x + w, y + h)]))
        elif kind == 3:
            shapes.append(shapely.LineString([(x, y), (x + w, y)]))
        elif kind == 4:
            shapes.append(shapely.MultiPolygon([shapely.box(x, y, x + 1, y + 1), shapely.box(x + 2, y + 2, x + w + 2, y + h + 2)]))
        else:
            shapes.append(shapely.box(x, y, x + w + 2, y + h + 2).difference(shapely.box(x + 1, y + 1, x + w + 1, y + h + 1)))
    return np.array(shapes, dtype=object)


def brute_force(source: np.ndarray, target: np.ndarray) -> dict[tuple[int, int], int]:
    """Every related pair of a nested loop over all pairs, with its relation mask."""
    i, j = (x.ravel() for x in np.meshgrid(np.arange(len(source)), np.arange(len(target)), indexing="ij"))
    masks, related = relation_masks(source[i], target[j])
    return dict(zip(zip(i[related].tolist(), j[related].tolist()), masks[related].tolist()))


def found_pairs(found) -> dict[tuple[int, int], int]:
    pairs = dict(zip(zip(found.s.tolist(), found.t.tolist()), found.masks.tolist()))
    assert len(pairs) == len(found.s), "a pair was reported twice"
    return pairs
