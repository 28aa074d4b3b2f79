"""The equigrid of the filtering step: tiles as wide and high as the source's mean MBR.

The grid covers the source's extent; its tiles are ``granularity`` times the mean width and
height of the source geometries' MBRs (JedAI-spatial's default is 1). A geometry is in every tile
its MBR touches (a target's tiles are cut to the grid: outside it there is no source). A tile is
one integer key, ``column * rows + row``. Every computation of a tile from a coordinate goes
through :meth:`Grid.columns` and :meth:`Grid.rows`, so that the reference point of a pair (see
``candidates.py``) always falls in a tile of both geometries, on the driver and on every executor.

>>> import numpy as np
>>> grid = Grid.of_source(np.array([[0.0, 0.0, 1.0, 1.0], [3.0, 0.0, 4.0, 1.0]]))
>>> grid.nx, grid.ny, grid.width
(5, 2, 1.0)
>>> keys, owners = grid.entries(grid.ranges(np.array([[0.5, 0.5, 1.5, 0.8]])))
>>> keys.tolist(), owners.tolist()
([0, 2], [0, 0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kg.errors import GeoKGError

MAX_TILES = 1 << 22  # tiles grow beyond the mean MBR when the extent would need more


@dataclass(frozen=True)
class Grid:
    """Origin (west, south), tile size and the number of columns (``nx``) and rows (``ny``)."""

    x0: float
    y0: float
    width: float
    height: float
    nx: int
    ny: int

    @classmethod
    def of_source(cls, boxes: np.ndarray, granularity: float = 1.0) -> "Grid":
        """The grid for source MBRs (``(n, 4)``: minx, miny, maxx, maxy), tiles ``granularity``
        times their mean size. Points and lines along an axis have no width or height: then the
        extent cut into about sqrt(n) slices along that axis sets it."""
        if not (isinstance(granularity, (int, float)) and math.isfinite(granularity) and granularity > 0):
            raise GeoKGError(f"Got granularity={granularity!r}; give a positive number (1 is the mean MBR size of the source).")
        west, south = float(boxes[:, 0].min()), float(boxes[:, 1].min())
        east, north = float(boxes[:, 2].max()), float(boxes[:, 3].max())
        slices = max(1.0, math.sqrt(len(boxes)))
        width = _tile_size(float(np.mean(boxes[:, 2] - boxes[:, 0])) * granularity, east - west, slices)
        height = _tile_size(float(np.mean(boxes[:, 3] - boxes[:, 1])) * granularity, north - south, slices)
        nx, ny = int((east - west) // width) + 1, int((north - south) // height) + 1
        if nx * ny > MAX_TILES:
            grow = math.sqrt(nx * ny / MAX_TILES) * 1.01
            width, height = width * grow, height * grow
            nx, ny = int((east - west) // width) + 1, int((north - south) // height) + 1
        return cls(west, south, width, height, nx, ny)

    @property
    def tiles(self) -> int:
        return self.nx * self.ny

    def columns(self, x: np.ndarray) -> np.ndarray:
        """The column of each x (clipped to the grid)."""
        return np.clip(np.floor((np.asarray(x, dtype=float) - self.x0) / self.width), 0, self.nx - 1).astype(np.int64)

    def rows(self, y: np.ndarray) -> np.ndarray:
        """The row of each y (clipped to the grid)."""
        return np.clip(np.floor((np.asarray(y, dtype=float) - self.y0) / self.height), 0, self.ny - 1).astype(np.int64)

    def ranges(self, boxes: np.ndarray) -> np.ndarray:
        """``(n, 4)`` first and last column, first and last row of each MBR; a box wholly off the
        grid gets an empty range (last < first)."""
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        ranges = np.stack([self.columns(boxes[:, 0]), self.columns(boxes[:, 2]),
                           self.rows(boxes[:, 1]), self.rows(boxes[:, 3])], axis=1)
        off = ((boxes[:, 2] < self.x0) | (boxes[:, 0] > self.x0 + self.nx * self.width)
               | (boxes[:, 3] < self.y0) | (boxes[:, 1] > self.y0 + self.ny * self.height))
        ranges[off, 1] = ranges[off, 0] - 1
        return ranges

    def entries(self, ranges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tile key, owner) for every tile of every range: owner ``k`` is the ``k``-th range."""
        columns = np.maximum(ranges[:, 1] - ranges[:, 0] + 1, 0)
        rows = np.maximum(ranges[:, 3] - ranges[:, 2] + 1, 0)
        counts = columns * rows
        owners = np.repeat(np.arange(len(ranges), dtype=np.int64), counts)
        within = np.arange(len(owners), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        height = rows[owners]
        keys = (ranges[owners, 0] + within // np.maximum(height, 1)) * self.ny + ranges[owners, 2] + within % np.maximum(height, 1)
        return keys, owners

    def keys(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The tile key of each point."""
        return self.columns(x) * self.ny + self.rows(y)


def tile_counts(ranges: np.ndarray) -> np.ndarray:
    """How many tiles each range holds."""
    return np.maximum(ranges[:, 1] - ranges[:, 0] + 1, 0) * np.maximum(ranges[:, 3] - ranges[:, 2] + 1, 0)


def _tile_size(mean: float, extent: float, slices: float) -> float:
    if mean > 0 and math.isfinite(mean):
        return mean
    return extent / slices if extent > 0 else 1.0
