"""Gathering a query's data from the sources: join order by estimated cardinality, bind joins, hash joins.

Each scope (a basic graph pattern with its filters, ``federation.decompose``) is gathered step by
step (``federation.selection.Step``): first the step the descriptions say is smallest, then, again
and again, the smallest step sharing variables with what is gathered. For such a step the values
its shared variables take in what is gathered (read from the scratch store, with the scope's
filters on them) are known; the step is then

- a **bind join** when those values are fewer than the rows it would otherwise send: its
  sub-queries go with the values in ``VALUES`` batches (``batch`` rows each, sent in parallel);
- a **spatial bind join** when it shares no variable but a spatial join conjunct ties one of its
  geometries to a gathered one (``geof:distance(?a, ?b, uom:metre) <= 10``, ``geof:sfWithin(?a, ?b)``):
  the gathered geometries' boxes, grown by the distance, are split into compact cells of a few
  boxes each (a k-d split), and each cell goes as a ``geof:sfIntersects`` filter: to a source with
  our GeoSPARQL as UNION branches of one sub-query (``CELLS_PER_QUERY`` cells), each answered from
  its spatial index with a small window; to a source with native ``sfIntersects`` only (a scan per
  sub-query, testing each row against every part of the filter's shape) as the envelope of a cell
  of ``BOX_BATCH`` boxes, one rectangle a sub-query;
- a **hash join** otherwise: the step is gathered whole and the scratch store's engine joins it.

Every gathered triple is one a solution over the union of the sources may use, and every triple a
solution uses is gathered (values and boxes are supersets of what solutions bind), so the answer
is exact. A scope with a step no source can answer has no solutions: its other steps are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import pyoxigraph as ox

from federation.description import Description, grown
from federation.errors import FederationError
from federation.selection import ScopePlan, Step, SubQuery, spatial_filter
from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError, without_frames
from kg.geosparql.index import stage

BIND_BATCH = 1000  # rows of one VALUES block (about 100 kB of IRIs)
BOX_BATCH = 500  # boxes whose envelope makes one spatial filter, for a source that scans (no spatial index of ours)
CELL_BOXES = 8  # boxes of one cell of a spatial bind join: a small window, few candidates to test
CELLS_PER_QUERY = 50  # cells (UNION branches) of one sub-query to a source with our GeoSPARQL
MAX_BIND_ROWS = 200_000  # above this, the step is a hash join whatever the estimate


@dataclass
class Gathered:
    """What one sub-query brought."""

    source: str
    sparql: str
    bytes: int
    triples: int
    seconds: float
    join: str  # "scan", "bind" or "spatial"


@dataclass
class Failed:
    """A source that failed where the configuration allows partial answers."""

    source: str
    message: str


class Gatherer:
    """Runs the plans of one query into a scratch store (one query at a time)."""

    def __init__(self, fetch: Callable[[SubQuery], bytes], descriptions: dict[str, Description], scratch: EmbeddedStore,
                 pool: ThreadPoolExecutor, deadline: float, partial: set[str]):
        self.fetch, self.descriptions, self.scratch, self.pool = fetch, descriptions, scratch, pool
        self.deadline, self.partial = deadline, partial
        self.gathered: list[Gathered] = []
        self.failed: list[Failed] = []
        self.sent: set[tuple[str, str, str | None]] = set()  # (source, sparql, graph) already gathered

    def run(self, plans: list[ScopePlan]) -> None:
        for plan in plans:
            self.scope(plan)

    def scope(self, plan: ScopePlan) -> None:
        remaining, done = list(plan.steps), []
        if any(not step.subs and all(p.required for p in step.patterns) for step in remaining):
            return  # a pattern no source can match: the scope has no solutions, nothing of it is needed
        while remaining:
            step = _next_step(remaining, done, plan)
            remaining.remove(step)
            bound = frozenset().union(*(s.variables for s in done))
            shared = sorted(step.variables & bound)
            subs, join = list(step.subs), "scan"
            if shared:
                rows = self.values(plan, done, shared)
                if not rows:
                    return  # no solutions: the rest of the scope is not needed
                if len(rows) < step.estimate and len(rows) <= MAX_BIND_ROWS and not _has_blank(rows):
                    subs, join = _bind(subs, shared, rows), "bind"
            elif (link := _link(plan, step, bound)) is not None:
                gathered_side, new_side, metres = link
                boxes = self.boxes(plan, done, gathered_side, metres)
                if boxes is None:
                    pass  # unreadable or unbounded boxes: gather the step whole
                elif not len(boxes):
                    return
                else:
                    subs, join = self.spatial(subs, new_side, boxes), "spatial"
            self.send(subs, plan.graph, join)
            done.append(step)

    # --- reading what is gathered -------------------------------------------------------------

    def values(self, plan: ScopePlan, done: list[Step], variables: list[str]) -> list[tuple]:
        """The distinct values of ``variables`` over the gathered steps, with the scope's filters on them."""
        return _rows(self.scratch, _select(plan, done, variables))

    def boxes(self, plan: ScopePlan, done: list[Step], variable: str, metres: float) -> np.ndarray | None:
        """CRS84 boxes of the gathered geometries of ``variable``, grown by ``metres``."""
        literals = [row[0] for row in _rows(self.scratch, _select(plan, done, [variable])) if isinstance(row[0], ox.Literal)]
        try:
            staged = stage(literals)
        except GeoKGError:
            return None
        boxes = staged.boxes[~np.isnan(staged.boxes).any(axis=1)]
        if len(boxes) < len(literals):
            return None  # a literal we cannot place: no spatial narrowing
        if metres > 0:
            grown_boxes = [grown(tuple(b), metres) for b in boxes]
            if any(b is None for b in grown_boxes):
                return None
            boxes = np.array(grown_boxes).reshape(-1, 4)
        return boxes

    def spatial(self, subs: list[SubQuery], variable: str, boxes: np.ndarray) -> list[SubQuery]:
        cells = kd_cells(boxes, CELL_BOXES)
        # A scanning source tests every row against every part of a filter's shape: it gets the
        # envelope of a cell of BOX_BATCH boxes, one rectangle a sub-query (a superset of what joins).
        envelopes = [np.array([[c[:, 0].min(), c[:, 1].min(), c[:, 2].max(), c[:, 3].max()]]) for c in kd_cells(boxes, BOX_BATCH)]
        narrowed = []
        for sub in subs:
            description = self.descriptions[sub.source]
            if description.geosparql == "full":
                filters = [spatial_filter(variable, cell, description) for cell in cells]
                narrowed += [sub.narrowed(alternatives=tuple(filters[i:i + CELLS_PER_QUERY]))
                             for i in range(0, len(filters), CELLS_PER_QUERY)]
            elif description.geosparql == "topology":
                narrowed += [sub.narrowed(spatial=spatial_filter(variable, envelope, description)) for envelope in envelopes]
            else:
                narrowed.append(sub)  # the source evaluates no GeoSPARQL: gathered whole
        return narrowed

    # --- sending ------------------------------------------------------------------------------

    def send(self, subs: list[SubQuery], graph: str | None, join: str) -> None:
        """Send sub-queries at once, load each reply as it comes; the first failure stops the query
        unless the source may fail (then it is recorded, and the answer is partial)."""
        todo = []
        for sub in subs:
            key = (sub.source, sub.sparql, graph)
            if key not in self.sent and sub.source not in {f.source for f in self.failed}:
                self.sent.add(key)
                todo.append(sub)
        futures = {self.pool.submit(self._fetch, sub): sub for sub in todo}
        try:
            pending = set(futures)
            while pending:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                finished, pending = wait(pending, timeout=left, return_when="FIRST_COMPLETED")
                for future in finished:
                    sub = futures[future]
                    reply, seconds, failure = future.result()
                    if failure is not None:
                        if sub.source not in self.partial:
                            raise failure
                        self.failed.append(Failed(sub.source, failure.message))
                        continue
                    self.gathered.append(Gathered(sub.source, sub.sparql, len(reply), self._load(sub, reply, graph), seconds, join))
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def _fetch(self, sub: SubQuery) -> tuple[bytes, float, FederationError | None]:
        started = time.perf_counter()
        try:
            reply = self.fetch(sub)
        except FederationError as error:  # nothing of this thread's frames crosses over
            return b"", time.perf_counter() - started, without_frames(error)
        return reply, time.perf_counter() - started, None

    def _load(self, sub: SubQuery, reply: bytes, graph: str | None) -> int:
        try:
            return self.scratch.load_data(reply, "ntriples", graph=graph).triples
        except GeoKGError as error:
            raise FederationError(sub.source, f"sent data we cannot use: {error.message.split('. Nothing')[0]}. "
                                              "Correct the data at the source.") from None


def kd_cells(boxes: np.ndarray, most: int) -> list[np.ndarray]:
    """CRS84 boxes split into cells of at most ``most`` boxes, halving at the median along the
    longer side (in metres) until small: each cell's envelope is compact, wherever the boxes crowd.

    >>> boxes = np.array([[x, 0, x + 0.1, 0.1] for x in range(10)], dtype=float)
    >>> [len(c) for c in kd_cells(boxes, 3)], kd_cells(boxes, 3)[0][:, 0].tolist()
    ([2, 3, 2, 3], [0.0, 1.0])
    """
    done, todo = [], [boxes]
    while todo:
        part = todo.pop()  # depth first, left before right: cells come in spatial order
        if len(part) <= most:
            done.append(part)
            continue
        x, y = (part[:, 0] + part[:, 2]) / 2, (part[:, 1] + part[:, 3]) / 2
        wide = np.ptp(x) * np.cos(np.radians(np.clip(y.mean(), -89, 89))) >= np.ptp(y)
        order = np.argsort(x if wide else y, kind="stable")
        half = len(part) // 2
        todo += [part[order[half:]], part[order[:half]]]
    return done


def _next_step(remaining: list[Step], done: list[Step], plan: ScopePlan) -> Step:
    """The smallest step joined to what is gathered (by a variable or a spatial link); else the smallest."""
    if done:
        bound = frozenset().union(*(s.variables for s in done))
        joined = [s for s in remaining if s.variables & bound or _link(plan, s, bound) is not None]
        if joined:
            return min(joined, key=lambda s: s.estimate)
    return min(remaining, key=lambda s: s.estimate)


def _link(plan: ScopePlan, step: Step, bound: frozenset[str]) -> tuple[str, str, float] | None:
    """(gathered variable, step's variable, metres) of a spatial join conjunct tying the step to what is gathered."""
    for conjunct in plan.scope.conjuncts:
        link = conjunct.link
        if link is None:
            continue
        for gathered_side, new_side in ((link.left, link.right), (link.right, link.left)):
            if gathered_side in bound and new_side in step.variables and gathered_side not in step.variables:
                if any(p.text.endswith(f" ?{new_side}") for p in step.patterns):
                    return gathered_side, new_side, link.metres
    return None


def _select(plan: ScopePlan, done: list[Step], variables: list[str]) -> str:
    """The distinct values of ``variables`` over the gathered patterns connected to them (no cross products)."""
    patterns = [p for s in done for p in s.patterns if p.required]
    reached, chosen = set(variables), []
    while True:
        joined = [p for p in patterns if p not in chosen and p.variables & reached]
        if not joined:
            break
        chosen += joined
        reached.update(*(p.variables for p in joined))
    bound = frozenset(reached)
    body = " .\n  ".join(p.text for p in chosen) + " ."
    filters = "".join(f"\n  FILTER{c.text if c.text.startswith('(') else '(' + c.text + ')'}"
                      for c in plan.scope.conjuncts if c.variables <= bound)
    if plan.graph:
        body = f"GRAPH <{plan.graph}> {{ {body} }}"
    return f"SELECT DISTINCT {' '.join('?' + v for v in variables)} {{\n  {body}{filters}\n}}"


def _rows(scratch: EmbeddedStore, sparql: str) -> list[tuple]:
    """The rows of a SELECT on the scratch store; the answer is made, read and dropped here."""
    failure = None
    try:
        result = scratch.query(sparql)
        try:
            rows = result.bindings()
            names = _variables(sparql)
            found = [tuple(row.get(name) for name in names) for row in rows]
        finally:
            del result
    except GeoKGError as error:
        failure = error.message
    if failure is not None:
        raise GeoKGError(f"The federation could not join what the sources sent: {failure}")
    return found


def _variables(select: str) -> list[str]:
    return [v[1:] for v in select.split("{", 1)[0].split() if v.startswith("?")]


def _has_blank(rows: list[tuple]) -> bool:
    return any(isinstance(value, ox.BlankNode) for row in rows for value in row)


def _bind(subs: list[SubQuery], variables: list[str], rows: list[tuple]) -> list[SubQuery]:
    """Each sub-query once per batch of rows, with the rows as a VALUES block."""
    head = f"VALUES ({' '.join('?' + v for v in variables)}) "
    blocks = []
    for start in range(0, len(rows), BIND_BATCH):
        lines = " ".join("(" + " ".join("UNDEF" if v is None else str(v) for v in row) + ")" for row in rows[start:start + BIND_BATCH])
        blocks.append(head + "{ " + lines + " }")
    return [sub.narrowed(values=block) for sub in subs for block in blocks]
