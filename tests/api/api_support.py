"""Helpers of the HTTP tests: a real uvicorn server in a thread, the test data, error checks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from api.main import create_app
from api.settings import Settings
from kg.embedded import EmbeddedStore

WRITER_KEY = "test-writer-key"
READER_KEY = "test-reader-key"
EX = "http://example.org/"
NAMED_GRAPH = EX + "graphs/fields"

# Two fields near Vienna (CRS84: longitude latitude), a lake far away, two survey points:
# p1 inside field1, p2 about 111 m east of field1's eastern edge (0.0015 deg at 48.2 N).
FEATURES = f"""
@prefix ex: <{EX}> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

ex:field1 a geo:Feature ; rdfs:label "field 1" ; ex:crop "wheat" ;
    geo:hasGeometry ex:field1-geom .
ex:field1-geom a geo:Geometry ;
    geo:asWKT "POLYGON((16.30 48.20, 16.31 48.20, 16.31 48.21, 16.30 48.21, 16.30 48.20))"^^geo:wktLiteral .
ex:field2 a geo:Feature ; rdfs:label "field 2" ; ex:crop "maize" ;
    geo:hasGeometry ex:field2-geom .
ex:field2-geom a geo:Geometry ;
    geo:asWKT "POLYGON((16.32 48.20, 16.33 48.20, 16.33 48.21, 16.32 48.21, 16.32 48.20))"^^geo:wktLiteral .
ex:lake a geo:Feature ; rdfs:label "lake" ;
    geo:hasGeometry ex:lake-geom .
ex:lake-geom a geo:Geometry ;
    geo:asWKT "POLYGON((10 50, 11 50, 11 51, 10 51, 10 50))"^^geo:wktLiteral .
ex:p1 a geo:Feature ; rdfs:label "point 1" ;
    geo:hasGeometry ex:p1-geom .
ex:p1-geom a geo:Geometry ; geo:asWKT "POINT(16.305 48.205)"^^geo:wktLiteral .
ex:p2 a geo:Feature ; rdfs:label "point 2" ;
    geo:hasGeometry ex:p2-geom .
ex:p2-geom a geo:Geometry ; geo:asWKT "POINT(16.3115 48.205)"^^geo:wktLiteral .
""".encode()

NAMED = f"""
@prefix ex: <{EX}> .
ex:field1 ex:owner "Anna" .
ex:field2 ex:owner "Bernd" .
""".encode()


@dataclass
class Server:
    """A running server: its base URL, the store behind it and its settings."""

    url: str
    store: EmbeddedStore
    settings: Settings

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def triples(self) -> int:
        """Triples in the store, counted in-process (not through the server under test)."""
        return self.store.stats().triples


@contextmanager
def serve(store: EmbeddedStore, settings: Settings) -> Iterator[Server]:
    """Run the app in a uvicorn server in a background thread until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(store, settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield Server(f"http://127.0.0.1:{port}", store, settings)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def feature_store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_data(FEATURES, "turtle")
    store.load_data(NAMED, "turtle", graph=NAMED_GRAPH)
    return store


def make_settings(**overrides) -> Settings:
    values = {"writer_keys": [WRITER_KEY], "query_timeout": 20, "max_request_bytes": 64 * 1024}
    values.update(overrides)
    return Settings(**values)




PREFIXES = f"""PREFIX ex: <{EX}>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def assert_error(response: httpx.Response, status: int, kind: str | None = None, *words: str) -> dict:
    """The response is an error answer of the status (and kind), whose message mentions ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) >= {"error", "message"}, body
    assert "Traceback" not in body["message"]
    if kind is not None:
        assert body["error"] == kind, body
    for word in words:
        assert word.lower() in body["message"].lower(), body["message"]
    return body
