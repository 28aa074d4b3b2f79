"""The shared suite: the same queries on the embedded store and the Spark store give the same answers.

Answers are compared as multisets of rows (a row: its sorted (variable, term) pairs, numbers
compared by value), or as lists under a total ORDER BY. The queries the Spark store does not
support are listed in ``UNSUPPORTED`` (and in docs/spark.md): it must refuse each with
``UnsupportedFeature`` naming the feature, never answer wrongly. The Geographica-style queries of
the planner benchmark (benchmarks/geographica.py) are run over a small data set of that generator.
"""

from __future__ import annotations

from collections import Counter

import pytest
import shapely
from pyoxigraph import Literal

from kg.errors import GeoKGError, InvalidGeometry, QuerySyntaxError, UnsupportedFeature
from kg.spark.terms import NUMERIC_DATATYPES
from tests.kg.geosparql.test_spec_examples import ANNEX_B
from tests.kg.geosparql.test_spec_examples import PREFIXES as ANNEX_B_PREFIXES

P = """PREFIX ex: <http://example.org/stores#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
FEATURE = "?f geo:hasGeometry ?fg . ?fg geo:asWKT ?g ."
WINDOW = '"POLYGON((1 -1, 5 -1, 5 3, 1 3, 1 -1))"^^geo:wktLiteral'

# name -> query; an ORDER BY query is compared in order
SUPPORTED = {
    "class": "SELECT ?f WHERE { ?f a ex:Park }",
    "join": "SELECT ?f ?n ?s WHERE { ?f ex:name ?n ; ex:size ?s }",
    "optional": "SELECT ?f ?n WHERE { ?f a ex:Park OPTIONAL { ?f ex:name ?n } }",
    "optional_filter": "SELECT ?f ?s WHERE { ?f a ex:Park OPTIONAL { ?f ex:size ?s FILTER(?s > 10) } }",
    "filter_numbers": "SELECT ?f WHERE { ?f ex:size ?s FILTER(?s >= 7 && ?s < 30) }",
    "filter_decimal": "SELECT ?f WHERE { ?f ex:depth ?d FILTER(?d > 3) }",
    "filter_strings": 'SELECT ?f WHERE { ?f ex:name ?n FILTER(CONTAINS(STR(?n), "well") || REGEX(?n, "^high", "i")) }',
    "filter_lang": 'SELECT ?l WHERE { ex:Park ex:label ?l FILTER(LANG(?l) = "fr") }',
    "filter_in": "SELECT ?f WHERE { ?f a ?c FILTER(?c IN (ex:Lake, ex:Road)) }",
    "filter_not_bound": "SELECT ?f WHERE { ?f a ex:Well OPTIONAL { ?f ex:name ?n } FILTER(!BOUND(?n)) }",
    "union": "SELECT ?f WHERE { { ?f a ex:Lake } UNION { ?f a ex:Well } }",
    "minus": "SELECT ?f WHERE { ?f a ex:Park MINUS { ?f ex:name ?n } }",
    "bind": "SELECT ?f ?d WHERE { ?f ex:size ?s BIND(?s * 2 + 1 AS ?d) }",
    "string_functions_keep_language": "SELECT ?f (UCASE(?n) AS ?u) (LCASE(?n) AS ?l) (SUBSTR(?n, 2, 3) AS ?s) (SUBSTR(?n, 0, 3) AS ?z) "
                                      "(SUBSTR(?n, 4) AS ?t) (STRLEN(?n) AS ?k) WHERE { ?f ex:name ?n }",
    "concat": 'SELECT ?f (CONCAT(?n, " of ", STR(?f)) AS ?c) (CONCAT(?n, ?n) AS ?twice) WHERE { ?f ex:name ?n }',
    "escaped_characters": 'SELECT ?f (STRLEN(?q) AS ?k) (UCASE(?q) AS ?u) (CONCAT(?q, "\\n") AS ?c) WHERE { ?f ex:quote ?q FILTER(CONTAINS(?q, "\\"")) }',
    "bind_string": 'SELECT ?f ?u WHERE { ?f ex:name ?n BIND(UCASE(STR(?n)) AS ?u) }',
    "values": "SELECT ?f ?n WHERE { VALUES ?f { ex:park1 ex:well1 ex:nowhere } ?f ex:name ?n }",
    "graph_variable": "SELECT ?gr ?f ?v WHERE { GRAPH ?gr { ?f ex:visitors ?v } }",
    "graph_constant": "SELECT ?f ?o WHERE { GRAPH ex:g2 { ?f ex:owner ?o } }",
    "default_graph_only": "SELECT ?f WHERE { ?f ex:visitors ?v }",
    "group_count": "SELECT ?c (COUNT(?f) AS ?n) WHERE { ?f a ?c } GROUP BY ?c",
    "aggregates": "SELECT (SUM(?s) AS ?t) (AVG(?s) AS ?a) (MIN(?s) AS ?lo) (MAX(?s) AS ?hi) (COUNT(*) AS ?n) WHERE { ?f ex:size ?s }",
    "group_by_expression": "SELECT (COUNT(*) AS ?n) WHERE { ?f ex:size ?s } GROUP BY (?s > 10)",
    "group_by_expression_named": "SELECT ?big (COUNT(*) AS ?n) WHERE { ?f ex:size ?s } GROUP BY (?s > 10 AS ?big)",
    "from": "SELECT ?f ?v FROM ex:g1 WHERE { ?f ex:visitors ?v }",
    "from_two_graphs": "SELECT ?f ?x FROM ex:g1 FROM ex:g2 WHERE { ?f ex:visitors|ex:owner ?x }",
    "from_named": "SELECT ?gr ?f FROM NAMED ex:g2 WHERE { GRAPH ?gr { ?f ex:owner|ex:visitors ?o } }",
    "count_distinct": "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?f a ?c }",
    "group_having_order": "SELECT ?c (COUNT(?f) AS ?n) WHERE { ?f a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c",
    "order_limit_offset": "SELECT ?f ?s WHERE { ?f ex:size ?s } ORDER BY DESC(?s) LIMIT 2 OFFSET 1",
    "order_strings": "SELECT ?n WHERE { ?f ex:name ?n } ORDER BY ?n",
    "distinct": "SELECT DISTINCT ?c WHERE { ?f a ?c }",
    "variable_predicate": "SELECT ?p ?o WHERE { ex:park2 ?p ?o }",
    "path": "SELECT ?f ?g WHERE { ?f geo:hasGeometry/geo:asWKT ?g }",
    "path_inverse_sequence": "SELECT ?c ?f WHERE { ?c ^a/ex:name ?f }",
    "path_alternative": "SELECT ?f ?v WHERE { ?f ex:name|ex:size|^ex:owner ?v }",
    "path_alternative_sequence": "SELECT ?f ?g WHERE { ?f (geo:hasGeometry|geo:hasDefaultGeometry)/(geo:asWKT|geo:asGeoJSON) ?g }",
    "path_plus": "SELECT ?c ?up WHERE { ?c rdfs:subClassOf+ ?up }",
    "path_star_constant_object": "SELECT ?f WHERE { ?f a/rdfs:subClassOf* ex:Place }",
    "path_star_constant_subject": "SELECT ?up WHERE { ex:Park rdfs:subClassOf* ?up }",
    "path_star_absent_constant": "SELECT ?up WHERE { ex:Nothing rdfs:subClassOf* ?up }",
    "path_star_variables": "SELECT ?a ?b WHERE { ?a rdfs:subClassOf* ?b }",
    "path_cycle_in_graphs": "SELECT ?gr ?a ?b WHERE { GRAPH ?gr { ?a ex:owner+ ?b } }",
    "path_optional_step": "SELECT ?a ?b WHERE { ?a rdfs:subClassOf? ?b FILTER(?a = ex:Lake) }",
    "path_negated": "SELECT ?p ?o WHERE { ex:park1 !(a|ex:name|geo:hasGeometry) ?o BIND(1 AS ?p) }",
    "exists": "SELECT ?f WHERE { ?f a ex:Park FILTER EXISTS { ?f ex:name ?n } }",
    "not_exists": "SELECT ?f WHERE { ?f a ?c FILTER NOT EXISTS { ?f ex:name ?n } }",
    "not_exists_filter_borrows": "SELECT ?f WHERE { ?f ex:size ?s FILTER NOT EXISTS { ?o ex:size ?t FILTER(?t > ?s) } }",
    "exists_uncorrelated": "SELECT ?f WHERE { ?f a ex:Well FILTER EXISTS { ex:park1 ex:name ?n } }",
    "topology_property_stored_and_derived": "SELECT ?b WHERE { ex:park1g geo:sfContains ?b }",
    "topology_property_features": "SELECT ?a ?b WHERE { ?a geo:sfIntersects ?b }",
    "topology_property_stored_only": "SELECT ?a WHERE { ?a geo:sfWithin ex:park3 }",
    "topology_property_ask": "ASK { ex:well1 geo:sfWithin ex:park1 }",
    "select_intersects": f"SELECT ?f WHERE {{ {FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW})) }}",
    "select_within": f"SELECT ?f WHERE {{ {FEATURE} FILTER(geof:sfWithin(?g, {WINDOW})) }}",
    "select_contains_constant_first": f"SELECT ?f WHERE {{ {FEATURE} FILTER(geof:sfContains({WINDOW}, ?g)) }}",
    "select_thematic_and_spatial": f"SELECT ?f WHERE {{ ?f a ex:Well . {FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW})) }}",
    "select_distance": f'SELECT ?f WHERE {{ {FEATURE} FILTER(geof:distance(?g, "POINT(2 2)"^^geo:wktLiteral, uom:metre) < 250000) }}',
    "select_buffer": f'SELECT ?f WHERE {{ {FEATURE} FILTER(geof:sfWithin(?g, geof:buffer("POINT(2 2)"^^geo:wktLiteral, 200000, uom:metre))) }}',
    "select_other_crs": 'SELECT ?f WHERE { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, "POINT(12 12)"^^geo:wktLiteral)) }',
    "join_contains": "SELECT ?a ?b WHERE { ?a a ex:Park ; geo:hasGeometry/geo:asWKT ?ga . ?b a ex:Well ; geo:hasGeometry/geo:asWKT ?gb "
                     "FILTER(geof:sfContains(?ga, ?gb)) }",
    "join_touches": "SELECT ?a ?b WHERE { ?a geo:hasGeometry/geo:asWKT ?ga . ?b geo:hasGeometry/geo:asWKT ?gb "
                    "FILTER(?a != ?b && geof:sfTouches(?ga, ?gb)) }",
    "join_crosses_geojson": "SELECT ?a ?b WHERE { ?a geo:hasGeometry/geo:asWKT ?ga . ?b geo:hasGeometry/geo:asGeoJSON ?gb "
                            "FILTER(geof:sfCrosses(?ga, ?gb)) }",
    "join_distance": "SELECT ?a ?b WHERE { ?a a ex:Well ; geo:hasGeometry/geo:asWKT ?ga . ?b a ex:Road ; geo:hasGeometry/geo:asWKT ?gb "
                     "FILTER(geof:distance(?ga, ?gb, uom:metre) < 120000) }",
    "join_count": "SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a a ex:Park ; geo:hasGeometry/geo:asWKT ?ga . ?b geo:hasGeometry/geo:asWKT ?gb "
                  "FILTER(geof:sfIntersects(?ga, ?gb)) } GROUP BY ?a",
    "filter_disjoint_udf": 'SELECT ?f WHERE { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfDisjoint(?g, "POINT(2 2)"^^geo:wktLiteral)) }',
    "functions_in_select": "SELECT ?f (geof:envelope(?g) AS ?e) (geof:getSRID(?g) AS ?srid) (geof:dimension(?g) AS ?d) "
                           f"(geof:distance(?g, {WINDOW}, uom:metre) AS ?m) WHERE {{ {FEATURE} }}",
    "ask_true": f"ASK {{ {FEATURE} FILTER(geof:sfContains(?g, \"POINT(2 2)\"^^geo:wktLiteral)) }}",
    "ask_false": "ASK { ?f a ex:Castle }",
}

# name -> (query, words the refusal must name)
UNSUPPORTED = {
    "describe_star": ("DESCRIBE * WHERE { ?f a ex:Park }", "DESCRIBE *"),
    "exists_in_expression": ("SELECT ?f WHERE { ?f a ex:Park FILTER(?f = ex:park3 || EXISTS { ?f ex:name ?n }) }", "EXISTS"),
}


# The GeoSPARQL aggregates: the same geometries (their vertices may come in another order: the
# stores feed the accumulator in their own order), over CRS84 literals (the first input's CRS is the result's).
GEOMETRY_AGGREGATES = {
    "aggregates": "SELECT (geof:aggBoundingBox(?g) AS ?box) (geof:aggUnion(?g) AS ?all) (geof:aggConvexHull(?g) AS ?hull) "
                  "(geof:aggCentroid(?g) AS ?centre) (COUNT(*) AS ?n) WHERE { ?f geo:hasGeometry/geo:asWKT ?g FILTER(?f != ex:park3) }",
    "aggregates_grouped": "SELECT ?c (geof:aggUnion(?g) AS ?u) (geof:aggBoundingCircle(?g) AS ?circle) "
                          "WHERE { ?f a ?c ; geo:hasGeometry/geo:asWKT ?g FILTER(?f != ex:park3) } GROUP BY ?c",
    "aggregate_of_nothing": "SELECT (geof:aggUnion(?g) AS ?u) WHERE { ?f a ex:Castle ; geo:hasGeometry/geo:asWKT ?g }",
    "aggregate_full_iri": "SELECT (<http://www.opengis.net/def/function/geosparql/aggBoundingBox>(geof:buffer(?g, 1000, uom:metre)) AS ?box) "
                          "WHERE { ?f a ex:Well ; geo:hasGeometry/geo:asWKT ?g }",
}


CONSTRUCT = {
    "construct": "CONSTRUCT { ?f a ex:Thing ; ex:called ?n . ex:list ex:has ?f } WHERE { ?f a ex:Park OPTIONAL { ?f ex:name ?n } }",
    "construct_blank_nodes": "CONSTRUCT { ?f ex:at [ ex:geometry ?g ] } WHERE { ?f geo:hasGeometry/geo:asWKT ?g }",
    "construct_federation_subquery": "CONSTRUCT { ?f ex:size ?s } WHERE { ?f ex:size ?s FILTER(?s > 10) }",
}


def normalised(term) -> str:
    if isinstance(term, Literal) and term.datatype.value in NUMERIC_DATATYPES:
        return f"{float(term.value):.9g}"
    return str(term)


def rows(result) -> list:
    return [tuple(sorted((name, normalised(value)) for name, value in row.items())) for row in result.bindings()]


def answer(store, query: str):
    result = store.query(query)
    if result.form == "ASK":
        return result.boolean()
    found = rows(result)
    return found if "ORDER BY" in query else Counter(found)


@pytest.mark.parametrize("name", SUPPORTED)
def test_the_stores_agree(stores, name):
    embedded, spark = stores
    expected = answer(embedded, P + SUPPORTED[name])
    assert answer(spark, P + SUPPORTED[name]) == expected
    if not isinstance(expected, bool) and name not in ("ask_false", "default_graph_only", "path_star_absent_constant"):
        assert expected, "a query whose answer is empty compares nothing"


def graph(store, query: str) -> set:
    """The triples of a CONSTRUCT, blank nodes replaced by what they stand for (here: one triple each)."""
    triples = store.query(query).triples()
    of_blank = {str(t.subject): t.object for t in triples if str(t.subject).startswith("_:")}
    return {(str(t.subject), str(t.predicate), str(of_blank.get(str(t.object), t.object)))
            for t in triples if not str(t.subject).startswith("_:")}


def geometric(term) -> str:
    """A term for comparison; a WKT literal as its normalised geometry (vertex order and start aside)."""
    if isinstance(term, Literal) and term.datatype.value.endswith("#wktLiteral"):
        shape = shapely.normalize(shapely.from_wkt(term.value.split(">")[-1]))
        return shapely.to_wkt(shape, rounding_precision=7)
    return normalised(term)


@pytest.mark.parametrize("name", GEOMETRY_AGGREGATES)
def test_the_geosparql_aggregates_agree(stores, name):
    def shapes(store):
        rows = store.query(P + GEOMETRY_AGGREGATES[name]).bindings()
        return sorted(tuple(sorted((k, geometric(v)) for k, v in row.items())) for row in rows)

    embedded, spark = stores
    expected = shapes(embedded)
    assert expected and shapes(spark) == expected


DESCRIBE = {
    "one": "DESCRIBE ex:a",
    "several_and_absent": "DESCRIBE ex:a ex:b ex:nothing",
    "variable": "DESCRIBE ?x WHERE { ?x ex:next ?y }",
    "variable_and_resource": "DESCRIBE ?y ex:c WHERE { ex:a ex:next ?y }",
}


def canonical(triples) -> list:
    """Triples with each blank node written as what it leads to (its labels differ between stores)."""
    about: dict = {}
    for t in triples:
        about.setdefault(str(t.subject), []).append(t)

    def text(term) -> str:
        if not str(term).startswith("_:"):
            return str(term)
        return "[" + "; ".join(sorted(f"{t.predicate} {text(t.object)}" for t in about.get(str(term), []))) + "]"

    return sorted((text(t.subject), str(t.predicate), text(t.object)) for t in triples)


@pytest.mark.parametrize("name", DESCRIBE)
def test_describe_queries_agree(described, name):
    embedded, spark = described
    expected = canonical(embedded.query(P + DESCRIBE[name]).triples())
    assert expected and canonical(spark.query(P + DESCRIBE[name]).triples()) == expected


@pytest.mark.parametrize("name", CONSTRUCT)
def test_construct_queries_agree(stores, name):
    embedded, spark = stores
    expected = graph(embedded, P + CONSTRUCT[name])
    assert expected and graph(spark, P + CONSTRUCT[name]) == expected
    assert spark.query(P + CONSTRUCT[name]).serialize("ntriples").count(b"\n") == len(embedded.query(P + CONSTRUCT[name]).triples())


@pytest.mark.slow  # 13 queries of a second or more each on Spark; run with -m slow
def test_the_geographica_queries_agree(geographica):
    embedded, spark, queries = geographica
    for query in queries:
        expected = Counter(rows(embedded.query(query.sparql)))
        assert Counter(rows(spark.query(query.sparql))) == expected, query.name
        assert expected or query.name == "SW_0.01", query.name  # at this scale no geometry lies within that window


@pytest.mark.parametrize("name", ANNEX_B)
def test_the_geosparql_annex_b_examples_agree(annex_b, name):
    """The GeoSPARQL 1.1 worked examples the embedded store's tests run (tests/kg/geosparql/test_spec_examples.py);
    its example 6 needs ``rdfs:subPropertyOf*`` and its aggregates ``geof:aggUnion``, both refused above."""
    embedded, spark = annex_b
    expected = answer(embedded, ANNEX_B_PREFIXES + ANNEX_B[name])
    assert expected and answer(spark, ANNEX_B_PREFIXES + ANNEX_B[name]) == expected


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_features_are_refused_by_name(stores, name):
    query, words = UNSUPPORTED[name]
    with pytest.raises(UnsupportedFeature) as refused:
        stores[1].query(P + query).bindings()
    assert words.lower() in refused.value.message.lower()
    assert "Spark store" in refused.value.message


def test_errors_are_the_embedded_stores(stores):
    embedded, spark = stores
    with pytest.raises(QuerySyntaxError) as syntax:
        spark.query("SELECT *\nWHERE { ?s ?p }")
    assert syntax.value.line == 2
    bad = P + 'SELECT ?f WHERE { ?f geo:hasGeometry/geo:asWKT ?g FILTER(geof:sfIntersects(?g, "POLYGON((0 0, 1 1"^^geo:wktLiteral)) }'
    with pytest.raises(InvalidGeometry):
        spark.query(bad).bindings()
    in_udf = P + 'SELECT (geof:area(?g) AS ?a) WHERE { ?f geo:hasGeometry/geo:asWKT ?g }'
    with pytest.raises(InvalidGeometry, match="geof:area: wrong number of arguments"):
        spark.query(in_udf).bindings()
    with pytest.raises(InvalidGeometry, match="geof:area: wrong number of arguments"):
        embedded.query(in_udf).bindings()
    distinct = P + "SELECT (geof:aggUnion(DISTINCT ?g) AS ?u) WHERE { ?f geo:hasGeometry/geo:asWKT ?g }"
    for store in stores:
        with pytest.raises(QuerySyntaxError, match="take no DISTINCT"):
            store.query(distinct)
    in_aggregate = P + "SELECT (geof:aggUnion(?n) AS ?u) WHERE { ?f ex:name ?n }"
    for store in stores:
        with pytest.raises(InvalidGeometry, match="geof:aggUnion: "):
            store.query(in_aggregate).bindings()
    with pytest.raises(UnsupportedFeature, match="Update is not supported"):
        spark.update(P + "INSERT DATA { ex:a ex:b ex:c }")


def test_the_api_serves_the_spark_store_over_http(stores):
    from api.settings import Settings
    from tests.api.api_support import serve

    with serve(stores[1], Settings(query_timeout=60)) as server, server.client() as client:
        query = P + "SELECT ?f WHERE { ?f a ex:Well }"
        response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.text
        got = {b["f"]["value"] for b in response.json()["results"]["bindings"]}
        assert got == {f"http://example.org/stores#well{i}" for i in (1, 2, 3)}
        csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
        assert csv.status_code == 200 and csv.text.startswith("f\r\n")
        refused = client.get("/sparql", params={"query": P + "DESCRIBE * WHERE { ?f a ex:Park }"})
        assert refused.status_code == 501 and "DESCRIBE *" in refused.json()["message"]
        assert client.get("/health").status_code == 200


def test_settings_choose_the_spark_store(stores, tmp_path):
    from api.main import store_from_settings
    from api.settings import Settings

    store = store_from_settings(Settings(store_backend="spark", spark_warehouse=stores[1].warehouse, spark_master="local[2]"))
    assert store.size() == stores[1].size()
    with pytest.raises(GeoKGError, match="spark_warehouse"):
        store_from_settings(Settings(store_backend="spark"))
    with pytest.raises(GeoKGError, match="not a Spark warehouse"):
        store_from_settings(Settings(store_backend="spark", spark_warehouse=tmp_path, spark_master="local[2]"))


def test_the_federation_uses_the_spark_store_as_a_source(stores, tmp_path):
    from federation import load_federation

    embedded, spark = stores
    config = tmp_path / "federation.toml"
    config.write_text('[[source]]\nname = "spark"\nstore = "self"\n')
    query = P + f"SELECT ?f ?n WHERE {{ ?f a ex:Well ; ex:name ?n . {FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW})) }}"
    with load_federation(config, own_store=embedded) as federation:
        expected = federation.refresh()["spark"]
    with load_federation(config, own_store=spark) as federation:
        described = federation.refresh()["spark"]
        assert (described.triples, described.predicates, described.classes, described.extent, described.geosparql) == (
            expected.triples, expected.predicates, expected.classes, expected.extent, "full")
        assert Counter(rows(federation.query(query))) == Counter(rows(embedded.query(query)))
