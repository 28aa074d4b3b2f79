"""Bad input and failing sources give clear errors naming what was wrong and what to do."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from federation_support import PREFIXES, READER_KEY, eekg_server, oxigraph_server, store_of

from federation import Description, EndpointSource, Federation, FederationError, ReplyTooLarge, SourceTimeout, StoreSource, UnknownSource
from federation.config import load_federation
from federation.errors import ConfigurationError
from kg.embedded import EmbeddedStore
from kg.errors import InvalidGeometry, QuerySyntaxError, UnsupportedFeature

FIELDS = PREFIXES + "SELECT ?f { ?f a ex:Field }"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_source_that_is_down_is_named(data):
    url = f"http://127.0.0.1:{_closed_port()}/sparql"
    with Federation([StoreSource("local", store_of(data["local"])), EndpointSource("gone", url)]) as federation:
        with pytest.raises(FederationError, match=r"'gone' at .* cannot be reached.*Check that it is running"):
            federation.query(FIELDS)


def test_a_wrong_api_key_is_reported_as_such(data, eekg_url):
    with Federation([EndpointSource("eekg", eekg_url, api_key="not-the-key")]) as federation:
        with pytest.raises(FederationError, match=r"'eekg' .* refused the federation's API key \(HTTP 403"):
            federation.query(FIELDS)


def test_a_reply_over_the_limit_says_how_to_narrow_it(data, oxigraph_url):
    with Federation([EndpointSource("oxigraph", oxigraph_url, max_reply_bytes=2000)]) as federation:
        with pytest.raises(ReplyTooLarge, match=r"more than 2,000 bytes.*more selective"):
            federation.query(PREFIXES + "SELECT * { ?s ?p ?o }")
        assert federation.query(PREFIXES + "SELECT ?c { <http://example.org/field1> ex:crop ?c }").bindings()


def test_a_source_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/sparql"
        with Federation([EndpointSource("silent", url, timeout=0.5)], timeout=5) as federation:
            with pytest.raises(SourceTimeout, match=r"'silent' .* did not answer within 0.5 s"):
                federation.query(FIELDS)


def test_invalid_geometry_at_a_source_names_the_source():
    broken = b'<http://ex.org/a> <http://www.opengis.net/ont/geosparql#asWKT> "POLYGON((0 0, 1"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .\n'
    with oxigraph_server(broken) as url:
        with Federation([EndpointSource("broken", url)]) as federation:  # found when describing it
            with pytest.raises(FederationError, match=r"'broken' holds a geometry literal we cannot read: invalid WKT"):
                federation.query("SELECT ?g { ?a geo:asWKT ?g }")
        described = {"broken": Description("broken", 1, {"http://www.opengis.net/ont/geosparql#asWKT": 1})}
        with Federation([EndpointSource("broken", url)], described) as federation:  # found in a reply
            with pytest.raises(FederationError, match=r"'broken' sent data we cannot use: .*invalid WKT"):
                federation.query("SELECT ?g { ?a geo:asWKT ?g }")


def test_bad_queries_fail_before_any_source_is_asked(federation):
    with pytest.raises(QuerySyntaxError, match="line 1"):
        federation.query("SELECT ?f WHERE { ?f a }")
    with pytest.raises(QuerySyntaxError, match="geof:sfIntersect is not"):
        federation.query("SELECT * { ?a geo:asWKT ?g FILTER(geof:sfIntersect(?g, ?g)) }")
    with pytest.raises(UnknownSource, match=r"SERVICE <http://127.0.0.1:1/sparql> is not one of the federation's sources"):
        federation.query("SELECT * { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }")
    with pytest.raises(UnsupportedFeature, match="GRAPH"):
        federation.query("SELECT * { GRAPH ?g { ?s ?p ?o } }")
    with pytest.raises(UnsupportedFeature, match="Update"):
        federation.update("INSERT DATA { <http://a> <http://b> <http://c> }")
    with pytest.raises(UnknownSource, match=r"No source is named 'nope'.*\['eekg', 'local', 'oxigraph'\]"):
        federation.query(FIELDS, sources=["nope"])


def test_invalid_wkt_in_a_query_is_reported(federation):
    with pytest.raises(InvalidGeometry, match=r"invalid WKT literal \"POLYGON\(\(16 48, 17\""):
        federation.query(PREFIXES + 'SELECT ?f { ?f geo:hasGeometry/geo:asWKT ?g '
                         'FILTER(geof:sfIntersects(?g, "POLYGON((16 48, 17"^^geo:wktLiteral)) }').bindings()


def test_configuration_errors_name_the_entry(tmp_path, monkeypatch):
    config = tmp_path / "federation.toml"
    config.write_text('[[source]]\nname = "a"\nurl = "http://127.0.0.1:1/sparql"\ncolour = "red"\n')
    with pytest.raises(ConfigurationError, match=r"source 1 \('a'\) has unknown settings \['colour'\]"):
        load_federation(config)
    config.write_text('[[source]]\nname = "a"\nurl = "file:///etc/passwd"\n')
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        load_federation(config)
    config.write_text('[[source]]\nname = "a"\nurl = "http://127.0.0.1:1/sparql"\napi_key_env = "EEKG_TEST_NO_SUCH_KEY"\n')
    monkeypatch.delenv("EEKG_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(ConfigurationError, match=r"\$EEKG_TEST_NO_SUCH_KEY, which is not set"):
        load_federation(config)
    config.write_text('[[source]]\nname = "a"\nstore = "self"\n')
    with pytest.raises(ConfigurationError, match="no serving store"):
        load_federation(config)


# --- over HTTP: our server configured with a federation ---------------------------------------


@pytest.fixture(scope="module")
def federated_server(tmp_path_factory, data, oxigraph_url, eekg_url):
    """Our server over its own store (the 'local' data), answering /sparql over all three sources."""
    config = tmp_path_factory.mktemp("federation") / "federation.toml"
    config.write_text(f'''timeout = 20
[[source]]
name = "oxigraph"
url = "{oxigraph_url}"
[[source]]
name = "eekg"
url = "{eekg_url}"
api_key_env = "EEKG_TEST_FEDERATION_KEY"
[[source]]
name = "local"
store = "self"
''')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EEKG_TEST_FEDERATION_KEY", READER_KEY)
        with eekg_server(store_of(data["local"]), federation=config, writer_keys=["w"]) as url:
            yield url


def test_the_endpoint_answers_over_the_federation(federated_server, reference):
    query = PREFIXES + "SELECT ?f ?owner ?label { ?f ex:owner ?owner ; ex:crop/skos:prefLabel ?label FILTER(LANG(?label) = 'en') }"
    response = httpx.post(federated_server, content=query, headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    rows = response.text.strip().splitlines()[1:]
    assert len(rows) == len(reference.query(query).bindings()) == 34


def test_endpoint_errors_are_json_with_status(federated_server):
    bad = httpx.get(federated_server, params={"query": "SELECT ?f WHERE { ?f a }"})
    assert bad.status_code == 400 and bad.json()["error"] == "QuerySyntaxError"
    service = httpx.get(federated_server, params={"query": "SELECT * { GRAPH ?g { ?s ?p ?o } }"})
    assert service.status_code == 501 and "GRAPH" in service.json()["message"]
    update = httpx.post(federated_server, content="INSERT DATA { <http://a> <http://b> <http://c> }",
                        headers={"Content-Type": "application/sparql-update", "X-API-Key": "w"})
    assert update.status_code == 204  # updates go to the server's own store


def test_endpoint_reports_a_failing_source(tmp_path, data):
    config = tmp_path / "federation.toml"
    config.write_text(f'[[source]]\nname = "gone"\nurl = "http://127.0.0.1:{_closed_port()}/sparql"\n')
    with eekg_server(EmbeddedStore(), federation=config) as url:
        response = httpx.get(url, params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.status_code == 502
    body = response.json()
    assert body["error"] == "FederationError" and "'gone'" in body["message"] and "Traceback" not in body["message"]


def test_service_reads_only_the_configured_endpoint_it_names(federation, oxigraph_url, data):
    """SERVICE <oxigraph> sees Oxigraph's fields only; the rest of the query sees every source."""
    query = PREFIXES + f"SELECT ?f ?o {{ ?f ex:owner ?o SERVICE <{oxigraph_url}> {{ ?f a ex:Field }} }}"
    answer = federation.query(query)
    alone = store_of(data["oxigraph"])
    owners = store_of(data["local"])
    expected = {r["f"].value for r in owners.query(PREFIXES + "SELECT ?f { ?f ex:owner ?o }").bindings()
                if alone.query(f"ASK {{ <{r['f'].value}> a <http://example.org/Field> }}").boolean()}
    assert {r["f"].value for r in answer.bindings()} == expected and 0 < len(expected) < 34
    assert {f.source for f in answer.report.fetched if "Field" in f.sparql} == {"oxigraph"}


def test_a_source_configured_as_partial_leaves_the_answer_flagged(data, oxigraph_url):
    gone = f"http://127.0.0.1:{_closed_port()}/sparql"
    sources = lambda partial: [EndpointSource("oxigraph", oxigraph_url), StoreSource("local", store_of(data["local"])),  # noqa: E731
                               EndpointSource("gone", gone, partial=partial)]
    described = {"gone": Description("gone", 1, {"http://example.org/owner": 1})}
    with Federation(sources(True), described) as federation:
        answer = federation.query(PREFIXES + "SELECT ?f { ?f ex:owner ?o }")
        assert answer.partial and [f.source for f in answer.report.failed] == ["gone"]
        assert len(answer.bindings()) == 34
    with Federation(sources(False), described) as federation:
        with pytest.raises(FederationError, match="'gone'"):
            federation.query(PREFIXES + "SELECT ?f { ?f ex:owner ?o }")


# --- SERVICE: configured endpoints only, and never a request elsewhere ----------------------------


class _Recorder:
    """An HTTP server on 127.0.0.1 that records every request it gets (and answers an empty result)."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        requests = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                requests.append(self.path)
                self._answer()

            def do_POST(self):  # noqa: N802
                requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self):
                body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def recorder():
    running = _Recorder()
    yield running
    running.close()


def test_service_to_an_unconfigured_url_is_refused_and_never_contacted(federation, recorder, federated_server):
    httpx.get(recorder.url)  # the recorder works: it sees this one
    assert len(recorder.requests) == 1
    for service in (f"SERVICE <{recorder.url}>", f"SERVICE SILENT <{recorder.url}>"):
        query = PREFIXES + f"SELECT * {{ ?f a ex:Field {service} {{ ?f ex:owner ?o }} }}"
        with pytest.raises(UnknownSource, match=r"is not one of the federation's sources.*contacts no other server"):
            federation.query(query)
        response = httpx.post(federated_server, content=query, headers={"Content-Type": "application/sparql-query"})
        assert response.status_code == 400 and "UnknownSource" == response.json()["error"]
    prefixed = PREFIXES + f"PREFIX far: <{recorder.url.rsplit('/', 1)[0]}/>\nSELECT * {{ SERVICE far:sparql {{ ?s ?p ?o }} }}"
    with pytest.raises(UnknownSource):
        federation.query(prefixed)
    assert len(recorder.requests) == 1  # nothing more reached it


def test_service_names_a_configured_source_by_url_or_by_name(federation, reference, data, oxigraph_url):
    by_name = PREFIXES + "SELECT ?f ?o { ?f a ex:Field SERVICE <urn:eekg:source:local> { ?f ex:owner ?o } }"
    answer = federation.query(by_name)
    assert len(answer.bindings()) == 34 and {f.source for f in answer.report.fetched if "owner" in f.sparql} == {"local"}
    by_url = PREFIXES + f"SELECT (COUNT(*) AS ?n) {{ SERVICE <{oxigraph_url}> {{ ?f a ex:Field }} }}"
    assert int(federation.query(by_url).bindings()[0]["n"].value) == 60  # oxigraph's fields only, not the union's 100
    assert int(reference.query(PREFIXES + "SELECT (COUNT(*) AS ?n) { ?f a ex:Field }").bindings()[0]["n"].value) == 100


def test_the_endpoint_flags_partial_answers(tmp_path, data):
    config = tmp_path / "federation.toml"
    config.write_text(f'[[source]]\nname = "local"\nstore = "self"\n'
                      f'[[source]]\nname = "gone"\nurl = "http://127.0.0.1:{_closed_port()}/sparql"\npartial = true\n')
    with eekg_server(store_of(data["local"]), federation=config) as url:
        response = httpx.get(url, params={"query": PREFIXES + "SELECT ?f { ?f ex:owner ?o }"},
                             headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and response.headers["X-EEKG-Partial"] == "gone"
    assert len(response.json()["results"]["bindings"]) == 34
