"""A query taken apart into what the sources must supply: its basic graph patterns, each with the
filter conjuncts that may narrow it.

The federation answers a query by gathering, from every source, the triples that can match each
triple pattern, into a scratch store where the query itself is then evaluated. That is exact when
the gathered triples hold every triple that any solution over the union of the sources uses; so a
pattern is narrowed only by what cannot change the answer: the other patterns of its own basic
graph pattern in the same source (see ``federation.selection``), and the conjuncts of a FILTER
whose scope covers the pattern, using only variables the narrowed patterns bind (a row failing
such a conjunct is removed by the FILTER anyway). The FILTER is still applied to the whole query.

>>> parts = decompose('''PREFIX ex: <http://ex.org/>
... SELECT ?f { ?f a ex:Field ; ex:area ?a . OPTIONAL { ?f ex:name ?n } FILTER(?a > 10) }''')
>>> [[p.text for p in s.patterns] for s in parts.scopes]
[['?f <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex.org/Field>', '?f <http://ex.org/area> ?a'], ['?f <http://ex.org/name> ?n']]
>>> [c.text for c in parts.scopes[0].conjuncts], parts.scopes[1].conjuncts
(['(?a > "10"^^<http://www.w3.org/2001/XMLSchema#integer>)'], [])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.algebra import translateGroupGraphPattern, translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.errors import QuerySyntaxError, UnsupportedFeature
from kg.geosparql.index import RELATIONS, stage
from kg.geosparql.units import unit
from kg.geosparql.vocab import GEOF, GEOMETRY_DATATYPES, PREFIXES, XSD

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Relations that hold only between geometries that intersect: a source whose geometries all lie
# outside a constant's box cannot supply a row, and a box pre-filter is safe.
INTERSECTING = frozenset(RELATIONS) - {"sfDisjoint", "ehDisjoint", "rcc8dc", "relate"}
_BACKEND = "federation"
_PROLOGUE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


@dataclass(frozen=True)
class Pattern:
    """One triple pattern as SPARQL text, with what source selection looks at."""

    text: str
    predicate: str | None  # the predicate IRI, None when it is a variable
    rdf_class: str | None  # the object IRI of an rdf:type pattern
    variables: frozenset[str]
    required: bool = True  # False for the patterns gathering every triple a property path may pass through


@dataclass(frozen=True)
class Nearness:
    """A conjunct that only geometries within ``metres`` of a constant's CRS84 ``box`` satisfy."""

    variable: str
    box: tuple[float, float, float, float]
    metres: float


@dataclass(frozen=True)
class Conjunct:
    """One conjunct of a FILTER, as SPARQL text, if it can be written back."""

    text: str
    variables: frozenset[str]
    extension: bool  # calls functions beyond SPARQL's own (geof:, eekg:): only a source with our GeoSPARQL may evaluate it
    nearness: Nearness | None = None
    link: SpatialLink | None = None


@dataclass(frozen=True)
class SpatialLink:
    """A conjunct that only pairs of geometries within ``metres`` of each other satisfy (a spatial join)."""

    left: str
    right: str
    metres: float


@dataclass
class Scope:
    """One basic graph pattern and the conjuncts that may narrow it."""

    patterns: list[Pattern]
    conjuncts: list[Conjunct] = field(default_factory=list)
    service: str | None = None  # the endpoint IRI of the SERVICE block the patterns sit in


@dataclass
class Decomposed:
    scopes: list[Scope]
    services: list[str] = field(default_factory=list)  # the endpoint IRIs its SERVICE blocks name


def decompose(sparql: str) -> Decomposed:
    """The scopes of a query; raises UnsupportedFeature for what the federation cannot answer."""
    try:
        query = translateQuery(parseQuery(_PROLOGUE + sparql))
    except ParseException as error:
        raise QuerySyntaxError(str(error)) from None
    except Exception as error:  # rdflib raises plain exceptions for unknown prefixes and the like
        raise QuerySyntaxError(str(error)) from None
    algebra = query.algebra
    if algebra.name == "DescribeQuery":
        raise UnsupportedFeature("DESCRIBE", _BACKEND, "Write a CONSTRUCT naming the triples you want instead.")
    if algebra.get("datasetClause"):
        raise UnsupportedFeature("FROM and FROM NAMED", _BACKEND, "The federation's default graph is the union of "
                                 "the sources' default graphs; query a source's endpoint directly for its named graphs.")
    walker = _Walker()
    walker.walk(algebra.p, [])
    return Decomposed(walker.scopes, list(walker.services))


class _Walker:
    def __init__(self):
        self.scopes: list[Scope] = []
        self.fresh = itertools.count()
        self.blank_names: dict[BNode, str] = {}
        self.services: dict[str, None] = {}  # the IRIs in order, once each
        self.service: str | None = None

    def walk(self, node, conjuncts: list[Conjunct]) -> None:
        if not isinstance(node, CompValue):
            return
        name = node.name
        self.expressions(node)
        if name == "BGP":
            patterns = [p for triple in node.triples for p in self.patterns(triple)]
            if patterns:
                self.scopes.append(Scope(patterns, list(conjuncts), self.service))
        elif name == "Filter":
            self.walk(node.p, conjuncts + [c for c in map(_conjunct, _and_parts(node.expr)) if c is not None])
        elif name in ("Join", "Union"):  # a filter over a union is a filter over each branch
            self.walk(node.p1, conjuncts)
            self.walk(node.p2, conjuncts)
        elif name in ("LeftJoin", "Minus"):
            self.walk(node.p1, conjuncts)
            self.walk(node.p2, [])
        elif name == "Extend":
            self.walk(node.p, conjuncts)
        elif name == "Graph":
            raise UnsupportedFeature("GRAPH", _BACKEND, "The federation's default graph is the union of the sources' "
                                     "default graphs; query a source's endpoint directly for its named graphs.")
        elif name == "ServiceGraphPattern":
            if not isinstance(node.term, URIRef):
                raise UnsupportedFeature("SERVICE with a variable", _BACKEND, "Name the endpoint by its IRI, one of the "
                                         "federation's configured sources; or leave SERVICE out and let the federation choose.")
            if self.service is not None:
                raise UnsupportedFeature("SERVICE inside SERVICE", _BACKEND, "Write the SERVICE blocks one after the other.")
            iri = str(node.term)
            self.services[iri] = None
            self.service = iri
            try:  # rdflib leaves a SERVICE block's group untranslated
                self.walk(translateGroupGraphPattern(node.graph), [])
            finally:
                self.service = None
        else:  # a sub-query, solution modifiers, aggregates: a new variable scope
            for key in ("p", "p1", "p2"):
                if key in node:
                    self.walk(node[key], [])

    def expressions(self, node: CompValue) -> None:
        """The graph patterns of EXISTS and NOT EXISTS in any expression of the node need data too."""
        for key, value in node.items():
            if key not in ("p", "p1", "p2"):
                for found in _exists_patterns(value):
                    self.walk(found, [])

    def patterns(self, triple) -> list[Pattern]:
        s, p, o = triple
        if not isinstance(p, Path):
            return [self.pattern(s, p, o)]
        if isinstance(p, SequencePath) and all(isinstance(step, URIRef) or _inverse_iri(step) for step in p.args):
            nodes = [s] + [Variable(f"_path{next(self.fresh)}") for _ in p.args[1:]] + [o]
            chain = []
            for step, (a, b) in zip(p.args, itertools.pairwise(nodes)):
                chain.append(self.pattern(a, step, b) if isinstance(step, URIRef) else self.pattern(b, step.arg, a))
            return chain
        if isinstance(p, InvPath) and isinstance(p.arg, URIRef):
            return [self.pattern(o, p.arg, s)]
        # Other paths (alternatives, repetitions, negations) may pass through any node: every triple of
        # each predicate they name is gathered, or every triple for a negated property set.
        iris = _path_iris(p)
        any_node = lambda: Variable(f"_path{next(self.fresh)}")  # noqa: E731
        if _zero_length(p) and not isinstance(s, (URIRef, Literal)) and not isinstance(o, (URIRef, Literal)):
            iris = None  # a zero-length path between two variables matches every node of the graph: all of it is needed
        if iris is None:
            return [replace(self.pattern(any_node(), Variable(f"_path{next(self.fresh)}"), any_node()), required=False)]
        return [replace(self.pattern(any_node(), URIRef(iri), any_node()), required=False) for iri in sorted(iris)]

    def pattern(self, s, p, o) -> Pattern:
        terms = [self.term(t) for t in (s, p, o)]
        variables = frozenset(t[1:] for t in terms if t.startswith("?"))
        predicate = str(p) if isinstance(p, URIRef) else None
        rdf_class = str(o) if predicate == RDF_TYPE and isinstance(o, URIRef) else None
        return Pattern(" ".join(terms), predicate, rdf_class, variables)

    def term(self, term) -> str:
        if isinstance(term, BNode):  # a blank node of a pattern is a variable the answer does not show
            return "?" + self.blank_names.setdefault(term, f"_blank{len(self.blank_names)}")
        return _text(term)


def _inverse_iri(step) -> bool:
    return isinstance(step, InvPath) and isinstance(step.arg, URIRef)


def _zero_length(path) -> bool:
    """Whether a path matches a node with itself."""
    if isinstance(path, MulPath):
        return path.mod in ("*", "?") or _zero_length(path.path)
    if isinstance(path, SequencePath):
        return all(_zero_length(a) for a in path.args)
    if isinstance(path, AlternativePath):
        return any(_zero_length(a) for a in path.args)
    if isinstance(path, InvPath):
        return _zero_length(path.arg)
    return False


def _path_iris(path) -> set[str] | None:
    """The IRIs a path names; None when it has a negated property set (any predicate may match)."""
    if isinstance(path, URIRef):
        return {str(path)}
    if isinstance(path, NegatedPath):
        return None
    if isinstance(path, (SequencePath, AlternativePath)):
        found = set()
        for arg in path.args:
            iris = _path_iris(arg)
            if iris is None:
                return None
            found |= iris
        return found
    if isinstance(path, (InvPath, MulPath)):
        return _path_iris(path.path if isinstance(path, MulPath) else path.arg)
    return None


def _exists_patterns(value):
    if isinstance(value, CompValue):
        if value.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            yield value.graph
            return
        for inner in value.values():
            yield from _exists_patterns(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _exists_patterns(inner)


def _and_parts(expression) -> list:
    if isinstance(expression, CompValue) and expression.name == "ConditionalAndExpression":
        parts = _and_parts(expression.expr)
        for other in expression.other or []:
            parts += _and_parts(other)
        return parts
    return [expression]


# --- writing conjuncts back as SPARQL ------------------------------------------------------

_BUILTINS = {  # rdflib's name -> (SPARQL name, argument keys)
    "Builtin_LANG": ("LANG", ("arg",)), "Builtin_STR": ("STR", ("arg",)), "Builtin_DATATYPE": ("DATATYPE", ("arg",)),
    "Builtin_BOUND": ("BOUND", ("arg",)), "Builtin_isIRI": ("isIRI", ("arg",)), "Builtin_isLITERAL": ("isLiteral", ("arg",)),
    "Builtin_LCASE": ("LCASE", ("arg",)), "Builtin_UCASE": ("UCASE", ("arg",)), "Builtin_YEAR": ("YEAR", ("arg",)),
    "Builtin_MONTH": ("MONTH", ("arg",)), "Builtin_DAY": ("DAY", ("arg",)),
    "Builtin_STRSTARTS": ("STRSTARTS", ("arg1", "arg2")), "Builtin_STRENDS": ("STRENDS", ("arg1", "arg2")),
    "Builtin_CONTAINS": ("CONTAINS", ("arg1", "arg2")), "Builtin_LANGMATCHES": ("LANGMATCHES", ("arg1", "arg2")),
    "Builtin_sameTerm": ("sameTerm", ("arg1", "arg2")), "Builtin_REGEX": ("REGEX", ("text", "pattern", "flags")),
}
_OPERATORS = {"=", "!=", "<", ">", "<=", ">="}


class _NotWritable(Exception):
    """An expression this module does not write back: it is applied at the federator only."""


def _conjunct(expression) -> Conjunct | None:
    try:
        text = _write(expression)
    except _NotWritable:
        return None
    variables = frozenset(str(v) for v in _variables(expression))
    return Conjunct(text, variables, _calls_extensions(expression), _nearness(expression), _link(expression))


def _write(e) -> str:
    if isinstance(e, (Variable, URIRef, Literal)):
        return _text(e)
    if not isinstance(e, CompValue):
        raise _NotWritable
    name = e.name
    if name == "RelationalExpression":
        if e.op in _OPERATORS:
            return f"({_write(e.expr)} {e.op} {_write(e.other)})"
        if e.op in ("IN", "NOT IN"):
            return f"({_write(e.expr)} {e.op} ({', '.join(_write(o) for o in e.other)}))"
        raise _NotWritable
    if name in ("ConditionalAndExpression", "ConditionalOrExpression"):
        operator = " && " if name == "ConditionalAndExpression" else " || "
        return "(" + operator.join(_write(x) for x in [e.expr, *(e.other or [])]) + ")"
    if name == "UnaryNot":
        return f"(!{_write(e.expr)})"
    if name == "Function" and not e.distinct:
        return f"<{e.iri}>(" + ", ".join(_write(a) for a in e.expr or []) + ")"
    if name in _BUILTINS:
        spelled, keys = _BUILTINS[name]
        args = [e[k] for k in keys if e.get(k) is not None]
        return f"{spelled}(" + ", ".join(_write(a) for a in args) + ")"
    raise _NotWritable


def _calls_extensions(e) -> bool:
    if isinstance(e, CompValue):
        if e.name == "Function" and not str(e.iri).startswith(XSD):
            return True
        return any(_calls_extensions(v) for k, v in e.items() if k != "_vars")
    if isinstance(e, (list, tuple)):
        return any(_calls_extensions(v) for v in e)
    return False


def _variables(e):
    if isinstance(e, Variable):
        yield e
    elif isinstance(e, CompValue):
        for key, value in e.items():
            if key != "_vars":
                yield from _variables(value)
    elif isinstance(e, (list, tuple)):
        for inner in e:
            yield from _variables(inner)


def _text(term) -> str:
    if isinstance(term, Variable):
        return "?" + str(term)
    if isinstance(term, URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None))
    raise _NotWritable


def _nearness(e) -> Nearness | None:
    """geof:<relation>(?g, CONST) for a relation implying intersection, or geof:distance(?g, CONST, unit) < d."""
    if isinstance(e, CompValue) and e.name == "Function" and str(e.iri).startswith(GEOF):
        if str(e.iri)[len(GEOF):] in INTERSECTING and len(e.expr or []) == 2:
            return _near(e.expr[0], e.expr[1], 0.0) or _near(e.expr[1], e.expr[0], 0.0)
        return None
    if isinstance(e, CompValue) and e.name == "RelationalExpression" and e.op in ("<", "<=", ">", ">="):
        call, limit = (e.expr, e.other) if e.op in ("<", "<=") else (e.other, e.expr)
        if (isinstance(call, CompValue) and call.name == "Function" and str(call.iri) == GEOF + "distance"
                and len(call.expr or []) == 3 and isinstance(limit, Literal) and isinstance(call.expr[2], URIRef)):
            try:
                factor = unit(str(call.expr[2]), kinds=("linear",)).factor
                metres = float(limit.toPython()) * factor
            except Exception:  # an angular unit, a limit that is no number: left to the federator
                return None
            return _near(call.expr[0], call.expr[1], metres) or _near(call.expr[1], call.expr[0], metres)
    return None


def _near(variable, constant, metres: float) -> Nearness | None:
    if not (isinstance(variable, Variable) and isinstance(constant, Literal) and str(constant.datatype) in GEOMETRY_DATATYPES):
        return None
    staged = stage([ox.Literal(str(constant), datatype=ox.NamedNode(str(constant.datatype)))])
    if len(staged) != 1:
        return None  # an unreadable constant: the query's own evaluation reports it
    box = tuple(float(v) for v in staged.boxes[0])
    return Nearness(str(variable), box, metres) if all(v == v for v in box) else None


def _link(e) -> SpatialLink | None:
    """geof:<relation>(?a, ?b) for a relation implying intersection, or geof:distance(?a, ?b, unit) < d."""
    if isinstance(e, CompValue) and e.name == "Function" and str(e.iri).startswith(GEOF):
        args = e.expr or []
        if str(e.iri)[len(GEOF):] in INTERSECTING and len(args) == 2 and all(isinstance(a, Variable) for a in args):
            return SpatialLink(str(args[0]), str(args[1]), 0.0)
        return None
    if isinstance(e, CompValue) and e.name == "RelationalExpression" and e.op in ("<", "<=", ">", ">="):
        call, limit = (e.expr, e.other) if e.op in ("<", "<=") else (e.other, e.expr)
        if (isinstance(call, CompValue) and call.name == "Function" and str(call.iri) == GEOF + "distance"
                and len(call.expr or []) == 3 and isinstance(limit, Literal) and isinstance(call.expr[2], URIRef)
                and isinstance(call.expr[0], Variable) and isinstance(call.expr[1], Variable)):
            try:
                metres = float(limit.toPython()) * unit(str(call.expr[2]), kinds=("linear",)).factor
            except Exception:  # an angular unit, a limit that is no number: no spatial bind join
                return None
            return SpatialLink(str(call.expr[0]), str(call.expr[1]), metres)
    return None
