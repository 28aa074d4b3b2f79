"""The GeoSPARQL aggregates (``geof:aggUnion`` ...) on the Spark store.

rdflib, which turns queries into algebra, takes a ``geof:`` aggregate for a plain function (and
under ``GROUP BY`` hands it one sample of its argument). So the query text is rewritten first:
each such call becomes a ``GROUP_CONCAT``, an aggregate rdflib knows, whose separator names the
function (``tag_aggregates``). The translation turns that back into ``collect_list`` (or
``collect_set`` with ``DISTINCT``) of the group's terms, given to the embedded store's accumulator
(``kg.geosparql.aggregates``) in a pandas UDF (``eekg_geoagg``, ``kg.spark.functions``).

>>> print(tag_aggregates("SELECT (geof:aggUnion(DISTINCT ?g) AS ?u) { ?f geo:asWKT ?g }"))
SELECT (GROUP_CONCAT(DISTINCT ?g; SEPARATOR="urn:eekg:aggregate:aggUnion") AS ?u) { ?f geo:asWKT ?g }
"""

from __future__ import annotations

from kg.geosparql.query_text import NotUnderstood, tokenize
from kg.geosparql.registry import AGGREGATES
from kg.geosparql.vocab import GEOF, PREFIXES

TAG = "urn:eekg:aggregate:"  # the separator's start that marks a GROUP_CONCAT as a geof: aggregate


def tag_aggregates(sparql: str) -> str:
    """The query with each ``geof:`` aggregate call written as a tagged ``GROUP_CONCAT``."""
    if "agg" not in sparql:
        return sparql
    try:
        tokens = tokenize(sparql)
    except NotUnderstood:
        return sparql  # the translation then refuses the aggregate by name
    prefixes = dict(PREFIXES)
    for i, token in enumerate(tokens[:-2]):
        if token.text.upper() == "PREFIX" and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri":
            prefixes[tokens[i + 1].text[:-1]] = tokens[i + 2].text[1:-1]
    edits = []
    for i, token in enumerate(tokens[:-1]):
        iri = _iri(token, prefixes)
        if iri not in AGGREGATES or tokens[i + 1].text != "(":
            continue
        close = _closing(tokens, i + 1)
        if close is None:
            return sparql  # unbalanced: the parser reports it
        edits.append((token.start, tokens[i + 1].end, "GROUP_CONCAT("))
        edits.append((tokens[close].start, tokens[close].start, f'; SEPARATOR="{TAG}{iri.removeprefix(GEOF)}"'))
    for start, end, text in reversed(edits):
        sparql = sparql[:start] + text + sparql[end:]
    return sparql


def aggregate_of(separator: str | None) -> str | None:
    """The geof: aggregate's IRI a tagged GROUP_CONCAT stands for, or None for a plain one."""
    if separator is None or not str(separator).startswith(TAG):
        return None
    return GEOF + str(separator).removeprefix(TAG)


def _iri(token, prefixes: dict[str, str]) -> str | None:
    if token.kind == "iri":
        return token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def _closing(tokens, opening: int) -> int | None:
    depth = 0
    for j in range(opening, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
        if depth == 0:
            return j
    return None
