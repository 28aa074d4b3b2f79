"""Mapping inputs into a store: the mapping stage's parts, loaded as they come, all or nothing."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from kg.store import LoadReport, Store
from mappings.plan import plan_mapping
from mappings.runner import MappingRun, map_to_parts, prefetched


def map_into_store(
    store: Store,
    mapping: Path,
    inputs: Sequence[Path],
    *,
    graph: str | None = None,
    engine: str = "local",
    validate: str = "strict",
    chunk_rows: int = 50_000,
    on_part: Callable[[MappingRun], None] | None = None,
) -> tuple[MappingRun, LoadReport]:
    """Map ``inputs`` with ``mapping`` and load the triples; a failure anywhere loads nothing."""
    run = MappingRun()
    checked = plan_mapping(mapping).geometries_checked  # then the store need not parse the parts again
    with tempfile.TemporaryDirectory(prefix="eekg-map-") as workdir:
        if engine == "spark":
            from mappings.spark import map_with_spark

            parts = map_with_spark(mapping, inputs, Path(workdir), run, validate=validate, chunk_rows=chunk_rows)
        else:
            parts = prefetched(map_to_parts(mapping, inputs, Path(workdir), run, validate=validate, chunk_rows=chunk_rows))
        report = store.load(_announce(parts, run, on_part), format="ntriples", graph=graph, validated=checked,
                            on_loaded=lambda part: part.unlink())  # keeps the parts on disk few
    return run, report


def _announce(parts, run: MappingRun, on_part):
    for part in parts:
        if on_part is not None:
            on_part(run)
        yield part
