"""The worked examples of GeoSPARQL 1.1 Annex B, end to end through the embedded store.

Data: Annex B.2.1 (``data/annex_b.ttl``, features my:A ... my:F). Known errata of the annex, and
what we assert instead:

- Example 4 declares ``PREFIX geof: <http://www.opengis.net/def/geosparql/function>`` (not the
  function namespace) and lists my:A, my:D, my:E. Measured on the ellipsoid, my:E (9.2 km) is
  closer to my:C than my:D (11.1 km); in planar degrees both are 0.1. We assert the same three
  features, my:A first, and the geodesic order.
- Example 5 has an unbalanced parenthesis in its first BIND; fixed here.
- Example 6 lists my:E and my:EExactGeom, but my:E is a line and sfOverlaps only holds between
  geometries of the same dimension (Table 9); the line crosses my:A, so we assert my:D and
  my:DExactGeom, and that my:E sfCrosses my:A. The transformed query relies on RDFS entailment
  (my:hasExactGeometry rdfs:subPropertyOf geo:hasDefaultGeometry), written here as a property path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.embedded import EmbeddedStore
from kg.errors import InvalidGeometry

DATA = (Path(__file__).parent / "data" / "annex_b.ttl").read_bytes()
PREFIXES = """PREFIX my: <http://example.org/ApplicationSchema#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
MY = "http://example.org/ApplicationSchema#"

# The annex's queries, also run on the Spark store by tests/kg/spark/test_stores_agree.py
EXAMPLE_1 = """SELECT ?f WHERE {
    my:A my:hasExactGeometry ?aGeom . ?aGeom geo:asWKT ?aWKT .
    ?f my:hasExactGeometry ?fGeom . ?fGeom geo:asWKT ?fWKT .
    FILTER (geof:sfContains(?aWKT, ?fWKT) && !sameTerm(?aGeom, ?fGeom)) }"""
EXAMPLE_2 = """SELECT ?f WHERE {
    ?f my:hasPointGeometry ?fGeom . ?fGeom geo:asWKT ?fWKT .
    FILTER (geof:sfWithin(?fWKT, '''<http://www.opengis.net/def/crs/OGC/1.3/CRS84>
        Polygon ((-83.4 34.0, -83.1 34.0, -83.1 34.2, -83.4 34.2, -83.4 34.0))'''^^geo:wktLiteral)) }"""
EXAMPLE_3 = """SELECT ?f WHERE {
    ?f my:hasExactGeometry ?fGeom . ?fGeom geo:asWKT ?fWKT .
    my:A my:hasExactGeometry ?aGeom . ?aGeom geo:asWKT ?aWKT .
    my:D my:hasExactGeometry ?dGeom . ?dGeom geo:asWKT ?dWKT .
    FILTER (geof:sfTouches(?fWKT, geof:union(?aWKT, ?dWKT))) }"""
EXAMPLE_4 = """SELECT ?f ?d WHERE {
    my:C my:hasExactGeometry ?cGeom . ?cGeom geo:asWKT ?cWKT .
    ?f my:hasExactGeometry ?fGeom . ?fGeom geo:asWKT ?fWKT .
    FILTER (?fGeom != ?cGeom)
    BIND (geof:distance(?cWKT, ?fWKT, uom:metre) AS ?d) }
    ORDER BY ASC (geof:distance(?cWKT, ?fWKT, uom:metre)) LIMIT 3"""
EXAMPLE_5 = """SELECT ?minX ?minY ?minZ ?maxX ?maxY ?maxZ WHERE {
    BIND ('''<http://www.opengis.net/def/crs/OGC/1.3/CRS84> Polygon Z((-83.4 34.0 0, -83.1 34.0 1,
          -83.1 34.2 1, -83.4 34.2 1, -83.4 34.0 0))'''^^geo:wktLiteral AS ?testgeom)
    BIND(geof:minX(?testgeom) AS ?minX) BIND(geof:maxX(?testgeom) AS ?maxX)
    BIND(geof:minY(?testgeom) AS ?minY) BIND(geof:maxY(?testgeom) AS ?maxY)
    BIND(geof:maxZ(?testgeom) AS ?maxZ) BIND(geof:minZ(?testgeom) AS ?minZ) }"""
CONVERSIONS_B_2_4 = """SELECT ?wkt ?gml ?json ?kml WHERE {
    my:A my:hasExactGeometry/geo:asWKT ?a .
    BIND (geof:asWKT(?a) AS ?wkt) BIND (geof:asGML(?a, "3.2") AS ?gml)
    BIND (geof:asGeoJSON(?a) AS ?json) BIND (geof:asKML(?a) AS ?kml)
    FILTER (geof:sfEquals(geof:asWKT(geof:asGML(?a)), ?a) && geof:sfEquals(geof:asGeoJSON(?a), ?a)
            && geof:sfEquals(geof:asKML(?a), ?a)) }"""
ANNEX_B = {"example_1": EXAMPLE_1, "example_2": EXAMPLE_2, "example_3": EXAMPLE_3, "example_4": EXAMPLE_4,
           "example_5": EXAMPLE_5, "conversions_b_2_4": CONVERSIONS_B_2_4}


@pytest.fixture(scope="module")
def store():
    store = EmbeddedStore()
    store.load_data(DATA, "turtle")
    return store


def names(store, query: str, variable: str = "f") -> list[str]:
    return [row[variable].value.removeprefix(MY) for row in store.query(PREFIXES + query).bindings()]


def test_example_1_features_that_a_contains(store):
    query = EXAMPLE_1
    assert sorted(names(store, query)) == ["B", "F"]


def test_example_2_features_within_a_transient_box(store):
    query = EXAMPLE_2
    assert names(store, query) == ["D"]


def test_example_3_features_touching_the_union_of_a_and_d(store):
    query = EXAMPLE_3
    assert names(store, query) == ["C"]


def test_example_4_three_closest_features_to_c(store):
    query = EXAMPLE_4
    rows = store.query(PREFIXES + query).bindings()
    found = [row["f"].value.removeprefix(MY) for row in rows]
    assert sorted(found) == ["A", "D", "E"] and found[0] == "A"
    distances = {row["f"].value.removeprefix(MY): float(row["d"].value) for row in rows}
    assert distances["A"] == 0.0
    assert distances["E"] == pytest.approx(9206, abs=5) and distances["D"] == pytest.approx(11088, abs=5)


def test_example_5_minimum_and_maximum_coordinates(store):
    query = EXAMPLE_5
    (row,) = store.query(PREFIXES + query).bindings()
    got = {name: float(term.value) for name, term in row.items()}
    assert got == {"minX": -83.4, "minY": 34.0, "minZ": 0.0, "maxX": -83.1, "maxY": 34.2, "maxZ": 1.0}


def test_example_6_transformed_sf_overlaps_query(store):
    default_geometry = "?p rdfs:subPropertyOf* geo:hasDefaultGeometry"
    query = f"""SELECT ?f WHERE {{
        {{ ?f geo:sfOverlaps my:A }}
        UNION {{ ?f ?p ?fGeom . {default_geometry} . ?fGeom geo:asWKT ?fSerial .
                 my:A ?q ?aGeom . {default_geometry.replace('?p', '?q')} . ?aGeom geo:asWKT ?aSerial .
                 FILTER (geof:sfOverlaps(?fSerial, ?aSerial)) }}
        UNION {{ ?f ?p ?fGeom . {default_geometry} . ?fGeom geo:asWKT ?fSerial .
                 my:A geo:asWKT ?aSerial . FILTER (geof:sfOverlaps(?fSerial, ?aSerial)) }}
        UNION {{ ?f geo:asWKT ?fSerial . my:A ?q ?aGeom . {default_geometry.replace('?p', '?q')} .
                 ?aGeom geo:asWKT ?aSerial . FILTER (geof:sfOverlaps(?fSerial, ?aSerial)) }}
        UNION {{ ?f geo:asWKT ?fSerial . my:A geo:asWKT ?aSerial . FILTER (geof:sfOverlaps(?fSerial, ?aSerial)) }} }}"""
    assert sorted(names(store, query)) == ["D", "DExactGeom"]
    crosses = """ASK { my:E my:hasExactGeometry/geo:asWKT ?e . my:A my:hasExactGeometry/geo:asWKT ?a .
                       FILTER (geof:sfCrosses(?e, ?a) && !geof:sfOverlaps(?e, ?a)) }"""
    assert store.query(PREFIXES + crosses).boolean() is True


def test_serialisation_conversion_functions_b_2_4(store):
    query = CONVERSIONS_B_2_4
    (row,) = store.query(PREFIXES + query).bindings()
    assert row["wkt"].value == "POLYGON ((-83.6 34.1, -83.2 34.1, -83.2 34.5, -83.6 34.5, -83.6 34.1))"
    assert row["gml"].datatype.value.endswith("#gmlLiteral") and "<gml:posList>-83.6 34.1 -83.2 34.1" in row["gml"].value
    assert row["json"].datatype.value.endswith("#geoJSONLiteral") and row["kml"].datatype.value.endswith("#kmlLiteral")


def test_aggregates_over_the_example_data(store):
    query = """SELECT (geof:aggBoundingBox(?w) AS ?box) (geof:aggUnion(?w) AS ?all) WHERE { ?f my:hasExactGeometry/geo:asWKT ?w }"""
    (row,) = store.query(PREFIXES + query).bindings()
    assert row["box"].value == "POLYGON ((-83.6 34, -83 34, -83 34.5, -83.6 34.5, -83.6 34))"


def test_a_malformed_literal_in_a_filter_fails_the_query_naming_it(store):
    query = """SELECT ?f WHERE { ?f my:hasExactGeometry/geo:asWKT ?w .
        FILTER (geof:sfIntersects(?w, "POLYGON((0 0, 1 1"^^geo:wktLiteral)) }"""
    with pytest.raises(InvalidGeometry, match='geof:sfIntersects: invalid WKT literal "POLYGON\\(\\(0 0, 1 1"'):
        store.query(PREFIXES + query).bindings()
