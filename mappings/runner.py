"""Running an RML mapping over inputs: N-Triples part files, ready for the store's bulk loader.

Per chunk of input rows: rows with broken geometry are set aside (with their row number), the
mapping's functions are computed on whole columns, morph-kgc executes the RML, and, when asked,
SHACL validates the records. The parts are yielded one by one, so the store loads them as they
come, with no in-memory graph in between.

    parts = map_to_parts(Path("mappings/rml/sea_ice.rml.ttl"), [Path("regions.parquet")], workdir, run)
    store.load(parts)  # all parts, or nothing if any fails
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import Literal

import numpy as np
import pandas as pd
import shapely

from morph_kgc.args_parser import load_config_from_argument
from morph_kgc.constants import RML_TRIPLES_MAP_CLASS
from morph_kgc.mapping.mapping_parser import retrieve_mappings
from morph_kgc.materializer import _materialize_mapping_group_to_set

from mappings.errors import MappingError
from mappings.plan import SOURCE_ROW, Plan, plan_mapping
from mappings.readers import GEOMETRY, GEOMETRY_PROBLEM, ROW, read_chunks

Validation = Literal["strict", "report", "off"]
logging.getLogger("morph_kgc").setLevel(logging.WARNING)
_SOURCE_ROW = f"<{SOURCE_ROW}>"


@dataclass(frozen=True)
class Rejected:
    """An input row that was not mapped, and why."""

    input: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.input}, row {self.row}: {self.reason}"


@dataclass
class MappingRun:
    """What a run did so far: rows read, triples written, rows rejected."""

    rows: int = 0
    triples: int = 0
    parts: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def map_to_parts(
    mapping: Path,
    inputs: Sequence[Path],
    workdir: Path,
    run: MappingRun,
    *,
    validate: Validation = "strict",
    chunk_rows: int = 50_000,
) -> Iterator[Path]:
    """Map every input in chunks, yielding one N-Triples part file per chunk.

    ``strict``: any rejected row (broken geometry, a SHACL violation) raises MappingError, so a
    load consuming the parts writes nothing. ``report``: rejected rows are left out and listed in
    ``run.rejected``. ``off``: no SHACL validation (broken geometries are still rejected).
    """
    if validate not in ("strict", "report", "off"):
        raise MappingError(f"Got validate={validate!r}; use strict, report or off.")
    plan = plan_mapping(mapping, with_source_rows=validate != "off")
    config = morph_config(plan, workdir)
    validator = _validator() if validate != "off" else None
    for source in inputs:
        for number, chunk in enumerate(read_chunks(Path(source), chunk_rows)):
            if number == 0:
                check_columns(plan, chunk, source)
            lines, rejected = map_chunk(plan, config, chunk, str(source), validator)
            run.rows += len(chunk)
            if rejected and validate == "strict":
                raise rejected_error(rejected)
            run.rejected.extend(rejected)
            part = workdir / f"part-{run.parts:05d}.nt"
            part.write_text("".join(lines), encoding="utf-8")
            run.triples += len(lines)
            run.parts += 1
            yield part


def rejected_error(rejected: Sequence[Rejected]) -> MappingError:
    """What ``strict`` raises: the rejected rows (the first five) and what to do."""
    shown = "; ".join(map(str, rejected[:5])) + (f"; and {len(rejected) - 5} more" if len(rejected) > 5 else "")
    return MappingError(f"{len(rejected)} row(s) cannot be mapped, so nothing was loaded: {shown}. "
                        "Fix them, or map with --validate report to load the valid rows.")


def map_chunk(plan: Plan, config: str, chunk: pd.DataFrame, source: str, validator=None) -> tuple[list[str], list[Rejected]]:
    """N-Triples lines of one chunk, and the rows that were rejected."""
    rejected = []
    if GEOMETRY_PROBLEM in chunk.columns:
        broken = chunk[GEOMETRY_PROBLEM].notna().to_numpy()
        rejected = [Rejected(source, int(r), p) for r, p in zip(chunk[ROW][broken], chunk[GEOMETRY_PROBLEM][broken])]
        chunk = chunk[~broken]
    frame = pd.DataFrame({ROW: chunk[ROW].astype("string")})
    for column in plan.rml_columns - {ROW}:
        # pandas' string dtype, not object: morph-kgc strips double quotes from object columns.
        frame[column] = chunk[column].astype(str).where(chunk[column].notna()).astype("string") \
            if column != GEOMETRY else chunk[column].map(lambda s: s.wkt).astype("string")
    for call in plan.calls:
        frame[call.column] = call.compute(chunk).set_axis(frame.index).astype("string")
    if plan.wkt_columns:
        bad = _invalid_wkt(frame, plan.wkt_columns)
        rejected += [Rejected(source, int(row), reason) for row, reason in bad.items()]
        frame = frame[~frame[ROW].astype(int).isin(bad.keys())]
    lines = [line + ".\n" for line in _materialize(config, frame)] if len(frame) else []
    if validator is not None:
        lines, invalid = validator(lines)
        rejected += [Rejected(source, row, reason) for row, reason in invalid]
    return lines, sorted(rejected, key=lambda r: r.row)


@functools.lru_cache(maxsize=8)
def _rules(config: str):
    """morph-kgc's parsed rules for a configuration: it would parse the mapping again per chunk (~1 s).

    What ``morph_kgc.materialize_set`` does before mapping (morph-kgc 2.10, pinned), done once.
    """
    settings = load_config_from_argument(config)
    rml, fnml, http_api = retrieve_mappings(settings)
    settings.set("CONFIGURATION", "http_api_df", http_api.to_csv())
    asserted = rml.loc[rml["triples_map_type"] == RML_TRIPLES_MAP_CLASS]
    return settings, rml, fnml, [group for _, group in asserted.groupby(by="mapping_partition")]


def _materialize(config: str, frame: pd.DataFrame) -> set[str]:
    """morph-kgc's triples (N-Triples lines without the final dot) for one chunk."""
    settings, rml, fnml, groups = _rules(config)
    triples: set[str] = set()
    for group in groups:
        triples.update(_materialize_mapping_group_to_set(group, rml, fnml, settings, {"input": frame}))
    return triples


def _invalid_wkt(frame: pd.DataFrame, columns) -> dict[int, str]:
    """Rows whose WKT (optionally after a <CRS IRI>) does not parse, with the reason."""
    bad = {}
    for column in sorted(columns):
        text = frame[column].astype(object).to_numpy()
        present = pd.notna(text)
        bodies = [t.split(">", 1)[1] if t.startswith("<") else t for t in text[present]]
        shapes = shapely.from_wkt(np.asarray(bodies, dtype=object), on_invalid="ignore")
        rows = frame[ROW].to_numpy()[present]
        for row, value in zip(rows[shapely.is_missing(shapes)], text[present][shapely.is_missing(shapes)]):
            bad.setdefault(int(row), f"invalid WKT in column {column}: {str(value)[:80]!r}")
    return bad


def check_columns(plan: Plan, chunk: pd.DataFrame, source) -> None:
    missing = plan.missing_columns(chunk.columns)
    if missing:
        have = [c for c in chunk.columns if not c.startswith("__")]
        raise MappingError(f"{source}: the mapping {plan.source.name} reads the columns {missing}, "
                           f"which this input does not have; it has {have}.")


def morph_config(plan: Plan, workdir: Path) -> str:
    # Named by content: the parsed rules are cached by this configuration's text (see _rules).
    rules = workdir / f"mapping-{hashlib.sha256(plan.turtle.encode()).hexdigest()[:16]}.rml.ttl"
    if not rules.exists():  # written whole under another name first: workers may share the folder
        partial = rules.with_name(f"{rules.name}.{os.getpid()}.{threading.get_ident()}.partial")
        partial.write_text(plan.turtle, encoding="utf-8")
        os.replace(partial, rules)
    # Missing values reach morph-kgc as pandas' <NA>, which it turns into the text "<NA>": name it a null.
    return (f"[CONFIGURATION]\noutput_format=N-TRIPLES\nnumber_of_processes=1\nna_values=,nan,<NA>\n\n"
            f"[Mapping]\nmappings={rules}\n")


def _validator():
    from mappings.validation import validate_records

    return validate_records


def prefetched(parts: Iterator[Path], depth: int = 1) -> Iterator[Path]:
    """The same parts, mapped ahead on a thread while the consumer loads the previous ones.

    Mapping is mostly Python and the store's bulk load releases the GIL, so the two overlap.
    An error in the mapping reaches the consumer at the part where it happened; a consumer that
    stops early stops the mapping too.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for part in parts:
                while not stop.is_set():
                    try:
                        queue.put(part, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(done)
        except BaseException as error:  # handed to the consumer, raised there
            queue.put(error)

    producer = threading.Thread(target=produce, name="eekg-mapping", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()
