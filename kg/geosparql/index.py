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
import math
import pickle
import threading
from collections.abc import Callable, Iterable, Sequence
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
_DATATYPES = tuple(d for d in GEOMETRY_DATATYPES if d != DGGS_LITERAL)
_DATATYPE_NODES = tuple(NamedNode(d) for d in _DATATYPES)
_NO_BOX = (math.nan,) * 4
_FORMAT = 1  # version of the saved file


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
    def add(self, literals: Iterable[Literal], shapes: Sequence | None = None) -> None:
        """Index geometry literals (others, and ones already indexed, are ignored).

        ``shapes``: shapes already parsed, position by position (see :func:`stage`). The literals
        are parsed when the index is next used, so a load pays nothing here.
        """
        self._raw.append((literals if isinstance(literals, list) else list(literals), shapes))

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
        """Write the index to ``path`` (shapes as WKB, envelopes, lexical forms)."""
        self._compile()
        rows = np.flatnonzero(self._alive)
        state = {
            "unverified": self._verified[rows] < self._generation,  # checked after reopening
            "format": _FORMAT,
            "values": [self._values[r] for r in rows],
            "datatypes": [self._datatypes[r] for r in rows],
            "crs": [self._crs[r] for r in rows],
            "wkb": shapely.to_wkb(self._shapes[rows], output_dimension=4, include_srid=False),
            "boxes": self._boxes[rows],
        }
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)

    @classmethod
    def open(cls, path: Path, exists: Callable[[Literal], bool] | None = None) -> "SpatialIndex":
        """An index saved by :meth:`save`."""
        with path.open("rb") as stream:
            state = pickle.load(stream)
        if state.get("format") != _FORMAT:
            raise GeoKGError(f"{path} was written by another version of the spatial index.")
        index = cls(exists)
        n = len(state["values"])
        index._values, index._datatypes, index._crs = state["values"], state["datatypes"], state["crs"]
        index._row = dict(zip(zip(index._values, index._datatypes), range(n)))
        index._crs_seen = set(index._crs)
        index._shapes = shapely.from_wkb(state["wkb"])
        index._boxes = state["boxes"]
        index._alive = np.ones(n, dtype=bool)
        index._generation = 1
        index._verified = np.where(state["unverified"], 0, 1).astype(np.int64)
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
            rows = self._candidates(_envelope(query.shape, query.crs))
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
        for position, row in enumerate(rows):
            if self._shapes[row].is_empty:
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
        test = _relation(relation, pattern)
        a, b = self._table(left), self._table(right)
        if _implies_intersection(relation, pattern):
            i, j = _tree_of(b).query(_tree_geometries(a))
        else:
            i, j = (x.ravel() for x in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
        keep = np.zeros(len(i), dtype=bool)
        for (crs_a, crs_b), where in _pair_groups(a.crs, b.crs, i, j):
            if crs_a == crs_b:
                keep[where] = test(a.shapes[i[where]], b.shapes[j[where]])
            else:
                moved = [_reprojected(b.values[k], b.datatypes[k], crs_a) for k in j[where]]
                keep[where] = test(a.shapes[i[where]], np.array(moved, dtype=object))
        return [(a.literal(x), b.literal(y)) for x, y in zip(i[keep], j[keep])]

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

    # --- internals ---------------------------------------------------------------------------

    def _compile(self) -> None:
        """Move added rows into the arrays; the trees are rebuilt lazily (see ``_trees``)."""
        raw, self._raw = self._raw, []
        for literals, shapes in raw:
            self._commit(stage(literals, shapes))
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

    def _candidates(self, box: tuple[float, float, float, float]) -> np.ndarray:
        if any(math.isnan(v) for v in box):
            return np.empty(0, dtype=np.int64)
        window = shapely.box(*box)
        found = [rows[tree.query(window)] for tree, rows in self._trees()]
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
        staged = stage(literals, strict=True)
        return Staged(staged.values, staged.datatypes, staged.crs, staged.shapes, staged.boxes)


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
    keys = [k for k in position_of if k is not None and k[1] in _DATATYPES]
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
    crs84 = np.array([c == CRS84 for c in table.crs], dtype=bool)
    geometries = _boxes_to_geometries(np.asarray(table.boxes, dtype=float).reshape(-1, 4)).astype(object)
    geometries[crs84] = table.shapes[crs84]
    return geometries


def _tree_of(table) -> shapely.STRtree:
    return shapely.STRtree(_tree_geometries(table))


def _tree_over(index: SpatialIndex, rows: np.ndarray) -> tuple[shapely.STRtree, np.ndarray]:
    table = Staged(None, None, [index._crs[r] for r in rows], index._shapes[rows], index._boxes[rows])
    return shapely.STRtree(_tree_geometries(table)), rows


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
