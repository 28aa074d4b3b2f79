"""One interlinking run: datasets in, related pairs out, with what the provenance records.

Relations are computed in one CRS: the source's when all its geometries share one, else CRS84;
geometries in another CRS are moved into it, as a ``geof:`` function moves its second argument
into the first one's CRS. Empty geometries are left out (they relate to nothing); invalid ones
(self-intersections ...) are an error, or left out with ``on_invalid="skip"``; the counts left out
are recorded.

>>> import numpy as np, shapely
>>> from kg.interlink.datasets import Dataset
>>> def dataset(name, *wkt):
...     iris = np.array([f"http://example.org/{name}{k}" for k in range(len(wkt))], dtype=object)
...     return Dataset(name, iris, shapely.from_wkt(list(wkt)), np.full(len(wkt), CRS84, dtype=object))
>>> run = interlink(dataset("a", "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"), dataset("b", "POINT(1 1)", "POINT(5 5)"))
>>> run.found.related, run.links
(1, 2)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

import numpy as np
import shapely

from kg.errors import GeoKGError, InvalidGeometry
from kg.geosparql.vocab import CRS84
from kg.interlink.datasets import Dataset
from kg.interlink.grid import Grid
from kg.interlink.local import Progress, link_locally
from kg.interlink.plan import Found, Geometries, Plan

ENGINES = ("local", "spark")
OnInvalid = Literal["raise", "skip"]


@dataclass(frozen=True)
class Interlinking:
    """A finished run. ``found`` holds positions in ``source`` and ``target``."""

    source: Dataset
    target: Dataset
    plan: Plan
    engine: str
    crs: str
    grid: Grid
    found: Found
    left_out: dict[str, dict[str, int]]  # {"source": {"empty": n, "invalid": n}, "target": ...}
    started: datetime
    ended: datetime
    seconds: float  # filtering, weighting and verification (not reading the datasets)

    @property
    def links(self) -> int:
        return self.found.links(self.plan.mask)


def interlink(
    source: Dataset,
    target: Dataset,
    *,
    relations=None,
    budget: int | None = None,
    weighting: str | None = None,
    granularity: float = 1.0,
    engine: str = "local",
    on_invalid: OnInvalid = "raise",
    seed: int = 0,
    progress: Progress | None = None,
    master: str | None = None,
    partitions: int | None = None,
) -> Interlinking:
    """Find the topological relations between the entities of two datasets.

    ``budget``: verify at most this many candidate pairs, the heaviest by ``weighting`` (default
    ``mbro``); without a budget every candidate is verified (heaviest first if a weighting is
    given). ``engine="spark"`` runs on ``master`` (see ``mappings.spark.spark_session``) over
    ``partitions`` partitions, with the same result.
    """
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    plan = Plan.of(relations=relations, budget=budget, weighting=weighting, granularity=granularity, seed=seed)
    if engine not in ENGINES:
        raise GeoKGError(f"Got engine={engine!r}; use local or spark.")
    if on_invalid not in ("raise", "skip"):
        raise GeoKGError(f"Got on_invalid={on_invalid!r}; use raise or skip.")
    crs = working_crs(source)
    left_out = {}
    usable = {}
    for role, dataset in (("source", source), ("target", target)):
        shapes = dataset.shapes_in(crs)
        keep, left_out[role] = _usable(shapes, dataset, role, on_invalid)
        usable[role] = (keep, shapes[keep])
    (source_kept, source_shapes), (target_kept, target_shapes) = usable["source"], usable["target"]
    grid = Grid.of_source(shapely.bounds(source_shapes), plan.granularity)
    first, second = Geometries.of(source_shapes, grid), Geometries.of(target_shapes, grid)
    if engine == "spark":
        from kg.interlink.spark import link_with_spark

        found = link_with_spark(grid, first, second, plan, master=master, partitions=partitions)
    else:
        found = link_locally(grid, first, second, plan, progress)
    found = Found.of(source_kept[found.s], target_kept[found.t], found.masks, found.ranks, found.candidates, found.verified)
    return Interlinking(source, target, plan, engine, crs, grid, found, left_out, started,
                        datetime.now(timezone.utc), time.perf_counter() - clock)


def working_crs(source: Dataset) -> str:
    """The CRS relations are computed in: the source's, if it has one CRS, else CRS84."""
    crs = source.crs_list()
    return crs[0] if len(crs) == 1 else CRS84


def _usable(shapes: np.ndarray, dataset: Dataset, role: str, on_invalid: OnInvalid) -> tuple[np.ndarray, dict[str, int]]:
    """Positions of the geometries to link, and how many were left out and why."""
    empty = shapely.is_empty(shapes)
    invalid = ~empty & ~shapely.is_valid(shapes)
    if invalid.any() and on_invalid == "raise":
        first = int(np.flatnonzero(invalid)[0])
        reason = shapely.is_valid_reason(shapes[first])
        raise InvalidGeometry(
            f"The {role} dataset {dataset.description!r} has {int(invalid.sum())} invalid geometries, the first of "
            f"<{dataset.iris[first]}> ({reason}); repair them (ST_MakeValid, shapely.make_valid) or leave them out "
            "(--skip-invalid, on_invalid='skip')."
        )
    keep = np.flatnonzero(~empty & ~invalid)
    if not len(keep):
        raise GeoKGError(f"The {role} dataset {dataset.description!r} has no geometry to link: all "
                         f"{len(shapes)} are empty{' or invalid' if invalid.any() else ''}.")
    return keep, {"empty": int(empty.sum()), "invalid": int(invalid.sum())}

