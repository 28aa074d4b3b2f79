"""Source selection: which source is asked for which patterns, narrowed by which conjuncts.

For each pattern of a scope, the relevant sources are those whose description says they may hold
matching triples (its predicate; for ``rdf:type`` with a constant class, the class). Patterns
relevant to one source only form, per source and per connected set of variables, an *exclusive
group* sent as one sub-query: the source joins them itself, and no solution is lost, because no
other source holds triples for them. A pattern relevant to several sources is asked of each alone.
A conjunct narrows a sub-query when the sub-query's patterns bind all its variables; a conjunct
with geof: functions is sent as written to sources with our GeoSPARQL, as a bounding-box
pre-filter to sources with ``geof:sfIntersects``, and not at all to others. A sub-query whose
patterns bind a geometry that must lie near a constant is not sent to a source whose geometries
all lie elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import shapely

from federation.decompose import Conjunct, Pattern, Scope
from federation.description import Description, grown
from kg.geosparql.vocab import GEOF, WKT_LITERAL

_MARGIN = 1e-9  # degrees: a point's box is a tiny square, never a degenerate polygon


@dataclass(frozen=True)
class SubQuery:
    """One CONSTRUCT sent to one source; ``values`` is a VALUES block of a bind join; ``alternatives``
    are filters of a spatial bind join of which one must hold, each in its own UNION branch (so
    that a source with our planner answers each from its spatial index with a small window)."""

    source: str
    patterns: tuple[Pattern, ...]
    filters: tuple[str, ...]
    estimate: float = 0.0  # triples the source is expected to send (from its description)
    values: str = ""
    alternatives: tuple[str, ...] = ()

    @property
    def sparql(self) -> str:
        body = " .\n  ".join(p.text for p in self.patterns)
        filters = "".join(f"\n  FILTER{_parenthesised(f)}" for f in self.filters)
        values = f"\n  {self.values}" if self.values else ""
        where = f"{body} ."
        if self.alternatives:
            where = "\n  UNION ".join(f"{{ {where} FILTER{_parenthesised(a)} }}" for a in self.alternatives)
        return f"CONSTRUCT {{\n  {body} .\n}} WHERE {{{values}\n  {where}{filters}\n}}"

    def narrowed(self, values: str = "", spatial: str | None = None, alternatives: tuple[str, ...] = ()) -> "SubQuery":
        """The same sub-query with a VALUES block, one more filter, or alternatives (a bind join)."""
        return replace(self, values=values or self.values, filters=self.filters + ((spatial,) if spatial else ()),
                       alternatives=alternatives or self.alternatives)


def _parenthesised(expression: str) -> str:
    return expression if expression.startswith("(") else f"({expression})"


@dataclass(frozen=True)
class Step:
    """Patterns gathered together: an exclusive group at one source, or one pattern at each source holding it."""

    patterns: tuple[Pattern, ...]
    subs: tuple[SubQuery, ...]

    @property
    def estimate(self) -> float:
        return sum(s.estimate for s in self.subs)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset().union(*(p.variables for p in self.patterns))


@dataclass
class ScopePlan:
    """How one basic graph pattern is gathered: its steps, in no order yet (``federation.gather`` orders them)."""

    scope: Scope
    steps: list[Step]
    graph: str | None = None  # the scratch store's graph for a SERVICE block's triples


def select_sources(scopes: list[Scope], descriptions: dict[str, Description],
                   services: dict[str, str] | None = None) -> list[ScopePlan]:
    """The steps that gather every triple each scope's solutions can use. ``services`` maps the IRI
    of a SERVICE block to the configured source answering it (the only source its patterns go to)."""
    plans = []
    for scope in scopes:
        chosen = descriptions
        graph = None
        if scope.service is not None:
            name = (services or {})[scope.service]
            chosen, graph = {name: descriptions[name]}, SERVICE_GRAPH + name
        plans.append(ScopePlan(scope, _steps(scope, chosen), graph))
    return plans


SERVICE_GRAPH = "urn:eekg:federation:service:"  # the scratch store's graph holding one SERVICE source's triples


def _steps(scope: Scope, descriptions: dict[str, Description]) -> list[Step]:
    relevant = {p: [n for n, d in descriptions.items() if d.may_match(p.predicate, p.rdf_class)] for p in scope.patterns}
    exclusive: dict[str, list[Pattern]] = {}
    steps: list[Step] = []
    for pattern in scope.patterns:
        if len(relevant[pattern]) == 1:
            exclusive.setdefault(relevant[pattern][0], []).append(pattern)
        else:
            subs = (_narrowed(n, [pattern], scope.conjuncts, descriptions[n]) for n in relevant[pattern])
            steps.append(Step((pattern,), tuple(s for s in subs if s is not None)))
    for name, patterns in exclusive.items():
        for group in _connected(patterns):
            sub = _narrowed(name, group, scope.conjuncts, descriptions[name])
            steps.append(Step(tuple(group), (sub,) if sub is not None else ()))
    return steps


def _estimate(pattern: Pattern, description: Description) -> float:
    """Triples matching a pattern at a source, from its VoID counts."""
    if pattern.predicate is None:
        n = description.triples
    elif pattern.rdf_class is not None:
        n = description.classes.get(pattern.rdf_class, 0)
    else:
        n = description.predicates.get(pattern.predicate, 0)
    subject, _, rest = pattern.text.partition(" ")
    if not subject.startswith("?"):
        n = min(n, 10)  # a constant subject: a few values of the predicate
    elif not rest.rpartition(" ")[2].startswith("?") and pattern.rdf_class is None:
        n = n / 10  # a constant object (no distinct counts in VoID here): a guess
    return float(n)


def _selectivity(box: tuple[float, float, float, float] | None, description: Description) -> float:
    """The share of a source's extent a box covers: how much a spatial filter keeps."""
    if box is None or description.extent is None:
        return 0.5
    a, b = shapely.box(*description.extent), shapely.box(*box)
    if a.area == 0:
        return 1.0
    return min(1.0, max(a.intersection(b).area / a.area, 1e-6))


def _connected(patterns: list[Pattern]) -> list[list[Pattern]]:
    """Patterns split into groups that share variables (a cross product is never sent)."""
    groups: list[tuple[set[str], list[Pattern]]] = []
    for pattern in patterns:
        joined = [g for g in groups if g[0] & pattern.variables]
        merged = (set(pattern.variables), [pattern])
        for g in joined:
            merged[0].update(g[0])
            merged[1][:0] = g[1]
            groups.remove(g)
        groups.append(merged)
    return [sorted(g[1], key=patterns.index) for g in groups]


def _narrowed(name: str, patterns: list[Pattern], conjuncts: list[Conjunct], description: Description) -> SubQuery | None:
    """The sub-query for these patterns at this source, with the conjuncts it may apply; None when
    a conjunct shows that the source cannot supply a row."""
    bound = frozenset().union(*(p.variables for p in patterns))
    filters, estimate = [], min(_estimate(p, description) for p in patterns)
    for conjunct in conjuncts:
        if not conjunct.variables <= bound:
            continue
        near = conjunct.nearness
        box = None if near is None else (near.box if near.metres == 0 else grown(near.box, near.metres))
        if box is not None and not description.may_intersect(box):
            return None
        if not conjunct.extension or description.geosparql == "full":
            filters.append(conjunct.text)
        elif description.geosparql == "topology" and box is not None:
            filters.append(_box_prefilter(near.variable, box))
        else:
            continue
        estimate *= _selectivity(box, description)
    return SubQuery(name, tuple(patterns), tuple(filters), estimate)


def spatial_filter(variable: str, boxes, description: Description) -> str | None:
    """A filter keeping the geometries of ``variable`` that may meet one of the CRS84 boxes, as the
    source can evaluate it; None when it evaluates no GeoSPARQL (everything is gathered)."""
    shape = shapely.union_all(shapely.box(boxes[:, 0] - _MARGIN, boxes[:, 1] - _MARGIN, boxes[:, 2] + _MARGIN, boxes[:, 3] + _MARGIN))
    constant = f'"{shapely.to_wkt(shape, rounding_precision=-1)}"^^<{WKT_LITERAL}>'
    if description.geosparql == "full":
        return f"<{GEOF}sfIntersects>(?{variable}, {constant})"
    if description.geosparql == "topology":
        return (f'(!isLiteral(?{variable}) || DATATYPE(?{variable}) != <{WKT_LITERAL}> || STRSTARTS(STR(?{variable}), "<") '
                f"|| <{GEOF}sfIntersects>(?{variable}, {constant}))")
    return None


def _box_prefilter(variable: str, box: tuple[float, float, float, float]) -> str:
    """Keeps every row whose geometry may be near the box: plain WKT outside it is dropped, literals
    in another CRS or format pass (the exact test is the federator's).

    >>> _box_prefilter("g", (0, 0, 1, 1))[:60]
    '(!isLiteral(?g) || DATATYPE(?g) != <http://www.opengis.net/o'
    """
    shape = shapely.box(box[0] - _MARGIN, box[1] - _MARGIN, box[2] + _MARGIN, box[3] + _MARGIN)
    constant = f'"{shapely.to_wkt(shape, rounding_precision=-1)}"^^<{WKT_LITERAL}>'
    return (f'(!isLiteral(?{variable}) || DATATYPE(?{variable}) != <{WKT_LITERAL}> || STRSTARTS(STR(?{variable}), "<") '
            f"|| <{GEOF}sfIntersects>(?{variable}, {constant}))")
