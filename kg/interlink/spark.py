"""The Spark engine: both datasets spatially partitioned by the same grid, linked in the executors.

The driver computes the grid (from the source's MBRs) and hands both datasets to Spark as WKB
(they come from the store or from a file the driver reads). In the executors every geometry is
copied into each tile its MBR touches, and the copies are partitioned by tile, so a tile's source
and target geometries meet in one partition. Each partition runs the local engine's filter
(``TileIndex.pairs``) on its tiles: a pair is a candidate only in the tile of its reference point,
so exactly one partition finds it, and no pair is lost or doubled.

- exhaustive: each partition verifies its candidates and returns the related pairs;
- progressive: each partition weighs its candidates and returns its ``budget`` heaviest (weights
  and order are the local engine's, ties broken by dataset positions); the driver keeps the
  ``budget`` heaviest of all; a second pass over the same partitions verifies exactly those.

So the links are the local engine's. The session is ``mappings.spark.spark_session``: one per
process, reused.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from kg.interlink.budget import HeaviestPairs
from kg.interlink.candidates import TileIndex
from kg.interlink.grid import Grid
from kg.interlink.plan import Found, Geometries, Plan
from kg.interlink.verification import relation_masks

SOURCE, TARGET = 0, 1
_TILES = "tile long, side byte, position long, wkb binary"
_LINKS = "s long, t long, mask short"


def link_with_spark(grid: Grid, source: Geometries, target: Geometries, plan: Plan, *,
                    master: str | None = None, partitions: int | None = None) -> Found:
    """The related pairs among the candidates the plan verifies, found by Spark executors."""
    from mappings.spark import PerPartition, spark_session

    spark = spark_session(master)
    context = spark.sparkContext
    geometries = pd.DataFrame({
        "side": np.concatenate([np.full(len(source.shapes), SOURCE), np.full(len(target.shapes), TARGET)]).astype(np.int8),
        "position": np.concatenate([np.arange(len(source.shapes)), np.arange(len(target.shapes))]).astype(np.int64),
        "wkb": shapely.to_wkb(np.concatenate([source.shapes, target.shapes])),
    })
    count = partitions or context.defaultParallelism
    tiles = (spark.createDataFrame(geometries, "side byte, position long, wkb binary")
             .mapInArrow(_exploder(grid), _TILES).repartition(count, "tile").persist())
    try:
        if plan.progressive:
            return _progressive(context, tiles, grid, plan, len(target.shapes))
        candidates = context.accumulator({}, PerPartition())
        links = _collect(tiles.mapInArrow(_linker(grid, None, candidates), _LINKS))
        total = sum(candidates.value.values())
        return Found.of(links["s"], links["t"], links["mask"], None, total, total)
    finally:
        tiles.unpersist()


def _progressive(context, tiles, grid: Grid, plan: Plan, targets: int) -> Found:
    """Each partition's heaviest candidates, the heaviest of all chosen here, then those verified
    where they were found; each related pair keeps its place in the order of weight."""
    from mappings.spark import PerPartition

    candidates = context.accumulator({}, PerPartition())
    levels = len(plan.weighting.levels)
    weighed = _collect(tiles.mapInArrow(_weigher(grid, plan, candidates), _weights_schema(levels)))
    heaviest = HeaviestPairs(plan.budget)
    heaviest.offer(weighed["s"], weighed["t"], [weighed[f"w{level}"] for level in range(levels)])
    s, t, _ = heaviest.in_order()
    order = np.argsort(s * targets + t)
    keys = (s * targets + t)[order]  # the chosen pairs' keys, sorted
    chosen = context.broadcast(keys)
    try:
        links = _collect(tiles.mapInArrow(_linker(grid, (chosen, targets), None), _LINKS))
    finally:
        chosen.unpersist()
    ranks = order[np.searchsorted(keys, links["s"] * targets + links["t"])]
    return Found.of(links["s"], links["t"], links["mask"], ranks, sum(candidates.value.values()), len(s))


def _collect(frame) -> dict[str, np.ndarray]:
    table = frame.toArrow()
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _weights_schema(levels: int) -> str:
    return ", ".join(["s long", "t long"] + [f"w{level} double" for level in range(levels)])


# --- executors ---------------------------------------------------------------------------------


def _exploder(grid: Grid):
    """Every geometry copied into each tile its MBR touches (target copies off the grid dropped)."""

    def explode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            wkb = batch.column("wkb").to_numpy(zero_copy_only=False)
            keys, owners = grid.entries(grid.ranges(shapely.bounds(shapely.from_wkb(wkb))))
            yield pa.RecordBatch.from_arrays(
                [pa.array(keys, pa.int64()), pa.array(batch.column("side").to_numpy()[owners], pa.int8()),
                 pa.array(batch.column("position").to_numpy()[owners], pa.int64()), pa.array(wkb[owners], pa.binary())],
                ["tile", "side", "position", "wkb"])

    return explode


class _Partition:
    """A partition's tiles: each side's distinct geometries (with their dataset positions) and tile
    entries, and the candidate pairs among them (positions local to the partition)."""

    def __init__(self, grid: Grid, batches: Iterator[pa.RecordBatch]):
        table = pa.Table.from_batches(list(batches), schema=pa.schema(
            [("tile", pa.int64()), ("side", pa.int8()), ("position", pa.int64()), ("wkb", pa.binary())]))
        side, tile = table.column("side").to_numpy(), table.column("tile").to_numpy()
        position, wkb = table.column("position").to_numpy(), table.column("wkb").to_numpy(zero_copy_only=False)
        self.sides = []
        for which in (SOURCE, TARGET):
            rows = np.flatnonzero(side == which)
            ids, first, owners = np.unique(position[rows], return_index=True, return_inverse=True)
            shapes = np.asarray(shapely.from_wkb(wkb[rows[first]]), dtype=object)
            self.sides.append((Geometries.of(shapes, grid, ids), tile[rows], owners.astype(np.int64)))
        (source, source_keys, source_owners), (target, target_keys, target_owners) = self.sides
        index = TileIndex.of_entries(grid, source.side.boxes, source_keys, source_owners)
        self.s, self.t = index.pairs(target_keys, target_owners, target.side.boxes)
        self.source, self.target = source, target

    def ids(self, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.source.side.ids[s], self.target.side.ids[t]


def _linker(grid: Grid, chosen, candidates):
    """Verify a partition's candidates (``chosen``: only the pairs whose keys were broadcast)."""

    def link(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        part = _Partition(grid, batches)
        s, t = part.s, part.t
        if candidates is not None:
            candidates.add({TaskContext.get().partitionId(): len(s)})
        if chosen is not None:
            keys, targets = chosen
            gs, gt = part.ids(s, t)
            wanted = np.isin(gs * targets + gt, keys.value)
            s, t = s[wanted], t[wanted]
        masks, related = relation_masks(part.source.shapes[s], part.target.shapes[t])
        gs, gt = part.ids(s[related], t[related])
        yield pa.RecordBatch.from_arrays([pa.array(gs, pa.int64()), pa.array(gt, pa.int64()), pa.array(masks[related], pa.int16())],
                                         ["s", "t", "mask"])

    return link


def _weigher(grid: Grid, plan: Plan, candidates):
    """A partition's heaviest ``budget`` candidates with their weights."""
    from kg.interlink.weighting import Pairs

    def weigh(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        part = _Partition(grid, batches)
        candidates.add({TaskContext.get().partitionId(): len(part.s)})
        weights = plan.weighting.weights(Pairs(part.s, part.t, part.source.side, part.target.side, grid, plan.seed))
        heaviest = HeaviestPairs(plan.budget)
        heaviest.offer(*part.ids(part.s, part.t), weights)
        s, t, kept = heaviest.in_order()
        columns = [pa.array(s, pa.int64()), pa.array(t, pa.int64())] + [pa.array(w, pa.float64()) for w in kept]
        yield pa.RecordBatch.from_arrays(columns, ["s", "t"] + [f"w{level}" for level in range(len(kept))])

    return weigh
