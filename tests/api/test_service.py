"""The service description, /health, OpenAPI, and reader keys."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from api_support import (
    NAMED_GRAPH,
    PREFIXES,
    READER_KEY,
    WRITER_KEY,
    Server,
    assert_error,
    feature_store,
    make_settings,
    serve,
)

SD = "http://www.w3.org/ns/sparql-service-description#"
GEOF = "http://www.opengis.net/def/function/geosparql/"


def description(client, accept: str | None = "text/turtle", format=ox.RdfFormat.TURTLE) -> ox.Store:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    graph = ox.Store()
    graph.load(response.content, format)
    return graph


def objects(graph: ox.Store, predicate: str) -> set[str]:
    return {q.object.value for q in graph.quads_for_pattern(None, ox.NamedNode(SD + predicate), None)}


def test_service_description(client, server):
    graph = description(client)
    assert objects(graph, "endpoint") == {server.url + "/sparql"}
    assert objects(graph, "supportedLanguage") == {SD + "SPARQL11Query", SD + "SPARQL11Update"}
    functions = objects(graph, "extensionFunction")
    assert {GEOF + "sfIntersects", GEOF + "distance", GEOF + "buffer", GEOF + "area"} <= functions
    assert GEOF + "aggBoundingBox" in objects(graph, "extensionAggregate")
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in objects(graph, "resultFormat")
    assert "http://www.w3.org/ns/formats/Turtle" in objects(graph, "resultFormat")
    assert SD + "UnionDefaultGraph" not in objects(graph, "feature")  # the default graph is its own graph


def test_service_description_lists_every_registered_function(client):
    from kg.geosparql.registry import AGGREGATES, FUNCTIONS

    graph = description(client)
    assert objects(graph, "extensionFunction") == set(FUNCTIONS)
    assert objects(graph, "extensionAggregate") == set(AGGREGATES)


def test_service_description_for_a_browser_is_turtle(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
    response = client.get("/sparql", headers={"Accept": browser})
    assert response.headers["content-type"].startswith("text/turtle")
    assert description(client, None)


def test_service_description_as_json_ld(client):
    graph = description(client, "application/ld+json", ox.RdfFormat.JSON_LD)
    assert GEOF + "sfIntersects" in objects(graph, "extensionFunction")


def test_health(client, server):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["backend"] == "embedded store"
    assert body["triples"] == server.triples()
    assert body["named_graphs"] >= 1


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert {"/sparql", "/update", "/rdf-graphs/service", "/health"} <= set(spec["paths"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
    assert client.get("/docs").status_code == 200


# --- reader keys ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private() -> Iterator[Server]:
    with serve(feature_store(), make_settings(reader_keys=[READER_KEY])) as running:
        yield running


ASK = PREFIXES + "ASK { ex:field1 a geo:Feature }"


@pytest.mark.parametrize(
    "headers, status",
    [({}, 401), ({"X-API-Key": "wrong"}, 403), ({"X-API-Key": READER_KEY}, 200),
     ({"Authorization": f"Bearer {READER_KEY}"}, 200), ({"X-API-Key": WRITER_KEY}, 200)],
)
def test_reader_keys(private, headers, status):
    with private.client(headers=headers) as client:
        responses = [
            client.get("/sparql", params={"query": ASK}),
            client.post("/sparql", data={"query": ASK}),
            client.get("/rdf-graphs/service", params={"graph": NAMED_GRAPH}),
        ]
        for response in responses:
            assert response.status_code == status, response.text
            if status != 200:
                assert_error(response, status, None, "X-API-Key")


def test_reader_key_cannot_write(private):
    before = private.triples()
    with private.client(headers={"X-API-Key": READER_KEY}) as client:
        assert_error(client.post("/update", data={"update": "CLEAR ALL"}), 403, "Forbidden", "writer")
    assert private.triples() == before


def test_description_and_health_stay_open(private):
    with private.client() as client:
        assert client.get("/sparql").status_code == 200
        assert client.get("/health").status_code == 200


def test_no_writer_keys_means_no_writes():
    with serve(feature_store(), make_settings(writer_keys=[])) as server, server.client() as client:
        before = server.triples()
        response = client.post("/update", data={"update": "CLEAR ALL"}, headers={"X-API-Key": "anything"})
        assert_error(response, 403, "Forbidden", "writer_keys")
        assert server.triples() == before


def test_json_error_body_is_valid_json(client):
    response = client.get("/sparql", params={"query": "SELECT"})
    assert json.loads(response.content)["error"] == "QuerySyntaxError"


def test_openapi_documents_the_protocol_parameters(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"]["/sparql"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"query", "default-graph-uri", "named-graph-uri", "format"}
    post = spec["paths"]["/sparql"]["post"]["requestBody"]["content"]
    assert {"application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded"} <= set(post)


def test_cors_when_configured():
    origin = "https://catalogue.example.org"
    with serve(feature_store(), make_settings(cors_origins=[origin])) as server, server.client() as client:
        preflight = client.options("/sparql", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        response = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin
