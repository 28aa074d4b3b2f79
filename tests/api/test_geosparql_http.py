"""GeoSPARQL functions through HTTP, and the errors bad geometry gives."""

from __future__ import annotations

from api_support import EX, PREFIXES, assert_error

BOX = "POLYGON((16.29 48.19, 16.315 48.19, 16.315 48.215, 16.29 48.215, 16.29 48.19))"


def column(response, name: str) -> list[str]:
    assert response.status_code == 200, response.text
    return [row[name]["value"] for row in response.json()["results"]["bindings"]]


def test_sf_intersects(client):
    query = PREFIXES + f"""
        SELECT ?f {{ ?f geo:hasGeometry/geo:asWKT ?wkt
                     FILTER(geof:sfIntersects(?wkt, "{BOX}"^^geo:wktLiteral)) }} ORDER BY ?f"""
    assert column(client.get("/sparql", params={"query": query}), "f") == [EX + "field1", EX + "p1", EX + "p2"]


def test_sf_within_between_features(client):
    query = PREFIXES + """
        SELECT ?point ?field { VALUES ?point { ex:p1 ex:p2 } ?point geo:hasGeometry/geo:asWKT ?p . ?field ex:crop ?crop ;
                               geo:hasGeometry/geo:asWKT ?f FILTER(geof:sfWithin(?p, ?f)) }"""
    response = client.post("/sparql", data={"query": query})
    assert column(response, "point") == [EX + "p1"]
    assert column(response, "field") == [EX + "field1"]


def test_distance_in_metres(client):
    query = PREFIXES + """
        SELECT ?d { ex:p2 geo:hasGeometry/geo:asWKT ?p . ex:field1 geo:hasGeometry/geo:asWKT ?f
                    BIND(geof:distance(?p, ?f, uom:metre) AS ?d) }"""
    (distance,) = column(client.get("/sparql", params={"query": query}), "d")
    assert 100 < float(distance) < 125  # 0.0015 degrees of longitude at 48.2 N is about 111 m


def test_features_within_a_distance(client):
    query = PREFIXES + """
        SELECT ?f { ex:p2 geo:hasGeometry/geo:asWKT ?p . ?f ex:crop ?crop ; geo:hasGeometry/geo:asWKT ?g
                    FILTER(geof:distance(?p, ?g, uom:metre) < 500) }"""
    assert column(client.get("/sparql", params={"query": query}), "f") == [EX + "field1"]


def test_invalid_wkt_names_the_literal(client):
    query = PREFIXES + 'ASK { FILTER(geof:sfIntersects("POLYGON((0 0, 1 1"^^geo:wktLiteral, "POINT(0 0)"^^geo:wktLiteral)) }'
    assert_error(client.get("/sparql", params={"query": query}), 400, "InvalidGeometry", "POLYGON((0 0, 1 1")


def test_unknown_crs(client):
    query = PREFIXES + (
        'ASK { FILTER(geof:sfIntersects("<http://www.opengis.net/def/crs/EPSG/0/999999> POINT(0 0)"^^geo:wktLiteral,'
        ' "POINT(0 0)"^^geo:wktLiteral)) }'
    )
    assert_error(client.get("/sparql", params={"query": query}), 400, None, "999999")
