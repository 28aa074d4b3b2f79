"""The equivalence suite: every query answered by the federation (the real Oxigraph server, our own
server, an in-process store) exactly as by one store holding the union of their data."""

from __future__ import annotations

from collections import Counter

import pytest
from federation_support import PREFIXES

BOX = '"POLYGON((16.1 48.05, 16.3 48.05, 16.3 48.2, 16.1 48.2, 16.1 48.05))"^^geo:wktLiteral'
QUERIES = {
    "join across sources on one subject": "SELECT ?f ?crop ?owner { ?f a ex:Field ; ex:crop ?crop ; ex:owner ?owner }",
    "thematic filter": "SELECT ?f ?a { ?f ex:area ?a FILTER(?a > 1.5 && ?a < 4) }",
    "labels by language": 'SELECT ?f ?label { ?f ex:crop ?c . ?c skos:prefLabel ?label FILTER(LANG(?label) = "de") }',
    "spatial selection": f"SELECT ?f {{ ?f a ex:Field ; geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, {BOX})) }}",
    "spatial selection within": f"SELECT ?f {{ ?f geo:hasGeometry ?geom . ?geom geo:asWKT ?g FILTER(geof:sfWithin(?g, {BOX})) }}",
    "distance selection": 'SELECT ?p { ?p a ex:SurveyPoint ; geo:hasGeometry/geo:asWKT ?g '
                          'FILTER(geof:distance(?g, "POINT(16.2 48.1)"^^geo:wktLiteral, uom:metre) < 5000) }',
    "selection far from every source": 'SELECT ?f { ?f geo:hasGeometry/geo:asWKT ?g '
                                       'FILTER(geof:sfIntersects(?g, "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"^^geo:wktLiteral)) }',
    "spatial join across sources": "SELECT ?f ?p { ?f a ex:Field ; geo:hasGeometry/geo:asWKT ?fg . "
                                   "?p a ex:SurveyPoint ; geo:hasGeometry/geo:asWKT ?pg FILTER(geof:sfContains(?fg, ?pg)) }",
    "distance join with a thematic condition": "SELECT ?f ?p { ?f ex:crop ?c ; geo:hasGeometry/geo:asWKT ?fg . "
                                               "?p ex:observed ?c ; geo:hasGeometry/geo:asWKT ?pg "
                                               "FILTER(geof:distance(?fg, ?pg, uom:metre) <= 800) }",
    "topology property (query rewrite)": "SELECT ?a ?b { ?a a ex:Field . ?b a ex:SurveyPoint . ?a geo:sfContains ?b }",
    "optional": 'SELECT ?f ?owner { ?f a ex:Field OPTIONAL { ?f ex:owner ?owner FILTER(?owner != "owner 3") } }',
    "minus": "SELECT ?f { ?f a ex:Field MINUS { ?f ex:owner ?o } }",
    "not exists": 'SELECT ?p { ?p a ex:SurveyPoint ; geo:hasGeometry/geo:asWKT ?pg FILTER NOT EXISTS { ?f a ex:Field ; '
                  'geo:hasGeometry/geo:asWKT ?fg FILTER(geof:sfContains(?fg, ?pg)) } }',
    "union": "SELECT ?x { { ?x a ex:Field ; ex:crop <http://example.org/crop/soy> } UNION { ?x ex:observed <http://example.org/crop/soy> } }",
    "aggregate with geof:area": "SELECT ?c (COUNT(?f) AS ?n) (ROUND(SUM(geof:area(?g, uom:metre)) / 1e4) AS ?ha) "
                                "{ ?f ex:crop ?c ; geo:hasGeometry/geo:asWKT ?g } GROUP BY ?c",
    "order and limit": "SELECT ?f ?a { ?f ex:area ?a } ORDER BY DESC(?a) ?f LIMIT 7",
    "zero or more path": "SELECT ?c ?top { ?c skos:broader* ?top }",
    "one or more path to a constant": "SELECT ?f { ?f ex:crop/skos:broader+ <http://example.org/crop/any> }",
    "alternative path": "SELECT ?x ?c { ?x ex:crop|ex:observed ?c }",
    "sub-query with limit": "SELECT ?f ?crop { { SELECT ?f { ?f ex:area ?a } ORDER BY ?a LIMIT 5 } ?f ex:crop ?crop }",
    "values": "SELECT ?f ?c { VALUES ?c { <http://example.org/crop/rye> <http://example.org/crop/maize> } ?f ex:crop ?c }",
    "bind with a constructive function": "SELECT ?f ?env { ?f ex:owner ?o ; geo:hasGeometry/geo:asWKT ?g "
                                         "BIND(geof:envelope(geof:buffer(?g, 10, uom:metre)) AS ?env) }",
    "nearest neighbours": 'SELECT ?p { ?p a ex:SurveyPoint ; geo:hasGeometry/geo:asWKT ?g '
                          'FILTER(eekg:nearest(?g, "POINT(16.25 48.15)"^^geo:wktLiteral, 5)) }',
    "geometry in another CRS": 'SELECT ?f { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:distance(?g, '
                               '"POINT(16.0 48.0)"^^geo:wktLiteral, uom:metre) < 80000) }',
    "variable predicate": "SELECT ?p ?o { <http://example.org/field3> ?p ?o }",
    "triple held by two sources counted once": "SELECT (COUNT(*) AS ?n) { ?f ex:crop ?c }",
    "blank node in a pattern": "SELECT ?f { ?f ex:crop [ skos:prefLabel \"rye\"@en ] }",
}


def _rows(bindings: list[dict]) -> Counter:
    return Counter(tuple(sorted((k, str(v)) for k, v in row.items())) for row in bindings)


@pytest.mark.parametrize("name", QUERIES)
def test_select_answers_equal_the_union(name, federation, reference):
    query = PREFIXES + QUERIES[name]
    expected, answer = reference.query(query).bindings(), federation.query(query).bindings()
    assert _rows(answer) == _rows(expected)
    if "ORDER BY" in query:
        assert answer == expected


def test_the_suite_is_not_vacuous(reference):
    """Most queries have answers, so an empty federation answer would fail them."""
    empty = [name for name, q in QUERIES.items() if not reference.query(PREFIXES + q).bindings()]
    assert empty == ["selection far from every source"]


def test_ask_and_construct_equal_the_union(federation, reference):
    ask = PREFIXES + "ASK { ?f ex:owner ?o ; geo:hasGeometry/geo:asWKT ?g FILTER(geof:area(?g, uom:metre) > 1e6) }"
    assert federation.query(ask).boolean() == reference.query(ask).boolean()
    construct = PREFIXES + "CONSTRUCT { ?f ex:label ?l } WHERE { ?f ex:crop ?c . ?c skos:prefLabel ?l }"
    triples = lambda r: sorted(str(t) for t in r.triples())  # noqa: E731
    assert triples(federation.query(construct)) == triples(reference.query(construct))
    assert len(triples(reference.query(construct))) == 200
