"""GeoSPARQL's query-rewrite extension: topology properties as triple patterns.

A triple pattern ``?f1 geo:sfIntersects ?f2`` holds when the store says so, or when the
relation holds between the features' default geometries (GeoSPARQL 1.1, the query rewrite
rules: a feature through ``geo:hasDefaultGeometry``, a geometry directly, any serialisation).
Each such statement is replaced, in place, by

    { SELECT DISTINCT ?f1 ?f2 { { ?f1 geo:sfIntersects ?f2 }
        UNION { ?f1 <geometry path> ?l1 . ?f2 <geometry path> ?l2 . FILTER(geof:sfIntersects(?l1, ?l2)) } } }

(``FILTER EXISTS`` with the same union when both ends are IRIs), so each pair comes once, and the
inner filter is a spatial join the planner answers with the index. Only statements of exactly one
subject, property and object (no ``;`` or ``,`` lists) are rewritten, with variables or IRIs as ends.

>>> print(expand_topology("SELECT * { ?a geo:sfTouches ex:b }"))  # doctest: +ELLIPSIS
SELECT * { { SELECT DISTINCT ?a { { ?a <...#sfTouches> ex:b } UNION { ?a ... ?eekg_rw_1_a . ex:b ... ?eekg_rw_1_b . FILTER(<...sfTouches>(?eekg_rw_1_a, ?eekg_rw_1_b)) } } } }
"""

from __future__ import annotations

from kg.geosparql.index import RELATIONS
from kg.geosparql.query_text import NotUnderstood, scan
from kg.geosparql.vocab import GEO, GEOF, PREFIXES

_SERIALISATIONS = "|".join(f"<{GEO}{p}>" for p in ("asWKT", "asGeoJSON", "asGML", "asKML"))
GEOMETRY_PATH = f"(<{GEO}hasDefaultGeometry>/({_SERIALISATIONS}))|{_SERIALISATIONS}"
_PROPERTIES = {GEO + name: name for name in RELATIONS if name != "relate"}


def expand_topology(sparql: str) -> str:
    """The query with its topology-property triple patterns rewritten (see the module doc)."""
    if not any(name in sparql for name in _PROPERTIES.values()):
        return sparql
    try:
        query = scan(sparql)
    except NotUnderstood:
        return sparql
    if query.where is None:
        return sparql
    prefixes = {**PREFIXES, **query.prefixes}
    edits = []
    for group in query.where.walk():
        for statement in group.statements:
            tokens = statement.tokens
            if len(tokens) != 3 or tokens[1].kind not in ("iri", "pname"):
                continue
            name = _PROPERTIES.get(_iri(tokens[1], prefixes))
            ends = tokens[0], tokens[2]
            if name is None or any(t.kind not in ("variable", "iri", "pname") for t in ends):
                continue
            edits.append((statement.start, statement.end, _expanded(len(edits) + 1, name, *(t.text for t in ends))))
    for start, end, replacement in reversed(edits):
        sparql = sparql[:start] + replacement + sparql[end:]
    return sparql


def _expanded(n: int, name: str, subject: str, obj: str) -> str:
    a, b = f"?eekg_rw_{n}_a", f"?eekg_rw_{n}_b"
    union = (
        f"{{ {subject} <{GEO}{name}> {obj} }} UNION {{ {subject} {GEOMETRY_PATH} {a} . {obj} {GEOMETRY_PATH} {b} . "
        f"FILTER(<{GEOF}{name}>({a}, {b})) }}"
    )
    variables = " ".join(dict.fromkeys(t for t in (subject, obj) if t[0] in "?$"))
    if not variables:
        return f"FILTER EXISTS {{ {union} }}"
    return f"{{ SELECT DISTINCT {variables} {{ {union} }} }}"


def _iri(token, prefixes: dict[str, str]) -> str | None:
    if token.kind == "iri":
        return token.text[1:-1]
    prefix, _, local = token.text.partition(":")
    return prefixes[prefix] + local if prefix in prefixes else None
