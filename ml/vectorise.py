"""Class maps to polygons: each connected region of one class becomes a polygon with its mean confidence.

Vectorised: each row of the map becomes runs of equal class (numpy), each run a box; the boxes of a
class are unioned by GEOS, whose result's parts are the class's regions (pixels sharing an edge
belong together; pixels touching only at a corner make separate parts). Each run is then found in
its region with a spatial index to sum the confidences. Coordinates are pixel corners (column, row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

NO_DATA = -1


@dataclass(frozen=True)
class Regions:
    """Polygons in pixel coordinates, with their class number, mean confidence and pixel count."""

    geometries: np.ndarray
    classes: np.ndarray
    confidence: np.ndarray
    pixels: np.ndarray

    def __len__(self) -> int:
        return len(self.geometries)


def regions(class_map: np.ndarray, confidence: np.ndarray) -> Regions:
    """The regions of equal class of ``class_map`` (rows, cols; ``NO_DATA`` = -1 left out).

    >>> m = np.array([[0, 0, 1], [0, 1, 1], [-1, -1, 1]])
    >>> r = regions(m, np.array([[0.9, 0.7, 0.6], [0.8, 0.6, 0.6], [0, 0, 0.6]]))
    >>> [(int(c), round(float(p), 2), int(n), g.area) for g, c, p, n in zip(r.geometries, r.classes, r.confidence, r.pixels)]
    [(0, 0.8, 3, 3.0), (1, 0.6, 4, 4.0)]
    """
    class_map = np.asarray(class_map)
    rows, cols = class_map.shape
    change = np.ones((rows, cols), dtype=bool)
    change[:, 1:] = class_map[:, 1:] != class_map[:, :-1]
    row_of, start = np.nonzero(change)
    flat_start = row_of * cols + start
    end = np.append(flat_start[1:], rows * cols)
    end = np.where(np.append(row_of[1:], rows) != row_of, (row_of + 1) * cols, end)  # runs end with their row
    run_class = class_map.reshape(-1)[flat_start]
    keep = run_class != NO_DATA
    row_of, flat_start, end, run_class = row_of[keep], flat_start[keep], end[keep], run_class[keep]
    x0, x1 = flat_start - row_of * cols, end - row_of * cols
    sums = np.concatenate([[0.0], np.cumsum(np.asarray(confidence, dtype="float64").reshape(-1))])
    run_conf, run_pixels = sums[end] - sums[flat_start], x1 - x0
    boxes = shapely.box(x0, row_of, x1, row_of + 1)

    geometries, classes, confidences, pixels = [], [], [], []
    for c in np.unique(run_class):
        mine = run_class == c
        merged = shapely.union_all(boxes[mine])
        parts = np.array(shapely.get_parts(merged))
        parts = shapely.simplify(parts, 0)  # drop the vertices left on straight edges between runs
        tree = shapely.STRtree(parts)
        centres = shapely.points(x0[mine] + (x1[mine] - x0[mine]) / 2, row_of[mine] + 0.5)
        run_at, part_at = tree.query(centres, predicate="within")
        n = np.bincount(part_at, weights=run_pixels[mine][run_at], minlength=len(parts))
        s = np.bincount(part_at, weights=run_conf[mine][run_at], minlength=len(parts))
        geometries.append(parts)
        classes.append(np.full(len(parts), c))
        confidences.append(s / np.maximum(n, 1))
        pixels.append(n.astype(int))
    if not geometries:
        return Regions(np.array([], dtype=object), np.array([], dtype=int), np.array([]), np.array([], dtype=int))
    return Regions(np.concatenate(geometries), np.concatenate(classes), np.concatenate(confidences), np.concatenate(pixels))
