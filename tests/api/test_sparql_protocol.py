"""SPARQL 1.1 Protocol queries over HTTP: the three ways to send them, datasets, result formats."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
from api_support import EX, NAMED_GRAPH, PREFIXES, assert_error

LABELS = PREFIXES + "SELECT ?f ?label { ?f a geo:Feature ; rdfs:label ?label } ORDER BY ?label"
ALL_LABELS = ["field 1", "field 2", "lake", "point 1", "point 2"]
SRX = "{http://www.w3.org/2005/sparql-results#}"


def labels_of(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["label"]["value"] for row in response.json()["results"]["bindings"]]


def test_get_query(client):
    response = client.get("/sparql", params={"query": LABELS})
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert labels_of(response) == ALL_LABELS


def test_post_sparql_query_body(client):
    response = client.post("/sparql", content=LABELS, headers={"Content-Type": "application/sparql-query"})
    assert labels_of(response) == ALL_LABELS


def test_post_form(client):
    response = client.post("/sparql", data={"query": LABELS})
    assert labels_of(response) == ALL_LABELS


def test_post_form_with_charset_and_unicode(client):
    query = PREFIXES + 'SELECT ?label { BIND("Grünland ≥ 30 %" AS ?label) }'
    body = "query=" + __import__("urllib.parse").parse.quote(query)
    response = client.post(
        "/sparql", content=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
    )
    assert labels_of(response) == ["Grünland ≥ 30 %"]


OWNERS = PREFIXES + "SELECT ?owner { ?f ex:owner ?owner } ORDER BY ?owner"
NAMED_OWNERS = PREFIXES + "SELECT ?g ?owner { GRAPH ?g { ?f ex:owner ?owner } } ORDER BY ?owner"


def test_default_graph_is_not_the_union(client):
    response = client.get("/sparql", params={"query": OWNERS})
    assert response.json()["results"]["bindings"] == []


def test_default_graph_uri(client):
    response = client.get("/sparql", params={"query": OWNERS, "default-graph-uri": NAMED_GRAPH})
    assert [r["owner"]["value"] for r in response.json()["results"]["bindings"]] == ["Anna", "Bernd"]


def test_default_graph_uri_in_form_and_url_of_query_post(client):
    form = client.post("/sparql", data={"query": OWNERS, "default-graph-uri": NAMED_GRAPH})
    url = client.post(
        "/sparql", params={"default-graph-uri": NAMED_GRAPH}, content=OWNERS,
        headers={"Content-Type": "application/sparql-query"},
    )
    for response in (form, url):
        assert [r["owner"]["value"] for r in response.json()["results"]["bindings"]] == ["Anna", "Bernd"]


def test_named_graph_uri_limits_the_named_graphs(client):
    chosen = client.get("/sparql", params={"query": NAMED_OWNERS, "named-graph-uri": NAMED_GRAPH})
    assert {r["g"]["value"] for r in chosen.json()["results"]["bindings"]} == {NAMED_GRAPH}
    other = client.get("/sparql", params={"query": NAMED_OWNERS, "named-graph-uri": EX + "graphs/none"})
    assert other.json()["results"]["bindings"] == []


def test_bad_graph_iri(client):
    response = client.get("/sparql", params={"query": OWNERS, "default-graph-uri": "not an iri"})
    assert_error(response, 400, "InvalidIRI", "default-graph-uri", "absolute IRI")


# --- result formats -----------------------------------------------------------------------------


def test_xml_results(client):
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+xml"})
    assert response.headers["content-type"] == "application/sparql-results+xml"
    root = ET.fromstring(response.content)
    labels = [b.find(f"{SRX}literal").text for b in root.iter(f"{SRX}binding") if b.get("name") == "label"]
    assert labels == ALL_LABELS


def test_csv_results(client):
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["label"] for r in rows] == ALL_LABELS
    assert rows[0]["f"] == EX + "field1"


def test_tsv_results(client):
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/tab-separated-values"})
    assert response.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    header, *rows = [line.split("\t") for line in response.text.splitlines()]
    assert header == ["?f", "?label"]
    assert [r[1] for r in rows] == [f'"{label}"' for label in ALL_LABELS]
    assert rows[0][0] == f"<{EX}field1>"


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("", "application/sparql-results+json"),
        ("text/*", "text/csv; charset=utf-8"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/csv;q=0.9, application/sparql-results+xml;q=0.5", "text/csv; charset=utf-8"),
        ("text/tab-separated-values, */*;q=0.1", "text/tab-separated-values; charset=utf-8"),
        ("application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
    ],
)
def test_result_negotiation(client, accept, expected):
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == expected
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize("format, expected", [("csv", "text/csv"), ("xml", "application/sparql-results+xml"),
                                              ("tsv", "text/tab-separated-values"), ("text/csv", "text/csv")])
def test_format_parameter_overrides_accept(client, format, expected):
    response = client.get("/sparql", params={"query": LABELS, "format": format}, headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith(expected)


def test_not_acceptable_lists_offered_types(client):
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/html"})
    body = assert_error(response, 406, "NotAcceptable", "text/html")
    assert "application/sparql-results+json" in body["offered"]
    assert "text/csv; charset=utf-8" in body["offered"]


def test_unknown_format_parameter(client):
    response = client.get("/sparql", params={"query": LABELS, "format": "pdf"})
    assert_error(response, 406, "NotAcceptable", "pdf")


def test_ask(client):
    query = PREFIXES + "ASK { ex:field1 a geo:Feature }"
    assert client.get("/sparql", params={"query": query}).json() == {"head": {}, "boolean": True}
    xml = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+xml"})
    assert ET.fromstring(xml.content).find(f"{SRX}boolean").text == "true"


# --- CONSTRUCT and DESCRIBE ----------------------------------------------------------------------

CONSTRUCT = PREFIXES + "CONSTRUCT { ?f rdfs:label ?label } WHERE { ?f a geo:Feature ; rdfs:label ?label }"


def labels_in_graph(data: bytes, format: ox.RdfFormat) -> set[str]:
    return {t.object.value for t in ox.parse(data, format)}


@pytest.mark.parametrize(
    "accept, media_type, format",
    [
        (None, "text/turtle", ox.RdfFormat.TURTLE),
        ("*/*", "text/turtle", ox.RdfFormat.TURTLE),
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_construct_formats(client, accept, media_type, format):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert labels_in_graph(response.content, format) == set(ALL_LABELS)


def test_construct_as_json_ld_is_json(client):
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "application/ld+json"})
    assert isinstance(json.loads(response.content), (list, dict))


def test_construct_rdf_xml_parses_as_xml(client):
    response = client.get("/sparql", params={"query": CONSTRUCT, "format": "rdfxml"})
    assert ET.fromstring(response.content).tag == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"


def test_describe(client):
    response = client.post(
        "/sparql", content=PREFIXES + "DESCRIBE ex:field1",
        headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"},
    )
    graph = list(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))
    assert {t.object.value for t in graph} >= {"field 1", "wheat"}


def test_construct_not_acceptable_as_csv(client):
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    body = assert_error(response, 406, "NotAcceptable")
    assert "text/turtle; charset=utf-8" in body["offered"]


# --- malformed requests --------------------------------------------------------------------------


def test_syntax_error_names_line_and_column(client):
    response = client.get("/sparql", params={"query": "SELECT ?s\nWHERE { ?s ?p }"})
    body = assert_error(response, 400, "QuerySyntaxError", "line 2")
    assert "column" in body["message"]


def test_update_by_get_is_refused(client, server):
    before = server.triples()
    response = client.get("/sparql", params={"update": "CLEAR ALL"})
    assert_error(response, 405, "MethodNotAllowed", "POST")
    assert server.triples() == before


def test_query_and_update_together(client):
    response = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert_error(response, 400, "BadRequest", "not both")


def test_two_queries(client):
    response = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert_error(response, 400, "BadRequest", "exactly one")


def test_form_without_operation(client):
    assert_error(client.post("/sparql", data={"nothing": "here"}), 400, "BadRequest", "query=")


def test_unknown_content_type(client):
    response = client.post("/sparql", content=b"ASK {}", headers={"Content-Type": "application/pdf"})
    body = assert_error(response, 415, "UnsupportedMediaType", "application/sparql-query")
    assert "application/x-www-form-urlencoded" in body["accepted"]


def test_missing_content_type(client):
    response = client.post("/sparql", content=b"ASK {}", headers={"Content-Type": ""})
    assert_error(response, 415, "UnsupportedMediaType")


def test_body_not_utf8(client):
    response = client.post("/sparql", content=b"ASK { \xff }", headers={"Content-Type": "application/sparql-query"})
    assert_error(response, 400, "BadRequest", "UTF-8")


def test_service_is_refused(client):
    query = "SELECT * { SERVICE <http://dbpedia.org/sparql> { ?s ?p ?o } }"
    assert_error(client.get("/sparql", params={"query": query}), 501, "UnsupportedFeature", "SERVICE")


def test_unknown_path_and_method_are_json(client):
    assert_error(client.get("/nothing-here"), 404, "NotFound", "/docs")
    assert_error(client.delete("/sparql"), 405, "MethodNotAllowed", "DELETE")
