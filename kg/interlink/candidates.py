"""Filtering: the candidate pairs of source and target geometries, each found in exactly one tile.

The source is indexed per tile (its tile entries sorted by key); the target comes in chunks, and
each target tile is looked up in the index with ``searchsorted``. A pair that shares a tile is a
candidate only if the MBRs intersect, and only in the tile of its **reference point**, the
lower-left corner of the MBRs' intersection: a pair sharing several tiles is reported once, and on
Spark, where a tile lives in one partition, by one partition. All of it is numpy over arrays of
tile keys and boxes.

>>> import numpy as np
>>> from kg.interlink.grid import Grid
>>> source = np.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
>>> index = TileIndex.of(Grid.of_source(source), source)
>>> s, t = index.candidates(np.array([[1.0, 1.0, 3.0, 3.0], [3.0, 3.0, 4.0, 4.0]]))
>>> s.tolist(), t.tolist()
([0], [0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kg.interlink.grid import Grid, tile_counts

CHUNK_ENTRIES = 1 << 20  # target tile entries looked up together (bounds the memory of a chunk)


@dataclass(frozen=True)
class TileIndex:
    """Source tile entries sorted by key: the distinct keys, where each key's entries start and
    end, and the source position of every entry; with the source MBRs."""

    grid: Grid
    boxes: np.ndarray
    keys: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    owners: np.ndarray

    @classmethod
    def of(cls, grid: Grid, boxes: np.ndarray) -> "TileIndex":
        """The index of source MBRs: every tile each one touches."""
        return cls.of_entries(grid, boxes, *grid.entries(grid.ranges(boxes)))

    @classmethod
    def of_entries(cls, grid: Grid, boxes: np.ndarray, keys: np.ndarray, owners: np.ndarray) -> "TileIndex":
        """The index of given tile entries (key, position in ``boxes``): on Spark, a partition's tiles."""
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], owners[order]
        distinct, starts = np.unique(keys, return_index=True)
        ends = np.append(starts[1:], len(keys)).astype(np.int64)
        return cls(grid, boxes, distinct, starts.astype(np.int64), ends, owners)

    def candidates(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(source position, target position) of every candidate pair with these target MBRs."""
        ranges = self.grid.ranges(boxes)
        keys, owners = self.grid.entries(ranges)
        return self.pairs(keys, owners, boxes)

    def pairs(self, keys: np.ndarray, owners: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates among target tile entries (key, owner: a position in ``boxes``)."""
        found = np.searchsorted(self.keys, keys)
        found = np.minimum(found, max(len(self.keys) - 1, 0))
        hit = (self.keys[found] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        keys, owners, found = keys[hit], owners[hit], found[hit]
        counts = self.ends[found] - self.starts[found]
        first = np.repeat(self.starts[found] - (np.cumsum(counts) - counts), counts)
        s = self.owners[first + np.arange(len(first), dtype=np.int64)]
        t = np.repeat(owners, counts)
        tile = np.repeat(keys, counts)
        a, b = self.boxes[s], boxes[t]
        keep = (a[:, 0] <= b[:, 2]) & (a[:, 2] >= b[:, 0]) & (a[:, 1] <= b[:, 3]) & (a[:, 3] >= b[:, 1])
        s, t, tile, a, b = s[keep], t[keep], tile[keep], a[keep], b[keep]
        reference = self.grid.keys(np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1]))
        keep = reference == tile
        return s[keep], t[keep]


def target_chunks(grid: Grid, boxes: np.ndarray, limit: int = CHUNK_ENTRIES):
    """Slices of the target (in order) whose tile entries number about ``limit`` at most."""
    counts = np.cumsum(tile_counts(grid.ranges(boxes)))
    start = 0
    while start < len(boxes):
        before = counts[start - 1] if start else 0
        end = int(np.searchsorted(counts, before + limit, side="right"))
        end = max(end, start + 1)
        yield slice(start, end)
        start = end

