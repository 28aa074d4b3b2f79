"""SPARQL 1.1 Update over HTTP: writer keys, the ways to send an update, refused writes change nothing."""

from __future__ import annotations

import pytest
from api_support import EX, PREFIXES, WRITER_KEY, assert_error


def insert(name: str) -> str:
    return PREFIXES + f'INSERT DATA {{ GRAPH <{EX}graphs/{name}> {{ ex:{name} rdfs:label "{name}" }} }}'


def has_label(client, name: str) -> bool:
    query = PREFIXES + f'ASK {{ GRAPH ?g {{ ex:{name} rdfs:label "{name}" }} }}'
    return client.get("/sparql", params={"query": query}).json()["boolean"]


@pytest.mark.parametrize(
    "name, headers", [("bearer", {"Authorization": f"Bearer {WRITER_KEY}"}), ("xapikey", {"X-API-Key": WRITER_KEY})]
)
def test_update_body_with_key(client, name, headers):
    response = client.post(
        "/sparql", content=insert(name), headers={"Content-Type": "application/sparql-update", **headers}
    )
    assert response.status_code == 204, response.text
    assert has_label(client, name)


def test_update_form_with_key(client):
    response = client.post("/sparql", data={"update": insert("form")}, headers={"X-API-Key": WRITER_KEY})
    assert response.status_code == 204, response.text
    assert has_label(client, "form")


def test_update_endpoint(writer, client):
    assert writer.post("/update", data={"update": insert("upd1")}).status_code == 204
    assert writer.post(
        "/update", content=insert("upd2"), headers={"Content-Type": "application/sparql-update"}
    ).status_code == 204
    assert has_label(client, "upd1") and has_label(client, "upd2")


def test_update_endpoint_takes_no_queries(writer):
    assert_error(writer.post("/update", data={"query": "ASK {}"}), 400, "BadRequest", "/sparql")


@pytest.mark.parametrize(
    "headers, status, kind",
    [
        ({}, 401, "Unauthorized"),
        ({"Authorization": "Bearer wrong-key"}, 403, "Forbidden"),
        ({"X-API-Key": "wrong-key"}, 403, "Forbidden"),
        ({"Authorization": f"Basic {WRITER_KEY}"}, 401, "Unauthorized"),
    ],
)
@pytest.mark.parametrize("path", ["/sparql", "/update"])
def test_update_without_the_right_key_changes_nothing(client, server, headers, status, kind, path):
    before = server.triples()
    body = PREFIXES + "DELETE WHERE { ?s ?p ?o }"
    response = client.post(path, content=body, headers={"Content-Type": "application/sparql-update", **headers})
    body = assert_error(response, status, kind, "Authorization: Bearer", "X-API-Key")
    assert server.triples() == before
    form = client.post(path, data={"update": "CLEAR ALL"}, headers=headers)
    assert_error(form, status, kind)
    assert server.triples() == before


def test_unauthorized_says_how_to_authenticate(client):
    response = client.post("/update", data={"update": "CLEAR ALL"})
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_failed_update_changes_nothing(writer, server):
    before = server.triples()
    response = writer.post("/update", data={"update": PREFIXES + "INSERT DATA { ex:a ex:b ex:c } ; CLEAR ALL ; BOOM"})
    assert_error(response, 400, "QuerySyntaxError", "line")
    assert server.triples() == before


def test_update_with_invalid_geometry_changes_nothing(writer, server):
    before = server.triples()
    update = PREFIXES + 'INSERT DATA { ex:bad geo:asWKT "POLYGON((0 0, 1 1"^^geo:wktLiteral }'
    assert_error(writer.post("/update", data={"update": update}), 400, "InvalidGeometry", "POLYGON((0 0, 1 1")
    assert server.triples() == before


def test_load_is_refused(writer, server):
    before = server.triples()
    response = writer.post("/update", data={"update": "LOAD <http://example.org/data.ttl>"})
    assert_error(response, 501, "UnsupportedFeature", "LOAD")
    assert server.triples() == before


def test_using_graph_uri_parameter_is_refused(writer):
    response = writer.post(
        "/update", params={"using-graph-uri": EX + "g"}, content="CLEAR SILENT GRAPH <urn:x>",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert_error(response, 501, "UnsupportedFeature", "USING")


def test_delete_insert_where(writer, client):
    assert writer.post("/update", data={"update": insert("moved")}).status_code == 204
    update = PREFIXES + f"""
        DELETE {{ GRAPH <{EX}graphs/moved> {{ ?s rdfs:label ?l }} }}
        INSERT {{ GRAPH <{EX}graphs/moved> {{ ?s rdfs:label "renamed" }} }}
        WHERE {{ GRAPH <{EX}graphs/moved> {{ ?s rdfs:label ?l }} }}"""
    assert writer.post("/update", data={"update": update}).status_code == 204
    query = PREFIXES + f"SELECT ?l {{ GRAPH <{EX}graphs/moved> {{ ?s rdfs:label ?l }} }}"
    rows = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert [r["l"]["value"] for r in rows] == ["renamed"]
