"""SPARQL algebra (rdflib's ``translateQuery``) to Spark DataFrames over the warehouse's tables.

Each algebra node becomes a DataFrame whose columns are its variables (``v_<name>``), holding
N-Triples term strings (``kg.spark.terms``); expressions become Spark SQL expressions.

- A basic graph pattern scans one table per constant predicate (vertical partitioning) and joins
  the patterns connected ones first, smallest estimated first (the manifest's statistics).
- A FILTER with a topological relation or a distance between the geometries of two unconnected
  parts of a pattern is a spatial join through the grid: each part is evaluated first, with the
  filters that concern it alone (thematic selections below the spatial join); their geometry
  literals are paired by an equi-join on grid cells, tested exactly (``functions.refine_pairs``),
  kept in the cell of their reference point only, and joined back.
- A FILTER with such a test between a geometry variable and a constant is a spatial selection:
  the geometry table is cut by bounding box (Parquet statistics skip row groups) and tested
  exactly before it is joined to the pattern.
- Any other geof: call is the shared implementation in a pandas UDF (``eekg_geof2`` ...).
- Property paths other than sequences and inverses are ``kg.spark.paths``; ``FILTER (NOT) EXISTS``
  a semi (anti) join; an OPTIONAL's filter runs on an inner join whose matches are joined back.

Anything else raises :class:`~kg.errors.UnsupportedFeature` naming the feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox
import shapely
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.paths import Path
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import UnsupportedFeature
from kg.geosparql.crs import reproject
from kg.geosparql.literals import geometry_of
from kg.geosparql.registry import AGGREGATES, FUNCTIONS
from kg.geosparql.vocab import CRS84
from kg.spark import functions as geo
from kg.spark.aggregates import aggregate_of
from kg.spark.paths import expand as expand_paths
from kg.spark.paths import path_pairs
from kg.spark.terms import DEFAULT_GRAPH, NUMERIC_DATATYPES, XSD, parse_terms

BACKEND = "Spark store"
_NUMERIC = "|".join(re.escape(d.removeprefix(XSD)) for d in NUMERIC_DATATYPES)
_TRUE, _FALSE = f'"true"^^<{XSD}boolean>', f'"false"^^<{XSD}boolean>'
_OPS = {"=": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_UNNAMED = "_group_by_expression"  # the column of GROUP BY (expression), which names no variable


def column(name: str) -> str:
    """The DataFrame column of a SPARQL variable."""
    return "v_" + re.sub(r"[^A-Za-z0-9_]", "_", str(name))


def sql_string(text: str) -> str:
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def term_text(node) -> str:
    """The N-Triples string of an rdflib term (a constant of the query)."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, BNode):
        raise UnsupportedFeature("A blank node in a query pattern", BACKEND, "Use a variable instead.")
    if isinstance(node, Literal):  # written by pyoxigraph, as the stored terms are (same escapes)
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        datatype = str(node.datatype) if node.datatype else XSD + "string"
        return str(ox.Literal(str(node), datatype=ox.NamedNode(datatype)))
    raise UnsupportedFeature(f"The term {node!r}", BACKEND)


@dataclass
class Tables:
    """What the translation reads: the session, table loaders and the manifest's statistics."""

    spark: object
    manifest: object
    scan: object  # predicate (N-Triples) -> DataFrame(s, o, g) or None
    all_triples: object  # () -> DataFrame(s, p, o, g)
    geometries: object  # () -> DataFrame(term, wkb, crs, minx, miny, maxx, maxy)
    cells: object  # () -> DataFrame(term, cell)
    default_graphs: list | None = None
    named_graphs: list | None = None


@dataclass
class Translation:
    """The query's form, its variables and the DataFrame answering it."""

    form: str
    variables: list[str]
    frame: object
    template: list = field(default_factory=list)  # CONSTRUCT: triple patterns of rdflib terms


def translate(query, tables: Tables) -> Translation:
    """Translate an rdflib ``Query`` (from ``translateQuery``) into a DataFrame."""
    algebra = query.algebra
    name = algebra.name
    if name not in ("SelectQuery", "AskQuery", "ConstructQuery", "DescribeQuery"):
        raise UnsupportedFeature(f"{name.removesuffix('Query').upper()} queries", BACKEND, "Ask SELECT, ASK, CONSTRUCT or DESCRIBE queries.")
    clauses = algebra.get("datasetClause")
    if clauses and tables.default_graphs is None and tables.named_graphs is None:  # the protocol's graphs win
        tables.default_graphs = [str(c.default) for c in clauses if c.get("default") is not None]
        tables.named_graphs = [str(c.named) for c in clauses if c.get("named") is not None]
    compiler = _Compiler(tables)
    if name == "DescribeQuery":
        return compiler.describe(algebra)
    frame = compiler.pattern(algebra.p, None)
    if name == "AskQuery":
        return Translation("ASK", [], frame.limit(1))
    if name == "ConstructQuery":  # the WHERE's rows; the template is filled in on the driver
        template = list(algebra.template or [])
        variables = sorted({str(n) for t in template for n in t if isinstance(n, Variable)})
        columns = [compiler.F.col(column(v)) if column(v) in frame.columns else compiler.F.lit(None).cast("string").alias(column(v))
                   for v in variables]
        return Translation("GRAPH", variables, frame.select(*columns).distinct(), template)
    variables = [str(v) for v in algebra.PV]
    return Translation("SELECT", variables, frame)


class _Compiler:
    def __init__(self, tables: Tables):
        self.t = tables
        from pyspark.sql import functions as F

        self.F = F

    def describe(self, algebra) -> Translation:
        """DESCRIBE, as the embedded store answers it: the default graph's triples whose subject is a
        described resource, and those of the blank nodes they lead to, and so on."""
        F = self.F
        named = [(term_text(t),) for t in algebra.PV if not isinstance(t, Variable)]
        resources = self.t.spark.createDataFrame(named, "s string")
        if algebra.get("p") is not None:
            frame = self.pattern(algebra.p, None)
            for v in algebra.PV:
                if isinstance(v, Variable) and column(v) in frame.columns:
                    resources = resources.unionByName(frame.select(F.col(column(v)).alias("s")))
        triples = self._in_graph(self.t.all_triples(), None).select("s", "p", "o")
        seen = resources.distinct().localCheckpoint()
        found = frontier = triples.join(seen, on="s", how="left_semi").localCheckpoint()
        while True:  # the blank nodes the last round reached, not described yet
            blank = frontier.select(F.col("o").alias("s")).filter(F.col("s").startswith("_:")).distinct().subtract(seen)
            blank = blank.localCheckpoint()
            if blank.isEmpty():
                break
            seen = seen.unionByName(blank).localCheckpoint()
            frontier = triples.join(blank, on="s", how="left_semi").localCheckpoint()
            found = found.unionByName(frontier)
        names = ("s", "p", "o")
        frame = found.select(*[F.col(n).alias(column(n)) for n in names]).distinct()
        return Translation("GRAPH", list(names), frame, [tuple(Variable(n) for n in names)])

    # --- graph patterns ---------------------------------------------------------------------

    def pattern(self, node, graph):
        handler = getattr(self, "_" + node.name, None)
        if handler is None:
            raise UnsupportedFeature(_feature_name(node.name), BACKEND, "See docs/spark.md for what the Spark store supports.")
        return handler(node, graph)

    def _BGP(self, node, graph):
        return self._join_triples(expand_paths(node.triples), graph)

    def _join_triples(self, triples, graph):
        if not triples:
            return self._unit()
        scans = [(self._estimate(t), t) for t in triples]
        scans.sort(key=lambda item: item[0])
        first = scans.pop(0)[1]
        frame, bound = self._triple(first, graph), _variables_of(first)
        while scans:  # the smallest pattern connected to what is joined so far, else the smallest
            pick = next((i for i, (_, t) in enumerate(scans) if _variables_of(t) & bound), 0)
            triple = scans.pop(pick)[1]
            frame = _join(frame, self._triple(triple, graph))
            bound |= _variables_of(triple)
        return frame

    def _estimate(self, triple) -> float:
        s, p, o = triple
        if isinstance(p, (Variable, Path)):
            return float(self.t.manifest.triples)
        stats = self.t.manifest.tables.get(term_text(p))
        if stats is None:
            return 0.0
        rows = float(stats["rows"])
        if not isinstance(s, Variable):
            rows /= max(stats["subjects"], 1)
        if not isinstance(o, Variable):
            rows /= max(stats["objects"], 1)
        return rows

    def _triple(self, triple, graph):
        s, p, o = triple
        F = self.F
        if isinstance(p, Path):  # in the active graph already
            ends = tuple(None if isinstance(n, Variable) else term_text(n) for n in (s, o))
            frame = path_pairs(self, p, graph, ends).distinct()  # each pair once, as the embedded store gives them
            positions = {"s": s, "o": o}
        elif isinstance(p, Variable):
            frame = self._in_graph(self.t.all_triples(), graph)
            positions = {"s": s, "p": p, "o": o}
        else:
            frame = self.t.scan(term_text(p))
            if frame is None:
                return self._empty(_variables_of(triple) | _graph_variable(graph))
            frame = self._in_graph(frame, graph)
            positions = {"s": s, "o": o}
        names: dict[str, str] = {}
        for position, node in positions.items():
            if isinstance(node, Variable):
                if str(node) in names:
                    frame = frame.filter(F.col(position) == F.col(names[str(node)]))
                else:
                    names[str(node)] = position
            else:
                frame = frame.filter(F.col(position) == term_text(node))
        if isinstance(graph, Variable):
            if str(graph) in names:
                frame = frame.filter(F.col("g") == F.col(names[str(graph)]))
            else:
                names[str(graph)] = "g"
        return frame.select(*[F.col(position).alias(column(v)) for v, position in names.items()])

    def _in_graph(self, frame, graph):
        F = self.F
        if graph is None:
            graphs = self.t.default_graphs
            if graphs is None:
                return frame.filter(F.col("g") == DEFAULT_GRAPH)
            return frame.filter(F.col("g").isin([DEFAULT_GRAPH if g is None else f"<{g}>" for g in graphs]))
        if isinstance(graph, Variable):
            named = frame.filter(F.col("g") != DEFAULT_GRAPH)
            if self.t.named_graphs is not None:
                named = named.filter(F.col("g").isin([f"<{g}>" for g in self.t.named_graphs]))
            return named
        return frame.filter(F.col("g") == term_text(graph))

    def _Graph(self, node, graph):
        return self.pattern(node.p, node.term)

    def _Join(self, node, graph):
        return _join(self.pattern(node.p1, graph), self.pattern(node.p2, graph))

    def _LeftJoin(self, node, graph):
        left, right = self.pattern(node.p1, graph), self.pattern(node.p2, graph)
        expr = node.get("expr")
        if expr is None or getattr(expr, "name", None) == "TrueFilter":
            shared = [c for c in left.columns if c in right.columns]
            return left.join(right, on=shared if shared else self.F.lit(True), how="left")
        # The left rows' matches that pass the filter, joined back to every left row by all its
        # columns (null-safe): a Python UDF may not be in the ON clause of an outer join.
        F = self.F
        added = [c for c in right.columns if c not in left.columns]
        matched = self._filtered(_join(left.distinct(), right), _conjuncts(expr), graph)
        matched = matched.select(*[F.col(c).alias("m_" + c) for c in left.columns], *added)
        same = [F.col(c).eqNullSafe(F.col("m_" + c)) for c in left.columns] or [F.lit(True)]
        condition = same[0]
        for other in same[1:]:
            condition = condition & other
        return left.join(matched, on=condition, how="left").select(*left.columns, *added)

    def _Union(self, node, graph):
        return self.pattern(node.p1, graph).unionByName(self.pattern(node.p2, graph), allowMissingColumns=True)

    def _Minus(self, node, graph):
        left, right = self.pattern(node.p1, graph), self.pattern(node.p2, graph)
        shared = [c for c in left.columns if c in right.columns]
        return left.join(right.select(*shared).distinct(), on=shared, how="left_anti") if shared else left

    def _Extend(self, node, graph):
        frame = self.pattern(node.p, graph)
        expressions = _Expressions(_columns_of(frame))
        return frame.withColumn(_UNNAMED if node.var is None else column(node.var), self.F.expr(expressions.term(node.expr)))

    def _Filter(self, node, graph):
        conjuncts = _conjuncts(node.expr)
        if node.p.name == "BGP":
            planned = self._spatial(expand_paths(node.p.triples), conjuncts, graph)
            if planned is not None:
                return planned
        frame = self.pattern(node.p, graph)
        return self._filtered(frame, conjuncts, graph)

    def _filtered(self, frame, conjuncts, graph):
        for conjunct in conjuncts:
            if getattr(conjunct, "name", None) in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                frame = self._exists(frame, conjunct, graph)
            else:
                frame = frame.filter(self.F.expr(_Expressions(_columns_of(frame)).boolean(conjunct)))
        return frame

    def _exists(self, frame, conjunct, graph):
        """``FILTER (NOT) EXISTS { P }`` as a semi (anti) join on the variables P shares with the rows.

        SPARQL substitutes each row's values into P; a join on the shared variables gives the same
        rows when P binds them. A variable P's filters use but P does not bind is the row's: the
        distinct values of those variables are joined into P before its filters run.
        """
        F = self.F
        inner_node = conjunct.graph
        outer = set(frame.columns)
        used = {column(v) for v in _expr_variables(inner_node)} & outer
        if inner_node.name == "Filter":
            inner = self.pattern(inner_node.p, graph)
            borrowed = sorted(used - set(inner.columns))
            if borrowed:
                inner = _join(inner, frame.select(*borrowed).distinct())
            inner = self._filtered(inner, _conjuncts(inner_node.expr), graph)
        else:
            inner = self.pattern(inner_node, graph)
        keys = sorted(used & set(inner.columns))
        how = "left_semi" if conjunct.name == "Builtin_EXISTS" else "left_anti"
        if not keys:  # P shares nothing with the rows: it holds for all of them or for none
            return frame.join(inner.limit(1).select(F.lit(1).alias("_exists")), on=F.lit(True), how=how)
        return frame.join(inner.select(*keys).distinct(), on=keys, how=how)

    def _ToMultiSet(self, node, graph):
        return self.pattern(node.p, graph)

    def _values(self, node, graph):
        rows = node.res
        names = sorted({str(v) for row in rows for v in row})
        data = [tuple(term_text(row[Variable(n)]) if Variable(n) in row and row[Variable(n)] is not None else None for n in names)
                for row in rows]
        schema = ", ".join(f"{column(n)} string" for n in names) or "unit string"
        return self.t.spark.createDataFrame(data, schema)

    def _Project(self, node, graph):
        frame = self.pattern(node.p, graph)
        F = self.F
        return frame.select(*[F.col(column(v)) if column(v) in frame.columns else F.lit(None).cast("string").alias(column(v))
                              for v in node.PV])

    def _Distinct(self, node, graph):
        return self.pattern(node.p, graph).distinct()

    _Reduced = _Distinct

    def _Slice(self, node, graph):
        frame = self.pattern(node.p, graph)
        if node.start:
            frame = frame.offset(int(node.start))
        return frame.limit(int(node.length)) if node.length is not None else frame

    def _OrderBy(self, node, graph):
        frame = self.pattern(node.p, graph)
        expressions = _Expressions(_columns_of(frame))
        keys = []
        for condition in node.expr:
            expr, descending = (condition.expr, condition.order == "DESC") if isinstance(condition, CompValue) and condition.name == "OrderCondition" else (condition, False)
            term = expressions.term(expr)
            for key in (f"{expressions.numeric_of(term)}", term):  # numbers by value, the rest by text
                keys.append(self.F.expr(key).desc_nulls_last() if descending else self.F.expr(key).asc_nulls_first())
        return frame.orderBy(*keys)

    def _Group(self, node, graph):
        return self.pattern(node.p, graph)

    def _AggregateJoin(self, node, graph):
        group = node.p
        frame = self.pattern(group.p, graph)
        expressions = _Expressions(_columns_of(frame))
        keys = []
        for expr in group.expr or []:
            if expr is None:  # GROUP BY (expression): rdflib binds it to no variable (_Extend's _UNNAMED)
                if _UNNAMED in keys:
                    raise UnsupportedFeature("GROUP BY two expressions without names", BACKEND, "Name them: GROUP BY (... AS ?v).")
                keys.append(_UNNAMED)
            elif isinstance(expr, Variable):
                keys.append(column(expr))
            else:
                raise UnsupportedFeature("This GROUP BY expression", BACKEND, "Name it: GROUP BY (... AS ?v).")
        aggregates = [self.F.expr(expressions.aggregate(a)).alias(column(a.res)) for a in node.A]
        return frame.groupBy(*keys).agg(*aggregates) if keys else frame.agg(*aggregates)

    def _unit(self):
        return self.t.spark.range(1).select()

    def _empty(self, variables):
        F = self.F
        return self._unit().select(*[F.lit(None).cast("string").alias(column(v)) for v in sorted(map(str, variables))]).limit(0)

    # --- spatial selections and joins -----------------------------------------------------------

    def _spatial(self, triples, conjuncts, graph):
        """The BGP and its filters with spatial tests planned through the geometry table, or None."""
        components = _components(triples)
        home = {str(v): i for i, part in enumerate(components) for t in part for v in _variables_of(t)}
        for index, conjunct in enumerate(conjuncts):
            found = self._spatial_test(conjunct)
            if found is None:
                continue
            test, first, second = found
            rest = conjuncts[:index] + conjuncts[index + 1:]
            if isinstance(first, Variable) and isinstance(second, Variable):
                a, b = home.get(str(first)), home.get(str(second))
                if a is None or b is None or a == b:
                    continue
                return self._spatial_join(components, a, b, first, second, test, rest, graph)
            variable, constant = (first, second) if isinstance(first, Variable) else (second, first)
            if str(variable) not in home:
                continue
            return self._spatial_selection(triples, variable, constant, isinstance(first, Literal), test, rest, graph)
        return None

    def _spatial_test(self, expr):
        """(Test, first argument, second argument) when ``expr`` is a test the grid answers."""
        name = getattr(expr, "name", None)
        if name == "Function" and str(expr.iri) in geo.MEETING and len(expr.expr) == 2:
            first, second = (self._constant(a) for a in expr.expr)
            if first is not None and second is not None and (isinstance(first, Variable) or isinstance(second, Variable)):
                return geo.Test(str(expr.iri)), first, second
        if name == "RelationalExpression" and expr.op in ("<", "<="):
            call, limit = expr.expr, expr.other
            if getattr(call, "name", None) == "Function" and str(call.iri) == geo.DISTANCE and isinstance(limit, Literal) \
                    and len(call.expr) == 3 and isinstance(call.expr[2], URIRef) and str(call.expr[2]) in geo.METRE_UNITS:
                first, second = (self._constant(a) for a in call.expr[:2])
                try:
                    bound = float(limit.toPython())
                except (TypeError, ValueError):
                    return None
                if first is not None and second is not None and (isinstance(first, Variable) or isinstance(second, Variable)):
                    return geo.Test(geo.DISTANCE, str(call.expr[2]), expr.op, bound), first, second
        return None

    def _constant(self, node):
        """A variable, a literal, or a geof: call on literals evaluated now (shared code); else None."""
        if isinstance(node, (Variable, Literal)):
            return node
        if getattr(node, "name", None) == "Function" and str(node.iri) in FUNCTIONS:
            args = [self._constant(a) if not isinstance(a, URIRef) else a for a in node.expr]
            if all(isinstance(a, (Literal, URIRef)) for a in args):
                value = geo.call(str(node.iri), parse_terms([term_text(a) for a in args]))
                if value is not None:
                    return Literal(value.value, datatype=URIRef(value.datatype.value))
        return None

    def _spatial_selection(self, triples, variable, constant, constant_first, test, rest, graph):
        F = self.F
        literal = term_text(constant)
        geom = geometry_of(parse_terms([literal])[0])  # a malformed constant fails here, on the driver
        shape = geom.shape if geom.crs == CRS84 else reproject(geom.shape, geom.crs, CRS84)
        box = geo.widen(shapely.bounds(shape).reshape(1, 4), test)[0]
        candidates = self.t.geometries()
        if not any(map(lambda v: v != v, box)):  # an empty constant has no box: nothing meets it
            candidates = candidates.filter((F.col("minx") <= float(box[2])) & (F.col("maxx") >= float(box[0]))
                                           & (F.col("miny") <= float(box[3])) & (F.col("maxy") >= float(box[1])))
        selected = candidates.select("term", "wkb", "crs").mapInPandas(
            _selector(test, literal, constant_first), "term string").withColumnRenamed("term", column(variable))
        frame = _join(self._join_triples(triples, graph), selected)
        return self._filtered(frame, rest, graph)

    def _spatial_join(self, components, a, b, first, second, test, rest, graph):
        F = self.F
        sides = {a: set(), b: set()}
        for i in (a, b):
            for t in components[i]:
                sides[i] |= {str(v) for v in _variables_of(t)}
        own = {i: [c for c in rest if _expr_variables(c) and _expr_variables(c) <= sides[i]] for i in (a, b)}
        left = self._filtered(self._join_triples(components[a], graph), own[a], graph)
        right = self._filtered(self._join_triples(components[b], graph), own[b], graph)
        pairs = self._geometry_pairs(left.select(F.col(column(first)).alias("term")).distinct(),
                                     right.select(F.col(column(second)).alias("term")).distinct(), test)
        pairs = pairs.toDF(column(first), column(second))
        frame = _join(_join(left, pairs), right)  # on the pair, and on a graph variable both sides bind
        for i, part in enumerate(components):
            if i not in (a, b):
                frame = _join(frame, self._join_triples(part, graph))
        remaining = [c for c in rest if not any(c is x for x in own[a] + own[b])]
        return self._filtered(frame, remaining, graph)

    def _geometry_pairs(self, left_terms, right_terms, test):
        """(ta, tb): the pairs of geometry literals of the two sides for which the test holds.

        Boxes and cells meet in an equi-join on the cell; the box test and the reference-point test
        (the pair is kept in the cell holding the lower-left corner of the boxes' overlap) run in
        Spark SQL, so only the surviving pairs fetch their WKB and reach the exact test in Python.
        """
        F = self.F
        grid = self.t.manifest.grid
        geometries = self.t.geometries()
        if grid is None:
            return self._unit().select(F.lit(None).cast("string").alias("ta"), F.lit(None).cast("string").alias("tb")).limit(0)
        boxes = geometries.select("term", "id", "minx", "miny", "maxx", "maxy")
        cells = self.t.cells()

        def side(terms, prefix):
            return terms.join(boxes, on="term").select(
                F.col("term").alias("t" + prefix), F.col("id").alias("id" + prefix),
                *[F.col(k).alias(prefix + n) for k, n in (("minx", "x0"), ("miny", "y0"), ("maxx", "x1"), ("maxy", "y1"))])

        if test.margin_degrees:  # a distance: the left boxes widened, their cells computed from the widened boxes
            left = side(left_terms, "a").mapInPandas(_widened_cells(test, grid), _WIDE_SCHEMA)
        else:
            left = side(left_terms, "a").join(cells.toDF("ida", "cell"), on="ida")
        right = side(right_terms, "b").join(cells.toDF("idb", "cell"), on="idb")
        reference = (f"least(greatest(floor((greatest(ax0, bx0) - {grid.x0!r}) / {grid.width!r}), 0), {grid.nx - 1}) * {grid.ny}"
                     f" + least(greatest(floor((greatest(ay0, by0) - {grid.y0!r}) / {grid.height!r}), 0), {grid.ny - 1})")
        candidates = left.join(right, on="cell").filter(
            F.expr(f"ax0 <= bx1 AND bx0 <= ax1 AND ay0 <= by1 AND by0 <= ay1 AND {reference} = cell"))
        shapes = geometries.select("id", "wkb", "crs")
        candidates = candidates.join(shapes.toDF("ida", "wa", "ca"), on="ida").join(shapes.toDF("idb", "wb", "cb"), on="idb")
        pairs = candidates.mapInPandas(_refiner(test, grid), "ta string, tb string")
        # Empty geometries have no box and no cell, but two of them may be equal (as the embedded store
        # finds); nothing is at a distance from one, and most warehouses hold none.
        if test.function == geo.DISTANCE or self.t.manifest.empty_geometries == 0:
            return pairs
        empty = geometries.filter(F.isnan("minx")).select("term", "wkb", "crs")
        empty_a = left_terms.join(empty, on="term").toDF("ta", "wa", "ca")
        empty_b = right_terms.join(empty, on="term").toDF("tb", "wb", "cb")
        return pairs.unionByName(empty_a.crossJoin(empty_b).mapInPandas(_tester(test), "ta string, tb string"))

    # --- helpers for expressions ----------------------------------------------------------------


_WIDE_SCHEMA = "ta string, ida long, ax0 double, ay0 double, ax1 double, ay1 double, cell long"


def _widened_cells(test, grid):
    def run(batches):
        import numpy as np

        for frame in batches:
            boxes = geo.widen(frame[["ax0", "ay0", "ax1", "ay1"]].to_numpy(dtype=float), test)
            keys, owners = grid.entries(grid.ranges(boxes))
            out = frame.iloc[owners].reset_index(drop=True)
            out[["ax0", "ay0", "ax1", "ay1"]] = boxes[owners]
            out["cell"] = np.asarray(keys, dtype=np.int64)
            yield out

    return run


def _refiner(test, grid):
    def run(batches):
        for frame in batches:
            yield geo.refine_pairs(frame, test, grid)

    return run


def _tester(test):
    def run(batches):
        for frame in batches:
            yield geo.holding_pairs(frame, test)

    return run


def _selector(test, literal, constant_first):
    def run(batches):
        for frame in batches:
            yield geo.select_geometries(frame, test, literal, constant_first)

    return run


def _join(left, right):
    shared = [c for c in left.columns if c in right.columns]
    return left.join(right, on=shared, how="inner") if shared else left.crossJoin(right)


def _columns_of(frame):
    columns = set(frame.columns)
    return lambda v: f"`{column(v)}`" if column(v) in columns else "CAST(NULL AS STRING)"


def _variables_of(triple) -> set:
    return {str(n) for n in triple if isinstance(n, Variable)}


def _graph_variable(graph) -> set:
    return {str(graph)} if isinstance(graph, Variable) else set()


def _components(triples) -> list[list]:
    """The triple patterns grouped into parts connected by shared variables."""
    parts: list[tuple[set, list]] = []
    for triple in triples:
        names = _variables_of(triple)
        touching = [p for p in parts if p[0] & names]
        merged = (set(names), [triple])
        for p in touching:
            merged[0].update(p[0])
            merged[1][:0] = p[1]
            parts.remove(p)
        parts.append(merged)
    return [p[1] for p in parts]


def _conjuncts(expr) -> list:
    if getattr(expr, "name", None) == "ConditionalAndExpression":
        out = _conjuncts(expr.expr)
        for other in expr.other or []:
            out += _conjuncts(other)
        return out
    return [expr]


def _expr_variables(expr) -> set:
    if isinstance(expr, Variable):
        return {str(expr)}
    if isinstance(expr, CompValue):
        found = set()
        for value in expr.values():
            found |= _expr_variables(value)
        return found
    if isinstance(expr, (list, tuple)):
        found = set()
        for value in expr:
            found |= _expr_variables(value)
        return found
    return set()


def _feature_name(name: str) -> str:
    names = {"Minus": "MINUS", "Graph": "GRAPH", "ServiceGraphPattern": "SERVICE", "ToMultiSet": "VALUES",
             "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
    return names.get(name, f"The SPARQL algebra operator {name}")


class _Expressions:
    """SPARQL expressions as Spark SQL expressions; ``var`` gives a variable's column reference.

    Each method returns SQL text: ``term`` an N-Triples string, ``boolean`` a boolean, ``numeric``
    a double, ``lexical`` a plain string.
    """

    def __init__(self, var):
        self.var = var

    # conversions between the kinds ------------------------------------------------------------

    @staticmethod
    def numeric_of(term: str) -> str:
        return f"try_cast(regexp_extract({term}, '^\"([^\"]*)\"\\\\^\\\\^<http://www\\\\.w3\\\\.org/2001/XMLSchema#(?:{_NUMERIC})>$', 1) AS DOUBLE)"

    @staticmethod
    def lexical_of(term: str) -> str:
        """An IRI's text, or a literal's lexical form with N-Triples' escapes undone (quote, backslash,
        newline, return, tab; pyoxigraph writes other control characters as u-escapes, which stay)."""
        quoted = f"regexp_extract({term}, '^\"(.*)\"(?:@[^\"]*|\\\\^\\\\^<[^>]*>)?$', 1)"
        return f"CASE WHEN startswith({term}, '<') THEN substr({term}, 2, length({term}) - 2) ELSE {_unescaped(quoted)} END"

    @staticmethod
    def boolean_term(sql: str) -> str:
        return f"CASE WHEN {sql} THEN {sql_string(_TRUE)} WHEN NOT ({sql}) THEN {sql_string(_FALSE)} END"

    @staticmethod
    def string_term(sql: str) -> str:
        return f"concat('\"', {_escaped(sql)}, '\"')"

    @staticmethod
    def number_term(sql: str, datatype: str) -> str:
        value = f"CAST(CAST({sql} AS BIGINT) AS STRING)" if datatype == "integer" else f"CAST({sql} AS STRING)"
        return f"CASE WHEN {sql} IS NOT NULL THEN concat('\"', {value}, '\"^^<{XSD}{datatype}>') END"

    # kinds of expression -----------------------------------------------------------------------

    def term(self, expr) -> str:
        """The expression's value as an N-Triples string."""
        kind, sql = self.compile(expr)
        if kind == "term":
            return sql
        if kind == "bool":
            return self.boolean_term(sql)
        if kind == "int":
            return self.number_term(sql, "integer")
        if kind == "num":
            return self.number_term(sql, "double")
        return self.string_term(sql)

    def boolean(self, expr) -> str:
        kind, sql = self.compile(expr)
        if kind == "bool":
            return f"coalesce({sql}, false)"
        if kind == "term":
            return f"coalesce({sql} = {sql_string(_TRUE)} OR {self.numeric_of(sql)} <> 0 OR length({self.lexical_of(sql)}) > 0 AND NOT startswith({sql}, '<') AND {self.numeric_of(sql)} IS NULL AND {sql} <> {sql_string(_FALSE)}, false)"
        if kind in ("num", "int"):
            return f"coalesce({sql} <> 0, false)"
        return f"coalesce(length({sql}) > 0, false)"

    def numeric(self, expr) -> str:
        kind, sql = self.compile(expr)
        if kind in ("num", "int"):
            return sql
        if kind == "term":
            return self.numeric_of(sql)
        raise UnsupportedFeature("Arithmetic on a non-numeric expression", BACKEND)

    def lexical(self, expr) -> str:
        kind, sql = self.compile(expr)
        if kind == "str":
            return sql
        if kind == "term":
            return self.lexical_of(sql)
        if kind == "int":
            return f"CAST(CAST({sql} AS BIGINT) AS STRING)"
        if kind == "num":
            return f"CAST({sql} AS STRING)"
        return f"CASE WHEN {sql} THEN 'true' ELSE 'false' END"

    def compile(self, expr) -> tuple[str, str]:
        """(kind, SQL): kind is term, bool, num, int or str."""
        if isinstance(expr, Variable):
            return "term", self.var(expr)
        if isinstance(expr, (URIRef, Literal)):
            return "term", sql_string(term_text(expr))
        name = getattr(expr, "name", None)
        handler = getattr(self, "_" + str(name), None)
        if handler is None:
            raise UnsupportedFeature(f"The SPARQL expression {str(name).removeprefix('Builtin_')}", BACKEND,
                                     "See docs/spark.md for the functions the Spark store supports.")
        return handler(expr)

    def _ConditionalAndExpression(self, e):
        return "bool", " AND ".join(f"({self.boolean(x)})" for x in [e.expr, *(e.other or [])])

    def _ConditionalOrExpression(self, e):
        return "bool", " OR ".join(f"({self.boolean(x)})" for x in [e.expr, *(e.other or [])])

    def _UnaryNot(self, e):
        return "bool", f"NOT ({self.boolean(e.expr)})"

    def _UnaryMinus(self, e):
        return "num", f"-({self.numeric(e.expr)})"

    def _RelationalExpression(self, e):
        op = e.op
        if op in ("IN", "NOT IN"):
            left = self.term(e.expr)
            items = ", ".join(self.term(x) for x in e.other)
            return "bool", f"{left} {'NOT ' if op == 'NOT IN' else ''}IN ({items})"
        left_kind, left = self.compile(e.expr)
        right_kind, right = self.compile(e.other)
        numeric = {left_kind, right_kind} & {"num", "int"} or _is_number(e.expr) or _is_number(e.other)
        if numeric:
            return "bool", f"{self.numeric(e.expr)} {_OPS[op]} {self.numeric(e.other)}"
        if op in ("=", "!="):
            same = f"{self.term(e.expr)} {_OPS[op]} {self.term(e.other)}"
        else:
            same = f"{self.lexical(e.expr)} {_OPS[op]} {self.lexical(e.other)}"
        if left_kind == right_kind == "term":  # two terms known only when the row is: numbers by value
            a, b = self.numeric_of(left), self.numeric_of(right)
            return "bool", f"CASE WHEN {a} IS NOT NULL AND {b} IS NOT NULL THEN {a} {_OPS[op]} {b} ELSE {same} END"
        return "bool", same

    def _AdditiveExpression(self, e):
        sql = self.numeric(e.expr)
        for op, other in zip(e.op, e.other):
            sql = f"({sql} {op} {self.numeric(other)})"
        return "num", sql

    def _MultiplicativeExpression(self, e):
        sql = self.numeric(e.expr)
        for op, other in zip(e.op, e.other):
            sql = f"({sql} {op} {self.numeric(other)})"
        return "num", sql

    def _Builtin_BOUND(self, e):
        return "bool", f"{self.var(e.arg)} IS NOT NULL"

    def _Builtin_STR(self, e):
        return "str", self.lexical(e.arg)

    def _Builtin_isIRI(self, e):
        return "bool", f"startswith({self.term(e.arg)}, '<')"

    _Builtin_isURI = _Builtin_isIRI

    def _Builtin_isBLANK(self, e):
        return "bool", f"startswith({self.term(e.arg)}, '_:')"

    def _Builtin_isLITERAL(self, e):
        return "bool", f"startswith({self.term(e.arg)}, '\"')"

    def _Builtin_isNUMERIC(self, e):
        return "bool", f"{self.numeric_of(self.term(e.arg))} IS NOT NULL"

    def _Builtin_LANG(self, e):
        return "str", f"substr({self.language_of(self.term(e.arg))}, 2)"

    def _Builtin_DATATYPE(self, e):
        t = self.term(e.arg)
        return "term", (f"CASE WHEN NOT startswith({t}, '\"') THEN NULL WHEN {t} RLIKE '\"@[^\"]*$' "
                        f"THEN '<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>' WHEN {t} RLIKE '\"\\\\^\\\\^<[^>]*>$' "
                        f"THEN regexp_extract({t}, '\"\\\\^\\\\^(<[^>]*>)$', 1) ELSE '<{XSD}string>' END")

    def _Builtin_STRLEN(self, e):
        return "int", f"length({self.lexical(e.arg)})"

    @staticmethod
    def language_of(term: str) -> str:
        """A literal term's language tag with its @ ('' for none)."""
        return f"regexp_extract({term}, '\"(@[A-Za-z0-9-]+)$', 1)"

    def _string_like(self, terms: list[str], lexical: str) -> tuple[str, str]:
        """A string literal made from ``terms``: their language tag if they all have the same one
        (SPARQL's rule for UCASE, SUBSTR, CONCAT ...), else a plain string."""
        tags = [self.language_of(t) for t in terms]
        same = " AND ".join(f"{tags[0]} = {t}" for t in tags[1:]) or "true"
        return "term", f"concat({self.string_term(lexical)}, CASE WHEN {same} THEN {tags[0]} ELSE '' END)"

    def _Builtin_UCASE(self, e):
        term = self.term(e.arg)
        return self._string_like([term], f"upper({self.lexical_of(term)})")

    def _Builtin_LCASE(self, e):
        term = self.term(e.arg)
        return self._string_like([term], f"lower({self.lexical_of(term)})")

    def _Builtin_SUBSTR(self, e):
        """Characters from position ``start`` (1 is the first), ``length`` of them: positions before
        the first count, as SPARQL says (SUBSTR("abc", 0, 2) is "a")."""
        term = self.term(e.arg)
        start = f"round({self.numeric(e.start)})"
        begin = f"greatest({start}, 1)"
        if "length" not in e:
            part = f"substring({self.lexical_of(term)}, {begin})"
        else:
            count = f"({start} + round({self.numeric(e.length)}) - {begin})"
            part = f"CASE WHEN {count} > 0 THEN substring({self.lexical_of(term)}, {begin}, {count}) ELSE '' END"
        return self._string_like([term], part)

    def _Builtin_CONCAT(self, e):
        terms = [self.term(x) for x in e.arg]
        return self._string_like(terms, f"concat({', '.join(self.lexical_of(t) for t in terms)})")

    def _Builtin_CONTAINS(self, e):
        return "bool", f"contains({self.lexical(e.arg1)}, {self.lexical(e.arg2)})"

    def _Builtin_STRSTARTS(self, e):
        return "bool", f"startswith({self.lexical(e.arg1)}, {self.lexical(e.arg2)})"

    def _Builtin_STRENDS(self, e):
        return "bool", f"endswith({self.lexical(e.arg1)}, {self.lexical(e.arg2)})"

    def _Builtin_REGEX(self, e):
        flags = str(e.flags) if e.get("flags") is not None else ""
        if flags not in ("", "i"):
            raise UnsupportedFeature(f'REGEX flags "{flags}"', BACKEND, 'Only "i" is supported.')
        pattern = f"concat('(?i)', {self.lexical(e.pattern)})" if flags == "i" else self.lexical(e.pattern)
        return "bool", f"{self.lexical(e.text)} RLIKE {pattern}"

    def _Builtin_IF(self, e):
        return "term", f"CASE WHEN {self.boolean(e.arg1)} THEN {self.term(e.arg2)} ELSE {self.term(e.arg3)} END"

    def _Builtin_COALESCE(self, e):
        return "term", f"coalesce({', '.join(self.term(x) for x in e.arg)})"

    def _Builtin_sameTerm(self, e):
        return "bool", f"{self.term(e.arg1)} = {self.term(e.arg2)}"

    def _Builtin_EXISTS(self, e):
        raise UnsupportedFeature("EXISTS or NOT EXISTS inside an expression", BACKEND,
                                 "Write FILTER EXISTS { ... } or FILTER NOT EXISTS { ... } as a FILTER of its own.")

    _Builtin_NOTEXISTS = _Builtin_EXISTS

    def _Function(self, e):
        iri = str(e.iri)
        if iri in FUNCTIONS:
            args = [self.term(a) for a in e.expr]
            if not 1 <= len(args) <= 3:
                raise UnsupportedFeature(f"<{iri}> with {len(args)} arguments", BACKEND)
            return "term", f"eekg_geof{len(args)}({sql_string(iri)}, {', '.join(args)})"
        if iri in AGGREGATES:
            raise UnsupportedFeature(f"The GeoSPARQL aggregate <{iri}>", BACKEND)
        casts = {XSD + "double": "num", XSD + "float": "num", XSD + "decimal": "num", XSD + "integer": "int",
                 XSD + "string": "str"}
        if iri in casts and len(e.expr) == 1:
            kind = casts[iri]
            if kind == "str":
                return "str", self.lexical(e.expr[0])
            value = f"try_cast({self.lexical(e.expr[0])} AS DOUBLE)"
            return kind, (f"CAST({value} AS BIGINT)" if kind == "int" else value)
        raise UnsupportedFeature(f"The function <{iri}>", BACKEND)

    # aggregates ----------------------------------------------------------------------------

    def aggregate(self, a) -> str:
        name = a.name.removeprefix("Aggregate_")
        distinct = "DISTINCT " if a.get("distinct") == "DISTINCT" else ""
        star = a.get("vars") == "*"
        if name == "Count":
            inner = "*" if star and not distinct else ("struct(*)" if star else self.term(a.vars))
            return self.number_term(f"count({distinct}{inner})", "integer")
        value = self.term(a.vars)
        if name == "Sample":
            return f"first({value}, true)"
        if name in ("Sum", "Avg"):
            number = self.numeric_of(value)
            sql = f"{name.lower()}({distinct}{number})"
            integral = f"bool_and({value} RLIKE '\\\\^\\\\^<{XSD}integer>$')"
            if name == "Sum":
                return f"CASE WHEN {integral} THEN {self.number_term(sql, 'integer')} ELSE {self.number_term(sql, 'double')} END"
            return self.number_term(sql, "double")
        if name in ("Min", "Max"):
            pick = "min_by" if name == "Min" else "max_by"
            plain = name.lower()
            return f"coalesce({pick}({value}, {self.numeric_of(value)}), {plain}({value}))"
        if name == "GroupConcat":
            separator = a.get("separator")
            collect = "collect_set" if distinct else "collect_list"
            spatial = aggregate_of(separator)
            if spatial is not None:  # a geof: aggregate (kg.spark.aggregates): the shared accumulator on the group's terms
                return f"eekg_geoagg({sql_string(spatial)}, {collect}({value}))"
            separator = " " if separator is None else str(separator)
            return self.string_term(f"concat_ws({sql_string(separator)}, {collect}({self.lexical_of(value)}))")
        raise UnsupportedFeature(f"The aggregate {name.upper()}", BACKEND)


# N-Triples' escapes in a literal's quoted form (the backslash first), as Spark SQL literals
_ESCAPES = (("'\\\\'", "'\\\\\\\\'"), ("'\"'", "'\\\\\"'"), ("'\\n'", "'\\\\n'"), ("'\\r'", "'\\\\r'"), ("'\\t'", "'\\\\t'"))


def _escaped(sql: str) -> str:
    """SQL for a string's N-Triples quoted form."""
    for raw, escape in _ESCAPES:
        sql = f"replace({sql}, {raw}, {escape})"
    return sql


def _unescaped(sql: str) -> str:
    """SQL for the string an N-Triples quoted form stands for; an escaped backslash is set aside
    first (as a NUL, which pyoxigraph never writes raw), so that "\\n" stays backslash and n."""
    sql = f"replace({sql}, {_ESCAPES[0][1]}, '\\u0000')"
    for raw, escape in _ESCAPES[1:]:
        sql = f"replace({sql}, {escape}, {raw})"
    return f"replace({sql}, '\\u0000', {_ESCAPES[0][0]})"


def _is_number(node) -> bool:
    return isinstance(node, Literal) and node.datatype is not None and str(node.datatype) in NUMERIC_DATATYPES

