"""Request-size limits, the query timeout, and errors no client should ever see as a stack trace."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from api_support import PREFIXES, Server, assert_error, feature_store, make_settings, serve

from kg.embedded import EmbeddedStore

LIMIT = 64 * 1024  # the shared server's max_request_bytes


def test_oversized_query_body(client, server):
    query = "ASK {}" + " " * LIMIT
    response = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    body = assert_error(response, 413, "RequestTooLarge", str(LIMIT))
    assert body["max_request_bytes"] == LIMIT


def test_oversized_streamed_body_without_content_length(writer, server):
    before = server.triples()

    def chunks() -> Iterator[bytes]:  # chunked transfer encoding: the size is only known while reading
        for i in range(200):
            yield f'<http://example.org/s{i}> <http://example.org/p> "{"x" * 500}" .\n'.encode()

    response = writer.put("/rdf-graphs/service", params={"graph": "http://example.org/big"}, content=chunks(),
                          headers={"Content-Type": "application/n-triples"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "RequestTooLarge", "more than")
    assert server.triples() == before
    assert writer.get("/rdf-graphs/service", params={"graph": "http://example.org/big"}).status_code == 404


def test_oversized_graph_store_body(writer, server):
    before = server.triples()
    body = b"".join(f'<http://example.org/s{i}> <http://example.org/p> "{i}" .\n'.encode() for i in range(3000))
    assert len(body) > LIMIT
    response = writer.post("/rdf-graphs/service?default", content=body, headers={"Content-Type": "application/n-triples"})
    assert_error(response, 413, "RequestTooLarge")
    assert server.triples() == before


def test_oversized_form(writer, server):
    before = server.triples()
    update = "INSERT DATA { " + "<http://example.org/a> <http://example.org/b> <http://example.org/c> . " * 1200 + "}"
    assert_error(writer.post("/sparql", data={"update": update}), 413, "RequestTooLarge")
    assert server.triples() == before


def test_the_server_keeps_answering_after_a_refused_body(client):
    client.post("/sparql", content=b"x" * (2 * LIMIT), headers={"Content-Type": "application/sparql-query"})
    assert client.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True


def test_long_get_query_string(client):
    query = "ASK {} #" + "x" * 9000
    assert_error(client.get("/sparql", params={"query": query}), 414, "URITooLong", "POST")
    ok = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert ok.json()["boolean"] is True


# --- the query timeout --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_server() -> Iterator[Server]:
    """A server with a 0.5 s timeout over 1,500 points: a distance cross join takes many seconds."""
    store = feature_store()
    rng = random.Random(1)
    lines = [
        f'<http://example.org/pt{i}> <http://www.opengis.net/ont/geosparql#asWKT> '
        f'"POINT({rng.uniform(16, 17):.5f} {rng.uniform(48, 49):.5f})"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .'
        for i in range(1500)
    ]
    store.load_data("\n".join(lines).encode(), "ntriples")
    with serve(store, make_settings(query_timeout=0.5)) as running:
        yield running


def test_slow_query_times_out(slow_server):
    query = PREFIXES + """SELECT ?a ?b ?d { ?a geo:asWKT ?x . ?b geo:asWKT ?y
                                            BIND(geof:distance(?x, ?y, uom:metre) AS ?d) }"""
    with slow_server.client() as client:
        started = time.perf_counter()
        response = client.get("/sparql", params={"query": query})
        elapsed = time.perf_counter() - started
        assert_error(response, 503, "QueryTimeout", "0.5 s", "LIMIT")
        assert elapsed < 5
        # the server is still there, and quick queries still answer
        assert client.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True


def test_other_requests_are_answered_during_a_slow_query(slow_server):
    """Store calls run in the thread pool, so the event loop answers other requests meanwhile."""
    import threading

    query = PREFIXES + "SELECT ?a ?b ?d { ?a geo:asWKT ?x . ?b geo:asWKT ?y BIND(geof:distance(?x, ?y, uom:metre) AS ?d) }"
    finished = {}
    with slow_server.client() as slow, slow_server.client() as quick:

        def slow_request() -> None:
            finished["status"] = slow.get("/sparql", params={"query": query}).status_code
            finished["slow"] = time.perf_counter()

        worker = threading.Thread(target=slow_request)
        worker.start()
        time.sleep(0.1)
        assert quick.get("/sparql", params={"query": "ASK {}"}).status_code == 200
        quick_done = time.perf_counter()
        worker.join()
    assert finished["status"] == 503
    assert quick_done < finished["slow"]  # answered while the slow query was still running


# --- unexpected errors --------------------------------------------------------------------------


class _BrokenStore(EmbeddedStore):
    """A store with a bug: its queries fail with an exception that is not a GeoKGError."""

    def query(self, sparql, **kwargs):
        raise RuntimeError("internal detail that must not leak")


def test_unexpected_error_is_a_json_500_without_details(caplog):
    caplog.set_level("ERROR", logger="eekg.api")
    with serve(_BrokenStore(), make_settings()) as broken, broken.client() as client:
        response = client.get("/sparql", params={"query": "ASK {}"})
    body = assert_error(response, 500, "InternalError", "logged")
    assert "internal detail" not in response.text
    assert body["message"]
    assert "internal detail that must not leak" in caplog.text  # but the server log has it
