"""Source selection: which source gets which sub-query, narrowed by which filter (the federation's plan)."""

from __future__ import annotations

from federation_support import PREFIXES

BOX = '"POLYGON((16.1 48.05, 16.3 48.05, 16.3 48.2, 16.1 48.2, 16.1 48.05))"^^geo:wktLiteral'


def _subs(plan) -> list:
    return [sub for scope in plan for step in scope.steps for sub in step.subs]


def _by_source(plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for sub in _subs(plan):
        found.setdefault(sub.source, []).append(sub.sparql)
    return found


def test_descriptions_say_what_each_source_holds(federation):
    described = federation.descriptions()
    assert described["local"].predicates["http://example.org/owner"] == 34
    assert "http://example.org/owner" not in described["oxigraph"].predicates
    assert described["eekg"].classes["http://example.org/SurveyPoint"] == 80
    assert [described[n].geosparql for n in ("oxigraph", "eekg", "local")] == ["topology", "full", "full"]
    west, south, east, north = described["eekg"].extent
    assert 16.0 <= west < east <= 16.6 and 48.0 <= south < north <= 48.4
    assert described["local"].extent is None


def test_patterns_only_one_source_holds_go_there_joined(federation):
    plan = _by_source(federation.plan(PREFIXES + "SELECT * { ?f ex:owner ?o . ?p ex:observed ?c ; a ex:SurveyPoint }"))
    assert set(plan) == {"local", "eekg"}
    assert plan["local"] == ["CONSTRUCT {\n  ?f <http://example.org/owner> ?o .\n} WHERE {\n  ?f <http://example.org/owner> ?o .\n}"]
    [joined] = plan["eekg"]  # an exclusive group: both patterns in one sub-query
    assert "?p <http://example.org/observed> ?c ." in joined and "?p <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/SurveyPoint> ." in joined


def test_spatial_filters_are_sent_as_each_source_can_take_them(federation):
    plan = _by_source(federation.plan(PREFIXES + f"SELECT ?f {{ ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfWithin(?g, {BOX})) }}"))
    assert set(plan) == {"oxigraph", "eekg"}  # local holds no geometries
    [ox_wkt] = [q for q in plan["oxigraph"] if "asWKT" in q]
    assert 'STRSTARTS(STR(?g), "<") || <http://www.opengis.net/def/function/geosparql/sfIntersects>(?g, "POLYGON ((' in ox_wkt
    assert "16.300000001 48.200000001" in ox_wkt  # the constant's box, a hair larger
    [ours] = [q for q in plan["eekg"] if "asWKT" in q]
    assert "FILTER(<http://www.opengis.net/def/function/geosparql/sfWithin>(?g, \"POLYGON((16.1 48.05" in ours


def test_sources_whose_geometries_lie_elsewhere_are_not_asked(federation):
    far = '"POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"^^geo:wktLiteral'
    plan = federation.plan(PREFIXES + f"SELECT ?f {{ ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, {far})) }}")
    assert not [sub for sub in _subs(plan) if "asWKT" in sub.sparql]
    near = 'FILTER(geof:distance(?g, "POINT(16.0 47.95)"^^geo:wktLiteral, uom:metre) < 1000)'
    assert not [s for s in _subs(federation.plan(PREFIXES + f"SELECT ?f {{ ?f geo:asWKT ?g {near} }}")) if "asWKT" in s.sparql]
    reaching = near.replace("< 1000", "< 10000")
    assert [s for s in _subs(federation.plan(PREFIXES + f"SELECT ?f {{ ?f geo:asWKT ?g {reaching} }}")) if "asWKT" in s.sparql]


def test_thematic_filters_narrow_only_what_their_scope_covers(federation):
    query = PREFIXES + "SELECT * { ?f ex:area ?a OPTIONAL { ?f ex:owner ?o FILTER(?o != 'x') } FILTER(?a > 3) }"
    plan = _by_source(federation.plan(query))
    assert all("FILTER(?a > \"3\"" in q for q in plan["oxigraph"] + plan["eekg"])
    assert plan["local"] == ["CONSTRUCT {\n  ?f <http://example.org/owner> ?o .\n} WHERE {\n  ?f <http://example.org/owner> ?o .\n}"]


def test_the_report_tells_what_was_fetched(federation):
    answer = federation.query(PREFIXES + "SELECT ?f { ?f ex:owner ?o }")
    assert len(answer.bindings()) == 34
    [fetched] = answer.report.fetched
    assert (fetched.source, fetched.triples) == ("local", 34) and fetched.bytes > 0
