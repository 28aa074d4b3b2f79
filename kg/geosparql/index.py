"""The spatial index: every geometry literal in the store, in an STRtree, kept in step with writes.

A row of the index is one geometry literal (lexical form + datatype), whatever subjects, properties
and graphs it appears with. The tree holds each literal's envelope in CRS84 (for CRS84 literals the
shape itself); answers are exact: the bbox candidates are tested with the same shapely predicates
and measures as the ``geof:`` functions (``kg.geosparql.topology``, ``kg.geosparql.measurement``),
in GeoSPARQL's CRS semantics (the second argument moved into the first one's CRS), so an answer is
what naive evaluation gives.

>>> from pyoxigraph import Literal, NamedNode
>>> from kg.geosparql.literals import parse_literal
>>> wkt = NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
>>> index = SpatialIndex()
>>> index.add([Literal("POINT(1 1)", datatype=wkt), Literal("POINT(5 5)", datatype=wkt)])
>>> [l.value for l in index.select(parse_literal("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))", wkt.value), "sfWithin")]
['POINT(1 1)']
>>> [l.value for l in index.within_distance(parse_literal("POINT(5 5.001)", wkt.value), 200)]
['POINT(5 5)']
"""

from __future__ import annotations

import functools
import gc
import math
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely
from pyoxigraph import Literal, NamedNode

from kg.errors import GeoKGError, InvalidGeometry
from kg.geosparql import measurement
from kg.geosparql.crs import crs_info, reproject, transformer
from kg.geosparql.literals import Geom, _reprojected, geometry_of, parse_literal, wkt_literal
from kg.geosparql.topology import PATTERNS, PREDICATES
from kg.geosparql.units import METRE, unit
from kg.geosparql.vocab import CRS84, DGGS_LITERAL, GEOMETRY_DATATYPES, WKT_LITERAL

RELATIONS = tuple(PREDICATES) + tuple(PATTERNS) + ("relate",)
# Relations that can hold between geometries that do not intersect: their candidates are all rows.
_NOT_INTERSECTING = {"sfDisjoint", "ehDisjoint", "rcc8dc"}
INDEXED_DATATYPES = tuple(d for d in GEOMETRY_DATATYPES if d != DGGS_LITERAL)  # DGGS is not readable
_DATATYPE_NODES = tuple(NamedNode(d) for d in INDEXED_DATATYPES)
_NO_BOX = (math.nan,) * 4
_FORMAT = 2  # version of the saved file


def _locked(method):
    """Writes and answers of one index take turns (the HTTP service answers from a thread pool)."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return call


class SpatialIndex:
    """Geometry literals with their shapes and CRS84 envelopes, in an STRtree; see the module doc.

    ``exists(literal)`` tells whether the store still holds a literal: after a write that may have
    deleted geometries without saying which (a SPARQL Update with DELETE/DROP/CLEAR/MOVE/COPY),
    :meth:`may_have_removed` marks every row unverified, and the rows an answer would return are
    checked once with ``exists`` (rows found gone leave the index).
    """

    def __init__(self, exists: Callable[[Literal], bool] | None = None):
        self._exists = exists
        self._lock = threading.RLock()
        self._row: dict[tuple[str, str], int] = {}
        self._values: list[str] = []
        self._datatypes: list[str] = []
        self._crs: list[str] = []
        self._shapes = np.empty(0, dtype=object)  # in each literal's own CRS (easting first)
        self._boxes = np.empty((0, 4))  # CRS84 envelopes, NaN for the empty geometry
        self._alive = np.empty(0, dtype=bool)
        self._verified = np.empty(0, dtype=np.int64)  # removal generation each row was checked at
        self._raw: list[tuple[Iterable[Literal], Sequence | None]] = []  # added, not yet parsed
        self._pending: list[Staged] = []  # parsed, not yet in the arrays
        self._pending_rows = 0
        self._generation = 0  # bumped by writes that may remove geometries we cannot name
        self._main: tuple[shapely.STRtree, np.ndarray] | None = None  # tree over rows [0, main_rows)
        self._delta: tuple[shapely.STRtree, np.ndarray] | None = None  # tree over rows [main_rows, n)
        self._main_rows = 0
        self._crs_seen: set[str] = set()  # every CRS among the rows
        self.stale = False  # the store changed in a way not tracked: rebuild before use

    # --- keeping in step ---------------------------------------------------------------------

    @_locked
    def __len__(self) -> int:
        """Rows, counting ones an untracked removal may have taken (``literals()`` checks them)."""
        self._compile()
        return int(self._alive.sum())

    @_locked
    def literals(self) -> list[Literal]:
        """Every indexed literal (checked against the store after an untracked removal)."""
        self._compile()
        return self._answer(np.flatnonzero(self._alive))

    @_locked
    def add(self, literals: Iterable[Literal] | Staged, shapes: Sequence | None = None) -> None:
        """Index geometry literals (others, and ones already indexed, are ignored).

        ``shapes``: shapes already parsed, position by position (see :func:`stage`). The literals
        are parsed when the index is next used, so a load pays nothing here. ``literals`` may also
        be staged already (:func:`stage` on a load's check thread).
        """
        self._raw.append((literals if isinstance(literals, (list, Staged)) else list(literals), shapes))

    def _commit(self, staged: "Staged") -> None:
        fresh, next_row, n = [], len(self._values) + self._pending_rows, len(self._alive)
        row_of, alive = self._row, self._alive
        for position, key in enumerate(zip(staged.values, staged.datatypes)):
            row = row_of.get(key)
            if row is None:
                row_of[key] = next_row
                next_row += 1
                fresh.append(position)
            elif row < n and not alive[row]:  # a removed literal comes back
                alive[row] = True
                self._verified[row] = self._generation
        if fresh:
            self._pending.append(staged.take(np.array(fresh, dtype=np.int64)))
            self._pending_rows += len(fresh)

    @_locked
    def discard(self, literals: Iterable[Literal]) -> None:
        """Remove literals the store no longer holds (checked with ``exists``; unknown ones ignored)."""
        self._compile()
        for literal in literals:
            row = self._row.get((literal.value, literal.datatype.value)) if type(literal) is Literal else None
            if row is not None and self._alive[row] and (self._exists is None or not self._exists(literal)):
                self._alive[row] = False

    @_locked
    def may_have_removed(self) -> None:
        """The store may have lost any geometry literals: check each row before it is next answered."""
        self._compile()  # rows added before the write are checked too
        self._generation += 1

    @_locked
    def rebuild(self, literals: Iterable[Literal]) -> None:
        """Replace the whole content (after a write that was not tracked)."""
        lock = self._lock
        self.__init__(self._exists)
        self._lock = lock
        self.add(literals)

    # --- persistence -------------------------------------------------------------------------

    @_locked
    def save(self, path: Path) -> None:
        """Write the index to ``path``: plain numpy arrays in one uncompressed ``.npz``, no pickle.

        Lexical forms joined into one UTF-8 buffer, datatypes and CRSs as codes into small tables,
        shapes as ragged coordinate arrays per geometry type (WKB for the rest), CRS84 envelopes,
        and which rows still await the check after an untracked removal. Written to a temporary
        file and renamed, so ``path`` is whole or absent.
        """
        self._compile()
        rows = np.flatnonzero(self._alive)
        values, datatypes, crs = self._values, self._datatypes, self._crs
        if len(rows) < len(self._alive):  # without the removed rows
            values, datatypes, crs = ([column[r] for r in rows] for column in (values, datatypes, crs))
        arrays = {
            "format": np.array(_FORMAT),
            "boxes": self._boxes[rows],
            "unverified": self._verified[rows] < self._generation,
            **_pack_strings("values", values),
            **_pack_codes("datatypes", datatypes),
            **_pack_codes("crs", crs),
            **_pack_shapes(self._shapes[rows]),
        }
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            np.savez(out, **arrays)
        partial.replace(path)

    @classmethod
    def open(cls, path: Path, exists: Callable[[Literal], bool] | None = None) -> "SpatialIndex":
        """An index saved by :meth:`save` (GeoKGError if the file is not one); ready for selections:
        the shapes and the tree are rebuilt from arrays on a second thread while the lexical forms
        are decoded on this one (GEOS releases the GIL)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if data["format"].item() != _FORMAT:
                    raise GeoKGError(f"{path} was written by another version of the spatial index.")
                arrays = {name: data[name] for name in data.files}
            boxes = arrays["boxes"]
            n = len(boxes)
            crs = _unpack_codes(arrays, "crs", n)
            with ThreadPoolExecutor(max_workers=1) as worker, _gc_paused():
                shaped = worker.submit(_unpack_shapes_and_tree, arrays, crs, boxes)
                values = _unpack_strings(arrays, "values", n)
                datatypes = _unpack_codes(arrays, "datatypes", n)
                row = dict(zip(zip(values, datatypes), range(n)))
                shapes, tree = shaped.result()
            if not len(values) == len(datatypes) == len(row) == len(arrays["unverified"]) == n or boxes.shape != (n, 4):
                raise ValueError("its columns do not match")
            if shapely.is_missing(shapes).any():
                raise ValueError("some shapes are missing")
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile, shapely.errors.GEOSException) as error:
            raise GeoKGError(f"{path} is not a saved spatial index: {error}") from None
        index = cls(exists)
        index._values, index._datatypes, index._crs, index._row = values, datatypes, crs, row
        index._crs_seen = set(crs)
        index._shapes, index._boxes = shapes, boxes
        index._alive = np.ones(n, dtype=bool)
        index._generation = 1
        index._verified = np.where(arrays["unverified"], 0, 1).astype(np.int64)
        if tree is not None:
            index._main, index._main_rows = (tree, np.arange(n)), n
        return index

    # --- selections --------------------------------------------------------------------------

    @_locked
    def select(self, query: Geom | Literal, relation: str, *, pattern: str | None = None, stored_first: bool = True) -> list[Literal]:
        """The indexed literals ``g`` for which ``relation(g, query)`` holds (``relation(query, g)``
        if not ``stored_first``); ``relation`` is a topology function name (``sfIntersects``,
        ``ehMeet``, ``rcc8ntpp`` ...) or ``relate`` with a DE-9IM ``pattern``.
        """
        test = _relation(relation, pattern)
        query, _ = _query_of(query)
        self._compile()
        if query.shape.is_empty or not _implies_intersection(relation, pattern):
            rows = np.flatnonzero(self._alive)
        else:
            rows = self._candidates(*(_envelope(part, query.crs) for part in _parts(query.shape)))
        keep = np.zeros(len(rows), dtype=bool)
        for crs, where in _groups(self._crs, rows):
            group = rows[where]
            if stored_first:
                keep[where] = test(self._shapes[group], _moved(query.shape, query.crs, crs))
            else:
                keep[where] = test(query.shape, self._moved_rows(group, query.crs))
        return self._answer(rows[keep])

    @_locked
    def within_distance(
        self, query: Geom | Literal, distance: float, unit_iri: str = METRE.iri, *, inclusive: bool = False, stored_first: bool = True
    ) -> list[Literal]:
        """The literals ``g`` with ``geof:distance(g, query, unit) < distance`` (``<=`` if
        ``inclusive``; ``geof:distance(query, g, unit)`` if not ``stored_first``).
        """
        u = unit(unit_iri)
        query, query_literal = _query_of(query)
        self._compile()
        if query.shape.is_empty:
            return []
        rows = self._distance_candidates(query, distance, u)
        keep = np.zeros(len(rows), dtype=bool)
        unit_term = NamedNode(u.iri)
        points = self._crs84_points(rows) if query.crs == CRS84 and query.shape.geom_type == "Point" and u.kind != "angular" else None
        if points is not None and points.any():
            # between CRS84 points geof:distance is Geod.inv: the same call, on arrays
            x, y = shapely.get_x(self._shapes[rows[points]]), shapely.get_y(self._shapes[rows[points]])
            qx, qy = np.full(len(x), query.shape.x), np.full(len(x), query.shape.y)
            metres = crs_info(CRS84).geod.inv(x, y, qx, qy)[2] if stored_first else crs_info(CRS84).geod.inv(qx, qy, x, y)[2]
            value = np.asarray(metres) / u.factor
            keep[points] = value <= distance if inclusive else value < distance
        for position, row in enumerate(rows):
            if self._shapes[row].is_empty or (points is not None and points[position]):
                continue
            stored = self._literal(row)
            first, second = (stored, query_literal) if stored_first else (query_literal, stored)
            keep[position] = _compare(measurement.distance(first, second, unit_term), distance, inclusive)
        return self._answer(rows[keep])

    # --- joins -------------------------------------------------------------------------------

    @_locked
    def join(
        self,
        relation: str,
        left: Sequence[Literal] | None = None,
        right: Sequence[Literal] | None = None,
        *,
        pattern: str | None = None,
    ) -> list[tuple[Literal, Literal]]:
        """Pairs ``(a, b)`` with ``relation(a, b)``, ``a`` from ``left`` and ``b`` from ``right``
        (each the whole index when None): the right side's tree queried with the left envelopes.
        """
        a, b, i, j = self.join_positions(relation, left, right, pattern=pattern)
        return [(a.literal(x), b.literal(y)) for x, y in zip(i, j)]

    @_locked
    def join_positions(
        self,
        relation: str,
        left: Sequence[Literal] | None = None,
        right: Sequence[Literal] | None = None,
        *,
        pattern: str | None = None,
    ) -> tuple["Staged", "Staged", np.ndarray, np.ndarray]:
        """:meth:`join` as the two sides' tables and the positions of each pair in them (the
        planner writes each literal once, whatever the number of pairs it is in)."""
        test = _relation(relation, pattern)
        a = self._table(left)
        b = a if right is left else self._table(right)  # a self-join: one table
        if _implies_intersection(relation, pattern):
            i, j = _tree_of(b).query(_tree_geometries(a))
            # empty geometries are in no tree, but two of them are equal (sfEquals)
            empty_a, empty_b = np.flatnonzero(shapely.is_empty(a.shapes)), np.flatnonzero(shapely.is_empty(b.shapes))
            if len(empty_a) and len(empty_b):
                more_i, more_j = (x.ravel() for x in np.meshgrid(empty_a, empty_b, indexing="ij"))
                i, j = np.concatenate([i, more_i]), np.concatenate([j, more_j])
        else:
            i, j = (x.ravel() for x in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
        keep = np.zeros(len(i), dtype=bool)
        for (crs_a, crs_b), where in _pair_groups(a.crs, b.crs, i, j):
            first = a.shapes[i[where]]
            if crs_a == crs_b:
                keep[where] = _in_parallel(test, first, b.shapes[j[where]])
            else:
                moved = [_reprojected(b.values[k], b.datatypes[k], crs_a) for k in j[where]]
                keep[where] = test(first, np.array(moved, dtype=object))
        return a, b, i[keep], j[keep]

    @_locked
    def join_within_distance(
        self,
        distance: float,
        unit_iri: str = METRE.iri,
        left: Sequence[Literal] | None = None,
        right: Sequence[Literal] | None = None,
        *,
        inclusive: bool = False,
    ) -> list[tuple[Literal, Literal]]:
        """Pairs ``(a, b)`` with ``geof:distance(a, b, unit) < distance`` (``<=`` if ``inclusive``)."""
        u = unit(unit_iri)
        a, b = self._table(left), self._table(right)
        grown = [_grown(box, crs, distance, u) for box, crs in zip(a.boxes, a.crs)]
        planar_a = np.array([box is None for box in grown], dtype=bool)
        boxes = np.array([box if box is not None else _NO_BOX for box in grown]).reshape(-1, 4)
        i, j = _tree_of(b).query(_boxes_to_geometries(boxes))
        # rows in a CRS whose distances are not geodesic: every pair is a candidate (exact, rare)
        planar_b = np.array([_unbounded(c, u) for c in b.crs], dtype=bool)
        extra_i, extra_j = [], []
        if planar_a.any() or planar_b.any():
            all_i, all_j = (x.ravel() for x in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
            more = planar_a[all_i] | planar_b[all_j]
            extra_i, extra_j = all_i[more], all_j[more]
        pairs = sorted(set(zip(i.tolist(), j.tolist())) | set(zip(list(extra_i), list(extra_j))))
        unit_term = NamedNode(u.iri)
        answer = []
        for x, y in pairs:
            if a.shapes[x].is_empty or b.shapes[y].is_empty:
                continue
            if _compare(measurement.distance(a.literal(x), b.literal(y), unit_term), distance, inclusive):
                answer.append((a.literal(x), b.literal(y)))
        return answer

    # --- nearest neighbours ------------------------------------------------------------------

    @_locked
    def nearest(
        self,
        query: Geom | Literal,
        k: int,
        *,
        max_distance: float | None = None,
        unit_iri: str = METRE.iri,
        inclusive: bool = True,
        among: Sequence[Literal] | None = None,
    ) -> list[tuple[Literal, float]]:
        """The k indexed literals nearest to ``query`` by ``geof:distance(g, query, unit)``, nearest first,
        with their distances; only those within ``max_distance`` (``<=``, or ``<`` if not inclusive) when
        given; ``among``: only these literals (e.g. those a query's thematic patterns allow) count.

        Equal distances are ordered by lexical form, then datatype IRI. Empty geometries and literals
        whose distance fails (an angular unit on a projected CRS) never answer. ``among`` literals count
        as given, each once, indexed or not (unreadable ones are left out), like the sides of :meth:`join`.

        How: k rows found near the query (growing windows of the trees) bound the k-th distance; only
        the rows within that bound (the candidates of :meth:`within_distance`) are measured.

        >>> from pyoxigraph import Literal, NamedNode
        >>> wkt = NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
        >>> index = SpatialIndex()
        >>> index.add([Literal(f"POINT({x} 0)", datatype=wkt) for x in range(5)])
        >>> [(l.value, round(d)) for l, d in index.nearest(Literal("POINT(2.1 0)", datatype=wkt), 2)]
        [('POINT(2 0)', 11132), ('POINT(3 0)', 100188)]
        """
        u = unit(unit_iri)
        query, query_literal = _query_of(query)
        limit = math.inf if max_distance is None else float(max_distance)
        self._compile()
        if k <= 0 or query.shape.is_empty or not limit >= 0:
            return []
        target = _envelope(query.shape, query.crs)
        latitude = min(89.0, abs(target[1] + target[3]) / 2)
        scale = 1.0 if u.kind == "angular" else max(0.01, math.cos(math.radians(latitude)))  # a degree of longitude in ones of latitude
        if among is None:
            table = Staged(self._values, self._datatypes, self._crs, self._shapes, self._boxes)
            near, verify = functools.partial(self._near_rows, target, scale), self._verify
            within = functools.partial(self._rows_within, query, u)
        else:
            table = self._among(among)
            near, verify = functools.partial(self._nearest_boxes, table.boxes, target, scale), self._as_given
            within = functools.partial(self._positions_within, table, query, u)
        known: dict[int, float | None] = {}
        measure = functools.partial(self._measure, table, query_literal, NamedNode(u.iri), known)
        measure(within(min(limit, self._kth_distance(k, near, verify, measure))))
        ranked = sorted(
            (d, table.values[p], table.datatypes[p], p)
            for p, d in known.items()
            if d is not None and (d <= limit if inclusive else d < limit)
        )
        answer = verify(np.array([p for *_, p in ranked], dtype=np.int64))[:k]
        return [(table.literal(p), known[p]) for p in answer.tolist()]

    def _near_rows(self, target: tuple, scale: float, m: int) -> np.ndarray:
        """About the ``m`` live rows nearest to the CRS84 box ``target`` (all if fewer), for a first bound:
        rows of a window of the trees grown until it holds ``m``, the nearest by :meth:`_nearest_boxes`."""
        trees = self._trees()
        seed = shapely.envelope(shapely.multipoints([target[:2], target[2:]]))
        nearest = [tree.query_nearest(seed, return_distance=True)[1] for tree, _ in trees]
        radius = min((float(d.min()) for d in nearest if len(d)), default=math.inf) * scale
        if math.isinf(radius):
            return np.empty(0, dtype=np.int64)  # no row with a shape
        radius = max(radius, 1e-7)
        while True:
            west, east = target[0] - radius / scale, target[2] + radius / scale
            window = shapely.box(west, target[1] - radius, east, target[3] + radius)
            found = np.concatenate([rows[tree.query(window)] for tree, rows in trees])
            found = found[self._alive[found]]
            if len(found) >= m or radius > 360:
                return found[self._nearest_boxes(self._boxes[found], target, scale, m)]
            radius *= 2

    def _rows_within(self, query: Geom, u, bound: float) -> np.ndarray:
        """Live rows that may be within ``bound`` of ``query`` (all live rows when unbounded)."""
        return np.flatnonzero(self._alive) if math.isinf(bound) else self._distance_candidates(query, bound, u)

    def _among(self, literals: Sequence[Literal]) -> Staged:
        """Given literals, each once: indexed ones from the index, the others parsed (unreadable: left out)."""
        self._compile()  # literals added since are looked up, not parsed again
        rows, others, row_of = [], {}, self._row
        for literal in literals:
            if type(literal) is Literal:
                key = (literal.value, literal.datatype.value)
                row = row_of.get(key)
                if row is None:
                    others[key] = literal
                else:
                    rows.append(row)
        rows = np.unique(np.array(rows, dtype=np.int64))
        extra = stage(list(others.values()))
        return Staged(
            [self._values[r] for r in rows] + extra.values,
            [self._datatypes[r] for r in rows] + extra.datatypes,
            [self._crs[r] for r in rows] + extra.crs,
            np.concatenate([self._shapes[rows], extra.shapes]),
            np.concatenate([self._boxes[rows], np.reshape(extra.boxes, (-1, 4))]),
        )

    @staticmethod
    def _kth_distance(k: int, near: Callable, verify: Callable, measure: Callable) -> float:
        """An upper bound of the k-th nearest distance: the k-th one among rows guessed near (inf if too few)."""
        m = k
        while True:
            guess = near(m)
            found = sorted(d for d in measure(verify(guess)) if d is not None)
            if len(found) >= k:
                return found[k - 1]
            if len(guess) < m:  # every row was guessed
                return math.inf
            m *= 4  # some were gone from the store, empty or failing

    @staticmethod
    def _measure(table: Staged, query: Literal, unit_term: NamedNode, known: dict, positions: Iterable) -> list:
        """``geof:distance(g, query, unit)`` at each position, each measured once (None: unbound, failing)."""
        for p in positions:
            p = int(p)
            if p in known:
                continue
            known[p] = None
            if not table.shapes[p].is_empty:
                try:
                    value = measurement.distance(table.literal(p), query, unit_term)
                except GeoKGError:
                    continue
                if value is not None and not math.isnan(float(value.value)):
                    known[p] = float(value.value)
        return [known[int(p)] for p in positions]

    @staticmethod
    def _nearest_boxes(boxes: np.ndarray, target: tuple, scale: float, m: int) -> np.ndarray:
        """Positions of the ``m`` boxes nearest to the box ``target`` (planar, longitudes times ``scale``);
        boxless (empty) ones never."""
        dx = np.maximum(0.0, np.maximum(boxes[:, 0] - target[2], target[0] - boxes[:, 2])) * scale
        dy = np.maximum(0.0, np.maximum(boxes[:, 1] - target[3], target[1] - boxes[:, 3]))
        gaps = np.hypot(dx, dy)
        positions = np.flatnonzero(~np.isnan(gaps))
        if len(positions) > m:
            positions = positions[np.argpartition(gaps[positions], m - 1)[:m]]
        return positions

    @staticmethod
    def _positions_within(table: Staged, query: Geom, u, bound: float) -> np.ndarray:
        """Positions of ``table`` that may be within ``bound`` of ``query``, as :meth:`_distance_candidates`."""
        every = np.arange(len(table))
        box = None if math.isinf(bound) else _grown(_envelope(query.shape, query.crs), query.crs, bound, u)
        if box is None:
            return every
        b = table.boxes
        hit = (b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])
        unbounded = {crs: _unbounded(crs, u) for crs in set(table.crs)}
        return every[hit | np.array([unbounded[c] for c in table.crs], dtype=bool)]

    @staticmethod
    def _as_given(positions: np.ndarray) -> np.ndarray:
        """``among`` literals are not checked against the store (the caller found them there)."""
        return positions

    # --- internals ---------------------------------------------------------------------------

    def _compile(self) -> None:
        """Move added rows into the arrays; the trees are rebuilt lazily (see ``_trees``)."""
        raw, self._raw = self._raw, []
        with _gc_paused():
            for literals, shapes in raw:
                self._commit(literals if isinstance(literals, Staged) else stage(literals, shapes))
        if not self._pending:
            return
        pending, self._pending, self._pending_rows = self._pending, [], 0
        for part in pending:
            self._values.extend(part.values)
            self._datatypes.extend(part.datatypes)
            self._crs.extend(part.crs)
            self._crs_seen.update(part.crs)
        added = sum(len(part.values) for part in pending)
        self._shapes = np.concatenate([self._shapes, *(part.shapes for part in pending)])
        self._boxes = np.concatenate([self._boxes, *(part.boxes for part in pending)])
        self._alive = np.concatenate([self._alive, np.ones(added, dtype=bool)])
        self._verified = np.concatenate([self._verified, np.full(added, self._generation)])
        self._delta = None

    def _trees(self) -> list[tuple[shapely.STRtree, np.ndarray]]:
        """A main tree and a small one for the rows added since: a small write costs a small rebuild."""
        n = len(self._values)
        if self._main is None or n - self._main_rows > max(20_000, self._main_rows // 4):
            self._main = _tree_over(self, np.arange(n))
            self._main_rows, self._delta = n, None
        if self._delta is None and n > self._main_rows:
            self._delta = _tree_over(self, np.arange(self._main_rows, n))
        return [t for t in (self._main, self._delta) if t is not None]

    def _candidates(self, *boxes: tuple[float, float, float, float]) -> np.ndarray:
        """The live rows whose envelopes meet any of these CRS84 boxes."""
        boxes = [box for box in boxes if not any(math.isnan(v) for v in box)]
        if not boxes:
            return np.empty(0, dtype=np.int64)
        windows = shapely.box(*np.array(boxes).T)
        found = [rows[tree.query(windows)[1]] for tree, rows in self._trees()]
        rows = np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
        return rows[self._alive[rows]]

    def _distance_candidates(self, query: Geom | Literal, distance: float, u) -> np.ndarray:
        box = _grown(_envelope(query.shape, query.crs), query.crs, distance, u)
        alive = np.flatnonzero(self._alive)
        if box is None:
            return alive
        rows = self._candidates(box)
        if not any(_unbounded(crs, u) for crs in set(self._crs[r] for r in rows) | self._crs_seen):
            return rows
        planar = np.array([_unbounded(self._crs[r], u) for r in alive], dtype=bool)
        return np.union1d(rows, alive[planar]) if planar.any() else rows

    def _crs84_points(self, rows: np.ndarray) -> np.ndarray:
        """Which of the rows are non-empty CRS84 points."""
        crs84 = np.array([self._crs[r] == CRS84 for r in rows], dtype=bool)
        shapes = self._shapes[rows]
        return crs84 & (shapely.get_type_id(shapes) == 0) & ~shapely.is_empty(shapes)

    def _moved_rows(self, rows: np.ndarray, crs: str) -> np.ndarray:
        moved = np.empty(len(rows), dtype=object)
        moved[:] = [
            self._shapes[r] if self._crs[r] == crs else _reprojected(self._values[r], self._datatypes[r], crs) for r in rows
        ]
        return moved

    def _verify(self, rows: np.ndarray) -> np.ndarray:
        """The rows still in the store (checked once per removal generation)."""
        if self._exists is None or len(rows) == 0:
            return rows
        unchecked = rows[self._verified[rows] < self._generation]
        for row in unchecked:
            if not self._exists(self._literal(row)):
                self._alive[row] = False
        self._verified[unchecked] = self._generation
        return rows[self._alive[rows]]

    def _answer(self, rows: np.ndarray) -> list[Literal]:
        return [self._literal(r) for r in self._verify(np.asarray(rows, dtype=np.int64))]

    def _literal(self, row) -> Literal:
        return Literal(self._values[row], datatype=_node(self._datatypes[row]))

    def _table(self, literals: Sequence[Literal] | None) -> "Staged":
        if literals is None:
            self._compile()
            rows = self._verify(np.flatnonzero(self._alive))
            return Staged(
                [self._values[r] for r in rows],
                [self._datatypes[r] for r in rows],
                [self._crs[r] for r in rows],
                self._shapes[rows],
                self._boxes[rows],
            )
        return self._among(literals)


# --- parsing and envelopes -----------------------------------------------------------------------


class Staged:
    """Geometry literals parsed for :meth:`SpatialIndex.add`: lexical forms, datatypes, CRSs,
    shapes (own CRS, easting first) and CRS84 envelopes, position by position."""

    def __init__(self, values, datatypes, crs, shapes, boxes):
        self.values, self.datatypes, self.crs, self.shapes, self.boxes = values, datatypes, crs, shapes, boxes

    def __len__(self) -> int:
        return len(self.values)

    def literal(self, position) -> Literal:
        return Literal(self.values[position], datatype=_node(self.datatypes[position]))

    def take(self, positions: np.ndarray) -> "Staged":
        if len(positions) == len(self.values):
            return self
        return Staged([self.values[p] for p in positions], [self.datatypes[p] for p in positions],
                      [self.crs[p] for p in positions], self.shapes[positions], self.boxes[positions])


def stage(literals: Iterable[Literal], shapes: Sequence | None = None, *, strict: bool = False) -> Staged:
    """Parse geometry literals for the index, changing no index (safe on a worker thread).

    ``shapes``: shapes already parsed for the same positions (``check_literals(..., shapes)``),
    None where not. Plain CRS84 WKT is parsed vectorised, the rest with ``parse_literal``.
    Unreadable literals are left out (``strict``: raised), as are other datatypes and DGGS.
    """
    pairs = [(l.value, l.datatype.value) if type(l) is Literal else None for l in literals]
    position_of = dict(zip(pairs, range(len(pairs))))  # one position per distinct literal
    keys = [k for k in position_of if k is not None and k[1] in INDEXED_DATATYPES]
    given = [shapes[position_of[k]] for k in keys] if shapes is not None else [None] * len(keys)
    values, datatypes = [k[0] for k in keys], [k[1] for k in keys]
    out_shapes = np.empty(len(keys), dtype=object)
    out_shapes[:] = given
    crs = [CRS84] * len(keys)
    boxes = np.full((len(keys), 4), np.nan)
    plain = np.array([d == WKT_LITERAL and v[:1].isalpha() for v, d in keys], dtype=bool)
    missing = plain & np.array([g is None for g in given], dtype=bool)
    if missing.any():
        out_shapes[missing] = shapely.from_wkt(np.array(values, dtype=object)[missing], on_invalid="ignore")
    if plain.any():
        plain_shapes = out_shapes[plain]
        ok = ~shapely.is_missing(plain_shapes)
        bounds = shapely.bounds(plain_shapes)
        with np.errstate(invalid="ignore"):
            ok &= ~((bounds[:, 1] < -90) | (bounds[:, 3] > 90))  # else parse_literal reports the error
        boxes[np.flatnonzero(plain)[ok]] = bounds[ok]
        plain[np.flatnonzero(plain)[~ok]] = False
    readable = plain.copy()
    for position in np.flatnonzero(~plain):
        try:
            geom = parse_literal(values[position], datatypes[position])
        except GeoKGError:
            if strict:
                raise
            continue
        out_shapes[position], crs[position] = geom.shape, geom.crs
        boxes[position] = _envelope(geom.shape, geom.crs)
        readable[position] = True
    return Staged(values, datatypes, crs, out_shapes, boxes).take(np.flatnonzero(readable))


def _parts(shape: shapely.Geometry, most: int = 4096) -> np.ndarray:
    """The parts of a multi-part shape, whose envelopes are tighter windows than the whole one's
    (a scattered MultiPolygon's envelope covers mostly ground none of its parts does); the shape
    itself when it has one part or very many."""
    count = shapely.get_num_geometries(shape)
    if count < 2 or count > most:
        return np.array([shape], dtype=object)
    return shapely.get_parts(shape)


def _envelope(shape: shapely.Geometry, crs: str) -> tuple[float, float, float, float]:
    """The CRS84 bounding box of a shape in ``crs`` (edges densified, then widened by a margin)."""
    if shape.is_empty:
        return _NO_BOX
    box = tuple(shapely.bounds(shape))
    if crs == CRS84:
        return box
    west, south, east, north = transformer(crs, CRS84).transform_bounds(*box, densify_pts=21)
    if not all(map(math.isfinite, (west, south, east, north))) or east < west:
        return (-180.0, -90.0, 180.0, 90.0)  # outside the transformation's area or across the antimeridian
    margin = 1e-6 + 1e-3 * max(east - west, north - south)
    return (west - margin, max(-90.0, south - margin), east + margin, min(90.0, north + margin))


def _geodesic(crs: str) -> bool:
    """Whether distances in ``crs`` are measured on the ellipsoid (then a degree margin bounds them)."""
    info = crs_info(crs)
    return info.geographic or info.geodesic_measures


def _unbounded(crs: str, u) -> bool:
    """Rows in ``crs`` are candidates of every distance query in unit ``u``: no degree margin bounds
    their distances (planar projected CRSs), or the ``geof:distance`` call fails for them (angular
    units on a projected CRS, which naive evaluation reports as an error too)."""
    info = crs_info(crs)
    return not info.geographic if u.kind == "angular" else not _geodesic(crs)


def _grown(box, crs: str, distance: float, u) -> tuple | None:
    """A CRS84 box holding every point within ``distance`` of ``box``; None when unbounded here."""
    if any(math.isnan(v) for v in box):
        return _NO_BOX
    info = crs_info(crs)
    if u.kind == "angular":
        if not info.geographic:
            return None  # an error in naive evaluation too; every row is a candidate
        degrees = distance * u.factor / info.unit_factor * 1.01 + 1e-9  # in the CRS's coordinate units
        return (box[0] - degrees, box[1] - degrees, box[2] + degrees, box[3] + degrees)
    if not _geodesic(crs):
        return None
    metres = distance * u.factor * 1.01 + 1e-3
    dlat = metres / 110_000  # a degree of latitude is at least 110.5 km on any Earth ellipsoid
    south, north = box[1] - dlat, box[3] + dlat
    if south <= -89 or north >= 89:
        return (-180.0, max(-90.0, south), 180.0, min(90.0, north))
    dlon = metres / (111_000 * math.cos(math.radians(max(abs(south), abs(north)))))
    if dlon >= 180:
        return (-180.0, south, 180.0, north)
    west, east = box[0] - dlon, box[2] + dlon
    if west < -180 or east > 180:  # across the antimeridian
        return (-180.0, south, 180.0, north)
    return (west, south, east, north)


def _boxes_to_geometries(boxes: np.ndarray) -> np.ndarray:
    geometries = shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]) if len(boxes) else np.empty(0, dtype=object)
    return np.where(np.isnan(boxes).any(axis=1), None, geometries) if len(boxes) else geometries


def _tree_geometries(table) -> np.ndarray:
    """What goes into a tree: CRS84 shapes themselves, other CRSs by their CRS84 envelope."""
    others = np.array([c != CRS84 for c in table.crs], dtype=bool)
    geometries = np.array(table.shapes, dtype=object)  # a copy; boxes made only where needed (1.4 s at 1e6)
    if others.any():
        geometries[others] = _boxes_to_geometries(np.asarray(table.boxes, dtype=float).reshape(-1, 4)[others])
    return geometries


def _tree_of(table) -> shapely.STRtree:
    return shapely.STRtree(_tree_geometries(table))


def _tree_over(index: SpatialIndex, rows: np.ndarray) -> tuple[shapely.STRtree, np.ndarray]:
    table = Staged(None, None, [index._crs[r] for r in rows], index._shapes[rows], index._boxes[rows])
    return shapely.STRtree(_tree_geometries(table)), rows


# --- the saved file (SpatialIndex.save / open) ---------------------------------------------------


@contextmanager
def _gc_paused():
    """Making a million strings and tuples sets off full garbage collections, each walking every
    object alive (a third of the time of opening a large index), for objects that hold no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_RAGGED_TYPES = (0, 1, 3, 4, 5, 6)  # shapely type ids with ragged arrays: (multi)points, lines, polygons
_LINEARRING = 2


def _pack_strings(name: str, values: Sequence[str]) -> dict[str, np.ndarray]:
    """Strings as one UTF-8 buffer, NUL-separated (end offsets instead if a string holds a NUL)."""
    text = "\0".join(values)
    if text.count("\0") == max(len(values) - 1, 0):
        return {name: np.frombuffer(text.encode(), dtype=np.uint8)}
    ends = np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)))
    return {name: np.frombuffer("".join(values).encode(), dtype=np.uint8), name + "_ends": ends}


def _unpack_strings(arrays: dict, name: str, n: int) -> list[str]:
    text = str(arrays[name].data, "utf-8")
    if name + "_ends" in arrays:
        ends = arrays[name + "_ends"].tolist()
        return [text[start:end] for start, end in zip([0, *ends[:-1]], ends)]
    return text.split("\0") if n else []


def _pack_codes(name: str, values: Sequence[str]) -> dict[str, np.ndarray]:
    """Strings from a small set (datatypes, CRSs) as codes into a table of them."""
    table = list(dict.fromkeys(values))
    code = {value: position for position, value in enumerate(table)}
    codes = np.fromiter(map(code.__getitem__, values), dtype=np.int32, count=len(values))
    return {name: codes, **_pack_strings(name + "_table", table)}


def _unpack_codes(arrays: dict, name: str, n: int) -> list[str]:
    codes = arrays[name]
    table = _unpack_strings(arrays, name + "_table", int(codes.max()) + 1 if n else 0)
    return np.array(table, dtype=object)[codes].tolist()


def _pack_shapes(shapes: np.ndarray) -> dict[str, np.ndarray]:
    """Shapes as shapely's ragged arrays (coordinates and offsets), one group per geometry type and
    dimension; collections, measured shapes and LinearRings (which WKB makes LineStrings) as WKB."""
    types = shapely.get_type_id(shapes)
    ragged = np.isin(types, _RAGGED_TYPES) & ~shapely.has_m(shapes)
    groups = types * 2 + shapely.has_z(shapes)
    arrays = {}
    for group in np.unique(groups[ragged]).tolist():
        rows = np.flatnonzero(ragged & (groups == group))
        coords, offsets = _ragged(shapes[rows], group // 2, bool(group % 2))
        arrays[f"ragged{group}_rows"], arrays[f"ragged{group}_coords"] = rows, coords
        for level, offset in enumerate(offsets or ()):
            arrays[f"ragged{group}_offsets{level}"] = offset
    rest = np.flatnonzero(~ragged)
    blobs = shapely.to_wkb(shapes[rest], output_dimension=4, flavor="iso")
    ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
    arrays.update(wkb_rows=rest, wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8), wkb_ends=ends)
    arrays["rings"] = np.flatnonzero(types == _LINEARRING)
    return arrays


def _ragged(shapes: np.ndarray, type_id: int, include_z: bool) -> tuple[np.ndarray, tuple | None]:
    """``shapely.to_ragged_array``'s coordinates and offsets, faster for polygons without holes
    (the usual case), where it need not make a geometry per ring."""
    if type_id == 3 and not shapely.get_num_interior_rings(shapes).any():
        counts = shapely.get_num_coordinates(shapes)
        rings = counts > 0  # an empty polygon has no ring
        offsets = (np.concatenate([[0], np.cumsum(counts[rings])]), np.concatenate([[0], np.cumsum(rings)]))
        return shapely.get_coordinates(shapes, include_z=include_z), offsets
    return shapely.to_ragged_array(shapes, include_z=include_z)[1:]


def _unpack_shapes_and_tree(arrays: dict, crs: list[str], boxes: np.ndarray) -> tuple[np.ndarray, shapely.STRtree | None]:
    """The shapes from :func:`_pack_shapes`'s arrays, and the tree over them (``open``'s second thread)."""
    shapes = np.empty(len(boxes), dtype=object)
    for name in arrays:
        if name.startswith("ragged") and name.endswith("_rows"):
            group = name.removeprefix("ragged").removesuffix("_rows")
            offsets = []
            while f"ragged{group}_offsets{len(offsets)}" in arrays:
                offsets.append(arrays[f"ragged{group}_offsets{len(offsets)}"])
            kind = shapely.GeometryType(int(group) // 2)
            shapes[arrays[name]] = shapely.from_ragged_array(kind, arrays[f"ragged{group}_coords"], tuple(offsets) or None)
    blob, ends = arrays["wkb"].tobytes(), arrays["wkb_ends"].tolist()
    shapes[arrays["wkb_rows"]] = shapely.from_wkb([blob[start:end] for start, end in zip([0, *ends[:-1]], ends)])
    for row in arrays["rings"].tolist():
        line = shapes[row]
        coords = shapely.get_coordinates(line, include_z=shapely.has_z(line))
        shapes[row] = shapely.linearrings(coords) if len(coords) else shapely.from_wkt("LINEARRING EMPTY")
    tree = shapely.STRtree(_tree_geometries(Staged(None, None, crs, shapes, boxes))) if len(boxes) else None
    return shapes, tree


# --- exact tests ---------------------------------------------------------------------------------


def _relation(name: str, pattern: str | None) -> Callable:
    """The vectorised test of a topology function: the very shapely call ``kg.geosparql.topology`` makes."""
    if name == "relate":
        text = (pattern or "").strip().upper()
        if len(text) != 9 or set(text) - set("TF*012"):
            raise InvalidGeometry(f'the DE-9IM pattern must be 9 characters of T, F, *, 0, 1, 2 but got "{text[:40]}".')
        return lambda a, b: np.asarray(shapely.relate_pattern(a, b, text), dtype=bool)
    if name in PREDICATES:
        predicate = PREDICATES[name]
        return lambda a, b: np.asarray(predicate(a, b), dtype=bool)
    if name in PATTERNS:
        text = PATTERNS[name]
        return lambda a, b: np.asarray(shapely.relate_pattern(a, b, text), dtype=bool)
    raise InvalidGeometry(f"Got relation={name!r}; must be one of {sorted(RELATIONS)}.")


def _in_parallel(test: Callable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A vectorised shapely test over many pairs, in halves on two threads (GEOS releases the GIL)."""
    if len(a) < 20_000:
        return test(a, b)
    half = len(a) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(test, a[:half], b[:half])
        second = test(a[half:], b[half:])
        return np.concatenate([first.result(), second])


def _implies_intersection(name: str, pattern: str | None) -> bool:
    """Whether the relation can only hold between intersecting geometries (then bbox candidates suffice)."""
    if name == "relate":
        text = (pattern or "").strip().upper()
        return any(text[k] in "T012" for k in (0, 1, 3, 4))
    return name not in _NOT_INTERSECTING


def _compare(value: Literal | None, limit: float, inclusive: bool) -> bool:
    if value is None:
        return False
    number = float(value.value)
    return number <= limit if inclusive else number < limit


def _moved(shape: shapely.Geometry, source: str, target: str) -> shapely.Geometry:
    return shape if source == target else reproject(shape, source, target)


def _query_of(query: Geom | Literal) -> tuple[Geom, Literal]:
    """The query geometry parsed, and as a literal for the ``geof:`` functions (a given literal is kept)."""
    if isinstance(query, Geom):
        return query, wkt_literal(query.shape, query.crs)
    return geometry_of(query), query


def _groups(crs: list[str], rows: np.ndarray):
    """(CRS, positions in ``rows``) for each CRS among the rows."""
    if len(rows) == 0:
        return []
    labels = np.array([crs[r] for r in rows], dtype=object)
    if (labels == CRS84).all():
        return [(CRS84, np.arange(len(rows)))]
    return [(c, np.flatnonzero(labels == c)) for c in dict.fromkeys(labels.tolist())]


def _pair_groups(crs_a, crs_b, i: np.ndarray, j: np.ndarray):
    if len(i) == 0:
        return []
    a = np.array(crs_a, dtype=object)[i]
    b = np.array(crs_b, dtype=object)[j]
    if (a == CRS84).all() and (b == CRS84).all():
        return [((CRS84, CRS84), np.arange(len(i)))]
    keys = list(zip(a.tolist(), b.tolist()))
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    return [(key, np.array(where)) for key, where in groups.items()]


@functools.lru_cache(maxsize=16)
def _node(datatype: str) -> NamedNode:
    """One NamedNode per datatype: answers of thousands of literals allocate less."""
    return NamedNode(datatype)
