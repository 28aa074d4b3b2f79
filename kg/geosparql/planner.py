"""The spatial query planner: spatial selections and joins answered with the spatial index.

pyoxigraph evaluates a ``FILTER(geof:sfIntersects(?g, ...))`` by calling the function on every
row, and a spatial join as a nested loop. The planner finds, in each group graph pattern, the
filter conjuncts it can answer from the index (:class:`~kg.geosparql.index.SpatialIndex`), computes
their answers there, and hands them back to pyoxigraph in the query text:

- a **selection** ``geof:sfX(?g, CONST)`` (any topology function, ``geof:relate``, the constant on
  either side), ``geof:distance(?g, CONST, unit) < d`` (``<=``, ``>``, ``>=`` mirrored), or
  ``eekg:nearest(?g, CONST, k [, d, unit])``: the conjunct becomes ``true`` and the group gets
  ``VALUES ?g { ...the literals... }``, in a sub-select with the statements leading from ?g to its
  feature; when the group's thematic patterns (a class, a tag) match fewer rows than there are
  literals (counted up to that number), or above ``WRAPPED_VALUES_LIMIT`` literals, the conjunct
  becomes a membership test instead (one set lookup per row, no geometry work), and pyoxigraph
  starts from the thematic patterns;
- a **join** ``geof:sfX(?a, ?b)`` or ``geof:distance(?a, ?b, unit) < d``: the index joins the two
  sides (each restricted first by the thematic triple patterns connected to it, read with one
  ``SELECT`` on the store) and the group gets the pairs as integer key pairs in a sub-select, which
  pyoxigraph hash-joins with one keyed ``VALUES`` table per side. A side's table holds, where it
  can, the rows its triple patterns matched in that read (the variables the rest of the query uses),
  and the patterns leave the query: pyoxigraph neither evaluates them again nor reads the terms
  back from disk. Otherwise (a blank node to write, patterns that cannot move) the table holds the
  side's geometry literals and the patterns move into a sub-select pyoxigraph hash-joins.

A conjunct is planned only when its variables are bound by triple patterns of its group (or of a
``GRAPH`` block or plain group joined into it):
then every row binds them to terms of the store, the index holds every geometry literal of the
store, and its answers are exact (the same shapely calls as the ``geof:`` functions), so the
rewritten query has naive evaluation's answers. Anything else runs as written. The one
difference: a planned filter is never applied to a term that is not a geometry literal, where naive
evaluation stops the query with an error.

pyoxigraph's optimiser orders joins by fixed estimates (a triple pattern with a constant object:
10,000 rows; ``VALUES``: its row count) and may loop over a sub-select per row of a large ``VALUES``
(measured: 1 s for 8e4 pairs, 240 s for 1.6e5); a sub-select is never such a loop, so hand-backs
go in sub-selects, with the statements that should start from them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pyoxigraph import Literal, NamedNode

from kg.errors import GeoKGError, UnsupportedFeature
from kg.geosparql.index import RELATIONS, SpatialIndex
from kg.geosparql.query_text import Group, NotUnderstood, Query, Statement, Token, scan, split, tokenize
from kg.geosparql.registry import FUNCTIONS
from kg.geosparql.vocab import EEKG, GEOF, GEOMETRY_DATATYPES, PREFIXES, XSD
from kg.sparql_text import names_in_namespace

_ORDERED_KEYWORDS = {"OPTIONAL", "MINUS", "BIND", "VALUES", "SERVICE", "GRAPH", "UNION"}
VALUES_LIMIT = 20_000  # a selection's VALUES hand-back, wherever it goes
WRAPPED_VALUES_LIMIT = 250_000  # the same, in a sub-select with the statements from ?g to its feature
NEAREST = EEKG + "nearest"
_MEMBER = "urn:eekg:planner:member:"
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\'": "'", "\\n": "\n", "\\t": "\t", "\\r": "\r", "\\b": "\b", "\\f": "\f"}
_NEEDS_ESCAPE = re.compile(r'["\\\n\r]')
_NUMBER_TYPES = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "float", XSD + "int", XSD + "long"}


class NotPlanned(Exception):
    """A conjunct the planner does not answer; it stays in the query."""


@dataclass
class Planned:
    """The query to run, extra custom functions it calls, and what was planned (for tests and logs)."""

    sparql: str
    functions: dict[NamedNode, Callable] = field(default_factory=lambda: {NamedNode(NEAREST): _unplanned_nearest})
    steps: list[str] = field(default_factory=list)


Select = Callable[[str], list[tuple]]  # runs a SELECT on the store, returns its rows


def plan(sparql: str, index: Callable[[], SpatialIndex], select: Select) -> Planned:
    """The query with its recognised spatial conjuncts answered from the index ``index()`` gives
    (see the module doc). A query naming no ``geof:`` or ``eekg:`` function costs one text search:
    neither the scan nor the index (which may have to be read from disk first)."""
    planned = Planned(sparql)
    if not (names_in_namespace(sparql, GEOF, PREFIXES) or names_in_namespace(sparql, EEKG, PREFIXES)):
        return planned
    try:
        query = scan(sparql)
    except NotUnderstood:
        return planned
    if query.where is None:
        return planned
    planner = _Planner(query, index, select, planned)
    edits: list[tuple[int, int, str]] = []
    for group in query.where.walk():
        edits.extend(planner.group(group))
    text = sparql
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    planned.sparql = text
    return planned


def _unplanned_nearest(*args):
    raise UnsupportedFeature(
        "eekg:nearest outside a planned FILTER",
        hint="Use it as FILTER(eekg:nearest(?g, GEOMETRY, k)) (or a conjunct of one with &&) in a group "
        "whose triple patterns bind ?g, e.g. { ?f geo:hasGeometry/geo:asWKT ?g FILTER(eekg:nearest(?g, ..., 5)) }.",
    )


# --- recognising conjuncts ---------------------------------------------------------------------


@dataclass
class _Call:
    function: str  # full IRI
    args: list  # ("var", name) or a pyoxigraph term


@dataclass
class _JoinSide:
    variable: str  # the geometry variable
    literals: list | None  # the geometry literals its triple patterns allow; None: the whole index
    kept: list[str] = field(default_factory=list)  # with rows: the variables of its patterns used elsewhere
    rows: list[tuple] | None = None  # the patterns' rows (geometry literal, the kept variables' terms)


class _Planner:
    def __init__(self, query: Query, index: Callable[[], SpatialIndex], select: Select, planned: Planned):
        self.query, self.index_of, self.select, self.planned = query, index, select, planned
        self.prefixes = {**PREFIXES, **query.prefixes}
        self.sides: dict[tuple[str, ...], list[tuple]] = {}
        self.columns: dict[int, list] = {}  # id of a list in self.sides -> its first column
        self.counter = 0
        self.wrapped: set[int] = set()  # offsets of statements already moved into a side's sub-select
        self.wrapped_sides: list[tuple[int, int, str]] = []
        self.conjunct_span = (0, 0)  # of the conjunct being planned

    @functools.cached_property
    def index(self) -> SpatialIndex:
        return self.index_of()

    @functools.cached_property
    def variable_tokens(self) -> list[Token]:
        return [t for t in tokenize(self.query.text) if t.kind == "variable"]

    @functools.cached_property
    def projects_all(self) -> bool:
        """Whether a ``SELECT *`` (or ``DESCRIBE *``) may project any variable of the query."""
        words = [t.text.upper() for t in tokenize(self.query.text) if t.kind in ("word", "punct")]
        return any(w in ("SELECT", "DESCRIBE") and "*" in words[k + 1:k + 3] for k, w in enumerate(words))

    def group(self, group: Group) -> list[tuple[int, int, str]]:
        edits = []
        for clause in group.filters:
            for start, end, tokens in _conjuncts(clause.expression):
                self.conjunct_span = (start, end)
                try:
                    replacement, addition = self.conjunct(tokens, group)
                except (NotPlanned, GeoKGError):  # a GeoKGError: naive evaluation reports it, as usual
                    self.wrapped_sides = []
                    continue
                edits.append((start, end, replacement))
                if addition:
                    edits.append((group.close, group.close, addition))
                edits.extend(self.wrapped_sides)
                self.wrapped_sides = []
        return edits

    def conjunct(self, tokens: list[Token], group: Group) -> tuple[str, str]:
        """(replacement of the conjunct, text added at the end of the group)."""
        comparison = _comparison(tokens)
        call = self.call(comparison[0] if comparison else tokens)
        variables = [a[1] for a in call.args if isinstance(a, tuple)]
        if not variables or any(group.binding(v) is None for v in variables) or len(set(variables)) != len(variables):
            raise NotPlanned
        name = call.function.removeprefix(GEOF)
        if call.function == NEAREST and not comparison:
            return self.nearest(call, group)
        if name == "distance" and comparison and call.function.startswith(GEOF):
            return self.distance(call, comparison[1], comparison[2], group)
        if comparison or not call.function.startswith(GEOF) or name not in RELATIONS:
            raise NotPlanned
        return self.relation(name, call, group)

    def relation(self, name: str, call: _Call, group: Group) -> tuple[str, str]:
        pattern = None
        if name == "relate":
            if len(call.args) != 3 or not _is_string(call.args[2]):
                raise NotPlanned
            pattern = call.args[2].value
        elif len(call.args) != 2:
            raise NotPlanned
        first, second = call.args[:2]
        if isinstance(first, tuple) and isinstance(second, tuple):
            left, right = self.join_side(group, first[1], second[1]), self.join_side(group, second[1], first[1])
            a, b, i, j = self.index.join_positions(name, left.literals, right.literals, pattern=pattern)
            self.planned.steps.append(f"join {name}(?{first[1]}, ?{second[1]}): {len(i)} pairs")
            return "(true)", self.pairs(left, right, list(zip(a.values, a.datatypes)), list(zip(b.values, b.datatypes)), i, j)
        variable, constant, stored_first = (first[1], second, True) if isinstance(first, tuple) else (second[1], first, False)
        literals = self.index.select(_geometry(constant), name, pattern=pattern, stored_first=stored_first)
        self.planned.steps.append(f"selection {name} on ?{variable}: {len(literals)} literals")
        return self.hand_back(variable, literals, group)

    def distance(self, call: _Call, limit: float, inclusive: bool, group: Group) -> tuple[str, str]:
        if len(call.args) != 3 or not isinstance(call.args[2], NamedNode):
            raise NotPlanned
        first, second, unit = call.args
        if isinstance(first, tuple) and isinstance(second, tuple):
            left, right = self.join_side(group, first[1], second[1]), self.join_side(group, second[1], first[1])
            pairs = self.index.join_within_distance(limit, unit.value, left.literals, right.literals, inclusive=inclusive)
            self.planned.steps.append(f"distance join (?{first[1]}, ?{second[1]}): {len(pairs)} pairs")
            keys_a = sorted({_key(x) for x, _ in pairs})
            keys_b = sorted({_key(y) for _, y in pairs})
            at_a, at_b = {k: n for n, k in enumerate(keys_a)}, {k: n for n, k in enumerate(keys_b)}
            i = np.array([at_a[_key(x)] for x, _ in pairs], dtype=np.int64)
            j = np.array([at_b[_key(y)] for _, y in pairs], dtype=np.int64)
            return "(true)", self.pairs(left, right, keys_a, keys_b, i, j)
        variable, constant, stored_first = (first[1], second, True) if isinstance(first, tuple) else (second[1], first, False)
        literals = self.index.within_distance(_geometry(constant), limit, unit.value, inclusive=inclusive, stored_first=stored_first)
        self.planned.steps.append(f"distance selection on ?{variable}: {len(literals)} literals")
        return self.hand_back(variable, literals, group)

    def nearest(self, call: _Call, group: Group) -> tuple[str, str]:
        args = call.args
        if len(args) not in (3, 5) or not isinstance(args[0], tuple) or isinstance(args[1], tuple):
            raise NotPlanned
        k = _number(args[2])
        if k != int(k):
            raise NotPlanned
        max_distance, unit_iri = (None, None) if len(args) == 3 else (_number(args[3]), args[4])
        options = {} if unit_iri is None else {"max_distance": max_distance, "unit_iri": unit_iri.value}
        variable = args[0][1]
        among = self.side(group, variable)
        found = self.index.nearest(_geometry(args[1]), int(k), among=among, **options)
        self.planned.steps.append(f"nearest {int(k)} to ?{variable}: {len(found)} literals")
        return "(true)", self.values(variable, [literal for literal, _ in found])

    # --- handing answers back -----------------------------------------------------------------

    def hand_back(self, variable: str, literals: list[Literal], group: Group) -> tuple[str, str]:
        """The literals back into the query: ``VALUES`` to start from, or a test per row when the
        group's thematic patterns select fewer rows than the literals (they are then the start)."""
        bound = group.binding(variable)
        chain = _chain(bound.statements, variable)
        movable = bool(chain) and _movable(bound) and not any(s.start in self.wrapped for s in chain)
        component = _component(bound.statements, variable)
        fewer_thematic = len(component) > len(chain) and self.rows_up_to(bound, component, len(literals)) < len(literals)
        if not fewer_thematic and (len(literals) <= VALUES_LIMIT or (movable and len(literals) <= WRAPPED_VALUES_LIMIT)):
            if not movable:
                leading = self.leading_statement(bound, variable) if bound is group else None
                if leading is None:
                    return "(true)", self.values(variable, literals)
                # Before the statement that binds it, so the VALUES join the group's first triples
                # rather than everything its OPTIONALs made (2 s against 60 ms, 4,000 rows and two
                # OPTIONALs): the same rows, since that statement binds the variable in every row.
                self.wrapped_sides.append((leading.start, leading.start, self.values(variable, literals)))
                return "(true)", ""
            # The VALUES in a sub-select with the statements leading from ?g to its feature: it is
            # evaluated from the VALUES, then hash-joined with the thematic patterns (a class, a
            # tag), which pyoxigraph would otherwise scan first (2 s against 37 ms at 1e5).
            self.wrap(chain, self.values(variable, literals))
            return "(true)", ""
        keys = frozenset((l.value, l.datatype.value) for l in literals)
        self.counter += 1
        member = NamedNode(f"{_MEMBER}{self.counter}")
        self.planned.functions[member] = lambda term: Literal(
            type(term) is Literal and (term.value, term.datatype.value) in keys
        )
        return f"(<{member.value}>(?{variable}))", ""

    def leading_statement(self, group: Group, variable: str) -> Statement | None:
        """The group's first statement binding ``variable``, if only triples and filters come
        before it in the group (no OPTIONAL, MINUS, BIND, VALUES, nested group ...)."""
        statement = min((s for s in group.statements if variable in s.variables), key=lambda s: s.start)
        before = tokenize(self.query.text[group.open + 1:statement.start])
        if any(t.text == "{" or (t.kind == "word" and t.text.upper() in _ORDERED_KEYWORDS) for t in before):
            return None
        return statement

    def values(self, variable: str, literals: list[Literal]) -> str:
        return f"\nVALUES ?{variable} {{ {' '.join(map(_term_text, literals))} }}\n"

    def pairs(self, left: "_JoinSide", right: "_JoinSide", keys_a: list[tuple[str, str]], keys_b: list[tuple[str, str]],
              i: np.ndarray, j: np.ndarray) -> str:
        """Pairs (positions ``i``/``j`` into the two sides' literals, as (lexical form, datatype)
        keys) as integer key pairs and a keyed table per side, in a sub-select pyoxigraph hash-joins."""
        self.counter += 1
        ka, kb = f"?eekg_pair_{self.counter}_a", f"?eekg_pair_{self.counter}_b"
        used_a, key_a = np.unique(i, return_inverse=True)
        used_b, key_b = np.unique(j, return_inverse=True)
        rows = " ".join(map("({} {})".format, key_a.tolist(), key_b.tolist()))
        columns_a, table_a = _table(left, keys_a, used_a)
        columns_b, table_b = _table(right, keys_b, used_b)
        projected = " ".join(f"?{v}" for v in dict.fromkeys(columns_a + columns_b)) or f"{ka} {kb}"
        return (
            f"\n{{ SELECT {projected} {{ {{ SELECT * {{ VALUES ({ka} {kb}) {{ {rows} }} }} }} "
            f"{{ SELECT * {{ VALUES ({ka}{''.join(f' ?{v}' for v in columns_a)}) {{ {table_a} }} }} }} "
            f"{{ SELECT * {{ VALUES ({kb}{''.join(f' ?{v}' for v in columns_b)}) {{ {table_b} }} }} }} }} }}\n"
        )

    def rows_up_to(self, group: Group, statements: list[Statement], limit: int) -> int:
        """How many rows the statements match, counted up to ``limit`` (a cost bounded by it)."""
        body = " . ".join(s.text for s in statements)
        if group.graph is not None:
            body = f"GRAPH {group.graph} {{ {body} }}"
        prologue = self.query.text[: self.query.form_start]
        text = f"{prologue}SELECT (COUNT(*) AS ?n) {self.query.dataset} WHERE {{ SELECT * WHERE {{ {body} }} LIMIT {limit} }}"
        return int(self.select(text)[0][0].value)

    # --- thematic sides of a join ------------------------------------------------------------

    def side(self, group: Group, variable: str) -> list | None:
        """The geometry literals the triple patterns connected to ``variable`` allow (read from the
        store), or None (the whole index) when they restrict nothing."""
        group = group.binding(variable)
        component = _component(group.statements, variable)
        if len(component) == 1 and _unrestricting(component[0], variable):
            return None  # e.g. ?x geo:asWKT ?g alone: every geometry of the store
        return self.first_column(self.side_rows(group, component, [variable]))

    def join_side(self, group: Group, variable: str, other: str) -> _JoinSide:
        """A join side: as :meth:`side`, but None also when its patterns reach ``other``; with its
        rows when its patterns can leave the query (module doc), else with the patterns wrapped."""
        bound = group.binding(variable)
        component = _component(bound.statements, variable)
        if other in set().union(*(s.variables for s in component)):
            return _JoinSide(variable, None)
        if len(component) == 1 and _unrestricting(component[0], variable):
            return _JoinSide(variable, None)
        if not _movable(bound) or any(s.start in self.wrapped for s in component):
            return _JoinSide(variable, self.first_column(self.side_rows(bound, component, [variable])))
        kept = self.used_elsewhere(component)
        rows = self.side_rows(bound, component, [variable, *(v for v in kept if v != variable)])
        literals = self.first_column(rows)
        if variable in kept:
            rows = [(row[0], row[0], *row[1:]) for row in rows]
            kept = [variable, *(v for v in kept if v != variable)]
        # the rows join the group of the conjunct: a filter of a nested group would lose them
        if (bound is group or not bound.filters) and all(_writable(term) for row in rows for term in row[1:]):
            self.wrapped.update(s.start for s in component)
            self.wrapped_sides.extend((s.start, s.end, "{}") for s in component)
            return _JoinSide(variable, literals, kept, rows)
        self.wrap(component)
        return _JoinSide(variable, literals)

    def side_rows(self, group: Group, component: list[Statement], columns: list[str]) -> list[tuple]:
        """The rows of the statements (in ``group``'s graph) whose first column is a geometry literal."""
        body = " . ".join(s.text for s in component)
        if group.graph is not None:
            body = f"GRAPH {group.graph} {{ {body} }}"
        prologue = self.query.text[: self.query.form_start]
        text = f"{prologue}SELECT {' '.join('?' + c for c in columns)} {self.query.dataset} WHERE {{ {body} }}"
        key = _canonical(text)
        if key not in self.sides:
            self.sides[key] = [
                row for row in self.select(text) if type(row[0]) is Literal and row[0].datatype.value in GEOMETRY_DATATYPES
            ]
        return self.sides[key]

    def first_column(self, rows: list[tuple]) -> list:
        """The rows' geometry literals: one list per side read, so that a self-join's sides are one
        object (and the index makes one table of them)."""
        if id(rows) not in self.columns:
            self.columns[id(rows)] = [row[0] for row in rows]
        return self.columns[id(rows)]

    def used_elsewhere(self, component: list[Statement]) -> list[str]:
        """The statements' variables that occur in the query outside them and the planned conjunct."""
        names = set().union(*(s.variables for s in component))
        names = {n for n in names if not n.startswith("_:")}
        if self.projects_all:
            return sorted(names)
        spans = [(s.start, s.end) for s in component] + [self.conjunct_span]
        return sorted({
            t.text[1:] for t in self.variable_tokens
            if t.text[1:] in names and not any(start <= t.start < end for start, end in spans)
        })

    def wrap(self, component: list[Statement], extra: str = "") -> None:
        """Move a join side's statements into one sub-select, in place of its first statement:
        pyoxigraph then hash-joins the sides with the pairs rather than looping over a side per
        pair (measured 3.4 s against 5.6 s for 3e5 pairs). Only where :func:`_movable`."""
        body = " . ".join(s.text for s in component)
        self.wrapped_sides.append((component[0].start, component[0].end, f"{{ SELECT * {{ {body} {extra}}} }}"))
        self.wrapped_sides.extend((s.start, s.end, "{}") for s in component[1:])
        self.wrapped.update(s.start for s in component)

    # --- expressions ---------------------------------------------------------------------------

    def call(self, tokens: list[Token]) -> _Call:
        tokens = _strip_brackets(tokens)
        if len(tokens) < 3 or tokens[0].kind not in ("iri", "pname") or tokens[1].text != "(" or _closing(tokens, 1) != len(tokens) - 1:
            raise NotPlanned
        function = self.iri(tokens[0])
        if not (function.startswith(GEOF) or function == NEAREST):
            raise NotPlanned
        return _Call(function, [self.argument(a) for a in split(tokens[2:-1], ",")])

    def argument(self, tokens: list[Token]):
        tokens = _strip_brackets(tokens)
        if len(tokens) == 1 and tokens[0].kind == "variable":
            return ("var", tokens[0].text[1:])
        if len(tokens) == 1 and tokens[0].kind in ("iri", "pname"):
            return NamedNode(self.iri(tokens[0]))
        if len(tokens) == 1 and tokens[0].kind == "number":
            return _numeric(tokens[0].text)
        if len(tokens) == 2 and tokens[0].text in "+-" and tokens[1].kind == "number":
            return _numeric(tokens[0].text + tokens[1].text)
        if tokens[0].kind == "string":
            value = _unquote(tokens[0].text)
            if len(tokens) == 1:
                return Literal(value)
            if len(tokens) == 3 and tokens[1].kind == "datatype" and tokens[2].kind in ("iri", "pname"):
                return Literal(value, datatype=NamedNode(self.iri(tokens[2])))
            raise NotPlanned
        call = self.call(tokens)  # a constant expression, e.g. geof:buffer(CONST, 100, uom:metre)
        if call.function not in FUNCTIONS or any(isinstance(a, tuple) for a in call.args):
            raise NotPlanned
        value = FUNCTIONS[call.function](*call.args)
        if value is None:
            raise NotPlanned
        return value

    def iri(self, token: Token) -> str:
        if token.kind == "iri":
            iri = token.text[1:-1]
            if ":" not in iri:
                raise NotPlanned  # relative to a BASE
            return iri
        prefix, _, local = token.text.partition(":")
        if prefix not in self.prefixes:
            raise NotPlanned
        return self.prefixes[prefix] + local


def _conjuncts(expression: list[Token]):
    """(start offset, end offset, tokens) of each top-level ``&&`` conjunct of a FILTER constraint."""
    if not expression:
        return
    inner = _strip_brackets(expression)
    parts = split(inner, "&&")
    if len(parts) == 1 and inner is expression:
        yield expression[0].start, expression[-1].end, expression
        return
    for part in parts:
        if not part:
            continue
        stripped = _strip_brackets(part)
        if len(split(stripped, "&&")) > 1:
            yield from _conjuncts(part)
        else:
            yield part[0].start, part[-1].end, part


def _strip_brackets(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


def _closing(tokens: list[Token], at: int) -> int:
    depth = 0
    for position in range(at, len(tokens)):
        text = tokens[position].text if tokens[position].kind == "punct" else ""
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return position
    return -1


def _comparison(tokens: list[Token]):
    """(call tokens, limit, inclusive) for ``call < d``, ``call <= d``, ``d > call``, ``d >= call``."""
    tokens = _strip_brackets(tokens)
    depth = 0
    for position, token in enumerate(tokens):
        text = token.text if token.kind == "punct" else ""
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and text in ("<", "<=", ">", ">="):
            left, right = tokens[:position], tokens[position + 1:]
            if text in ("<", "<="):
                call, number = left, right
            else:
                call, number = right, left
            limit = _constant_number(number)
            return call, limit, text in ("<=", ">=")
    return None


def _constant_number(tokens: list[Token]) -> float:
    tokens = _strip_brackets(tokens)
    text = "".join(t.text for t in tokens)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise NotPlanned
    return float(text)


def _number(term) -> float:
    if type(term) is Literal and term.datatype.value in _NUMBER_TYPES:
        return float(term.value)
    raise NotPlanned


def _numeric(text: str) -> Literal:
    if re.fullmatch(r"[+-]?\d+", text):
        return Literal(text, datatype=NamedNode(XSD + "integer"))
    if "e" in text.lower():
        return Literal(text, datatype=NamedNode(XSD + "double"))
    return Literal(text, datatype=NamedNode(XSD + "decimal"))


def _is_string(term) -> bool:
    return type(term) is Literal and term.datatype.value == XSD + "string"


def _geometry(term) -> Literal:
    if type(term) is not Literal:
        raise NotPlanned
    return term


def _unquote(text: str) -> str:
    body = text[3:-3] if text[:3] in ('"""', "'''") else text[1:-1]
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})|\\.", _unescape, body)


def _unescape(match: re.Match) -> str:
    if match.group(1) or match.group(2):
        return chr(int(match.group(1) or match.group(2), 16))
    return _ESCAPES.get(match.group(0), match.group(0))


def _table(side: _JoinSide, keys: list[tuple[str, str]], used: np.ndarray) -> tuple[list[str], str]:
    """A join side's columns and ``VALUES`` rows, keyed by the rank of each used literal position:
    its rows (the kept variables' terms), or else its literals."""
    if side.rows is None:
        return [side.variable], " ".join(f"({n} {_literal_text(*keys[p])})" for n, p in enumerate(used.tolist()))
    rank = {keys[p]: n for n, p in enumerate(used.tolist())}
    lines = []
    for literal, *terms in side.rows:
        n = rank.get(_key(literal))
        if n is not None:
            lines.append(f"({n} {' '.join(map(_sparql_text, terms))})")
    return side.kept, " ".join(lines)


def _key(literal: Literal) -> tuple[str, str]:
    return literal.value, literal.datatype.value


def _writable(term) -> bool:
    """Whether ``VALUES`` can hold the term: an IRI or a literal (not a blank node, nor a triple)."""
    return type(term) is NamedNode or (type(term) is Literal and not getattr(term, "direction", None))


def _sparql_text(term) -> str:
    if type(term) is NamedNode:
        return f"<{term.value}>"
    if term.language:
        return f"{_quoted(term.value)}@{term.language}"
    return _literal_text(term.value, term.datatype.value)


def _term_text(literal: Literal) -> str:
    return _literal_text(literal.value, literal.datatype.value)


def _literal_text(value: str, datatype: str) -> str:
    return f"{_quoted(value)}^^<{datatype}>"


def _quoted(value: str) -> str:
    if _NEEDS_ESCAPE.search(value):
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{value}"'


def _component(statements: list[Statement], variable: str) -> list[Statement]:
    """The statements connected to ``variable`` through shared variables (and blank nodes)."""
    reached, component, rest = {variable}, [], list(statements)
    changed = True
    while changed:
        changed = False
        for statement in list(rest):
            if statement.variables & reached:
                component.append(statement)
                reached |= statement.variables
                rest.remove(statement)
                changed = True
    return sorted(component, key=lambda s: s.start)


def _movable(group: Group) -> bool:
    """Whether statements of the group may move into a sub-select: not when element order matters,
    and not inside GRAPH, where pyoxigraph loses the graph variable of a sub-select's rows."""
    return not group.ordered and group.graph is None


def _chain(statements: list[Statement], variable: str) -> list[Statement]:
    """The statements ``?x <property or path> ?y`` that lead from ``variable`` to the variables
    it is reached from (geometry node, feature), without the ones holding constants."""
    return _component([s for s in statements if _is_link(s)], variable)


def _is_link(statement: Statement) -> bool:
    tokens = statement.tokens
    return (
        len(tokens) >= 3
        and tokens[0].kind == "variable"
        and tokens[-1].kind == "variable"
        and all(t.kind in ("iri", "pname", "punct") and t.text not in (";", ",", "[", "]") for t in tokens[1:-1])
    )


def _unrestricting(statement: Statement, variable: str) -> bool:
    """``?x <property or path> ?variable`` with ?x used nowhere else: no restriction worth a read."""
    return _is_link(statement) and statement.tokens[-1].text[1:] == variable


def _canonical(text: str) -> tuple[str, ...]:
    """The side query's tokens, variables renamed in order of appearance: equal sides are read once."""
    names: dict[str, str] = {}
    return tuple(names.setdefault(t.text[1:], f"?v{len(names)}") if t.kind == "variable" else t.text for t in tokenize(text))
