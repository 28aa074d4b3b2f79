"""The Graph Store HTTP Protocol at /rdf-graphs/service."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from api_support import EX, NAMED_GRAPH, assert_error

SERVICE = "/rdf-graphs/service"
TURTLE = {"Content-Type": "text/turtle"}


def graph(name: str) -> dict:
    return {"graph": f"{EX}gsp/{name}"}


def triples_of(response, format=ox.RdfFormat.TURTLE) -> set[tuple[str, str, str]]:
    assert response.status_code == 200, response.text
    return {(t.subject.value, t.predicate.value, t.object.value) for t in ox.parse(response.content, format)}


def ttl(*objects: str) -> bytes:
    return "".join(f'<{EX}s> <{EX}p> "{o}" .\n' for o in objects).encode()


def test_get_named_graph(client):
    response = client.get(SERVICE, params={"graph": NAMED_GRAPH})
    assert response.headers["content-type"].startswith("text/turtle")
    assert (EX + "field1", EX + "owner", "Anna") in triples_of(response)


@pytest.mark.parametrize(
    "accept, format",
    [("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/ld+json", ox.RdfFormat.JSON_LD),
     ("application/rdf+xml", ox.RdfFormat.RDF_XML)],
)
def test_get_by_accept(client, accept, format):
    response = client.get(SERVICE, params={"graph": NAMED_GRAPH}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    assert len(triples_of(response, format)) == 2


def test_get_default_graph(client):
    response = client.get(SERVICE + "?default", headers={"Accept": "application/n-triples"})
    objects = {o for _, _, o in triples_of(response, ox.RdfFormat.N_TRIPLES)}
    assert "field 1" in objects and "Anna" not in objects


def test_head(client):
    get = client.get(SERVICE, params={"graph": NAMED_GRAPH})
    head = client.head(SERVICE, params={"graph": NAMED_GRAPH})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    assert client.head(SERVICE, params=graph("missing")).status_code == 404


def test_put_creates_then_replaces(writer, client):
    assert writer.put(SERVICE, params=graph("put"), content=ttl("a", "b"), headers=TURTLE).status_code == 201
    assert {o for *_, o in triples_of(client.get(SERVICE, params=graph("put")))} == {"a", "b"}
    assert writer.put(SERVICE, params=graph("put"), content=ttl("c"), headers=TURTLE).status_code == 204
    assert {o for *_, o in triples_of(client.get(SERVICE, params=graph("put")))} == {"c"}


def test_post_adds(writer, client):
    assert writer.post(SERVICE, params=graph("post"), content=ttl("a"), headers=TURTLE).status_code == 201
    nt = {"Content-Type": "application/n-triples"}
    assert writer.post(SERVICE, params=graph("post"), content=ttl("b"), headers=nt).status_code == 204
    assert {o for *_, o in triples_of(client.get(SERVICE, params=graph("post")))} == {"a", "b"}


def test_put_json_ld(writer, client):
    body = f'{{"@id": "{EX}s", "{EX}p": "from json-ld"}}'.encode()
    response = writer.put(SERVICE, params=graph("jsonld"), content=body, headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 201, response.text
    assert {o for *_, o in triples_of(client.get(SERVICE, params=graph("jsonld")))} == {"from json-ld"}


def test_put_empty_body_creates_an_empty_graph(writer, client):
    assert writer.put(SERVICE, params=graph("empty"), content=b"", headers=TURTLE).status_code == 201
    response = client.get(SERVICE, params=graph("empty"))
    assert response.status_code == 200 and triples_of(response) == set()


def test_delete(writer, client):
    writer.put(SERVICE, params=graph("delete"), content=ttl("x"), headers=TURTLE)
    assert writer.delete(SERVICE, params=graph("delete")).status_code == 204
    assert_error(client.get(SERVICE, params=graph("delete")), 404, "NotFound", "PUT")
    assert_error(writer.delete(SERVICE, params=graph("delete")), 404, "NotFound", f"{EX}gsp/delete")


def test_broken_turtle_names_the_line_and_changes_nothing(writer, server):
    writer.put(SERVICE, params=graph("broken"), content=ttl("kept"), headers=TURTLE)
    before = server.triples()
    broken = ttl("one", "two") + f'<{EX}s> <{EX}p> "three" ;\n<{EX}s> .\n'.encode()
    for send in (writer.put, writer.post):
        response = send(SERVICE, params=graph("broken"), content=broken, headers=TURTLE)
        assert_error(response, 400, "LoadError", "line 4")
        assert server.triples() == before
    assert {o for *_, o in triples_of(writer.get(SERVICE, params=graph("broken")))} == {"kept"}


def test_invalid_geometry_in_body(writer, server):
    before = server.triples()
    body = (f'<{EX}g> <http://www.opengis.net/ont/geosparql#asWKT> '
            '"POLYGON((0 0, 1 1"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .').encode()
    response = writer.post(SERVICE, params=graph("geometry"), content=body, headers=TURTLE)
    assert_error(response, 400, None, "POLYGON((0 0, 1 1")
    assert server.triples() == before


@pytest.mark.parametrize("content_type", ["application/pdf", "", "application/n-quads", "multipart/form-data"])
def test_unknown_content_type(writer, server, content_type):
    before = server.triples()
    response = writer.put(SERVICE, params=graph("ct"), content=ttl("a"), headers={"Content-Type": content_type})
    body = assert_error(response, 415, "UnsupportedMediaType", "text/turtle")
    assert "application/n-triples" in body["accepted"]
    assert server.triples() == before


@pytest.mark.parametrize("method", ["put", "post", "delete"])
@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-API-Key": "nope"}, 403)])
def test_writes_need_the_writer_key(client, server, method, headers, status):
    before = server.triples()
    kwargs = {} if method == "delete" else {"content": b"", "headers": {**TURTLE, **headers}}
    if method == "delete":
        kwargs["headers"] = headers
    response = getattr(client, method)(SERVICE, params={"graph": NAMED_GRAPH}, **kwargs)
    assert_error(response, status, None, "writer")
    assert server.triples() == before


@pytest.mark.parametrize(
    "query, words",
    [("", "?default"), ("?default&graph=http%3A%2F%2Fex.org%2Fg", "exactly one"),
     ("?graph=a&graph=b", "exactly one")],
)
def test_name_exactly_one_graph(client, query, words):
    assert_error(client.get(SERVICE + query), 400, "BadRequest", words)


def test_bad_graph_iri(writer, server):
    before = server.triples()
    assert_error(writer.put(SERVICE, params={"graph": "not an iri"}, content=ttl("a"), headers=TURTLE),
                 400, "InvalidIRI", "not an iri")
    assert_error(writer.get(SERVICE, params={"graph": "relative/name"}), 400, "InvalidIRI")
    assert server.triples() == before


def test_not_acceptable(client):
    response = client.get(SERVICE, params={"graph": NAMED_GRAPH}, headers={"Accept": "text/csv"})
    assert "text/turtle; charset=utf-8" in assert_error(response, 406, "NotAcceptable")["offered"]


def test_put_default_graph_replaces_it(scratch):
    with scratch.client(headers={"X-API-Key": "test-writer-key"}) as writer:
        assert writer.put(SERVICE + "?default", content=ttl("only"), headers=TURTLE).status_code == 204
        assert {o for *_, o in triples_of(writer.get(SERVICE + "?default"))} == {"only"}
        named = writer.get(SERVICE, params={"graph": NAMED_GRAPH})
        assert len(triples_of(named)) == 2  # named graphs untouched
        assert writer.delete(SERVICE + "?default").status_code == 204
        assert triples_of(writer.get(SERVICE + "?default")) == set()
