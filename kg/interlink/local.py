"""The local engine: filtering, weighting and verification in this process.

Exhaustive: the target goes through the filter chunk by chunk and each chunk's candidates are
verified at once, so only one chunk's pairs are in memory. Progressive: each chunk's candidates are
weighted and only the heaviest ``budget`` pairs are kept; those are then verified heaviest first,
in batches (so a caller can watch the progress).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kg.interlink.budget import HeaviestPairs
from kg.interlink.candidates import TileIndex, target_chunks
from kg.interlink.grid import Grid
from kg.interlink.plan import Found, Geometries, Plan
from kg.interlink.verification import relation_masks
from kg.interlink.weighting import Pairs

BATCH = 50_000  # pairs verified together in a progressive run
Progress = Callable[[str, int, int], None]  # (what is counted, done, total): target geometries, then pairs verified


def link_locally(grid: Grid, source: Geometries, target: Geometries, plan: Plan, progress: Progress | None = None) -> Found:
    """The related pairs among the candidates the plan verifies."""
    index = TileIndex.of(grid, source.side.boxes)
    if not plan.progressive:
        return _exhaustive(index, source, target, progress)
    heaviest, candidates = HeaviestPairs(plan.budget), 0
    for chunk in target_chunks(grid, target.side.boxes):
        s, t = index.candidates(target.side.boxes[chunk])
        t += chunk.start
        candidates += len(s)
        heaviest.offer(s, t, plan.weighting.weights(Pairs(s, t, source.side, target.side, grid, plan.seed)))
        if progress:
            progress("target geometries filtered", chunk.stop, len(target.shapes))
    s, t, _ = heaviest.in_order()
    return verify_in_order(source.shapes, target.shapes, s, t, candidates, progress)


def _exhaustive(index: TileIndex, source: Geometries, target: Geometries, progress: Progress | None) -> Found:
    found_s, found_t, found_masks, candidates = [], [], [], 0
    for chunk in target_chunks(index.grid, target.side.boxes):
        s, t = index.candidates(target.side.boxes[chunk])
        t += chunk.start
        masks, related = relation_masks(source.shapes[s], target.shapes[t])
        found_s.append(s[related]), found_t.append(t[related]), found_masks.append(masks[related])
        candidates += len(s)
        if progress:
            progress("target geometries linked", chunk.stop, len(target.shapes))
    return Found.of(_joined(found_s), _joined(found_t), _joined(found_masks, np.int16), None, candidates, candidates)


def verify_in_order(source_shapes, target_shapes, s: np.ndarray, t: np.ndarray, candidates: int,
                    progress: Progress | None = None) -> Found:
    """Verify pairs in the given (weight) order; each related pair keeps its place in it."""
    found_masks, found_ranks = [], []
    for start in range(0, len(s), BATCH):
        part = slice(start, start + BATCH)
        masks, related = relation_masks(source_shapes[s[part]], target_shapes[t[part]])
        found_masks.append(masks[related])
        found_ranks.append(np.flatnonzero(related) + start)
        if progress:
            progress("candidate pairs verified", min(start + BATCH, len(s)), len(s))
    ranks = _joined(found_ranks)
    return Found.of(s[ranks], t[ranks], _joined(found_masks, np.int16), ranks, candidates, len(s))


def _joined(parts: list, dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)
