"""The sources a federation queries: a store in this process, or a SPARQL 1.1 Protocol endpoint.

Every source answers one thing, a SPARQL query in a given answer format, as bytes. The federation
sends CONSTRUCT sub-queries (N-Triples back) and, to describe a source, SELECT and ASK queries
(SPARQL JSON back). Every reply is limited in size and time, and every failure names the source.

>>> from kg.embedded import EmbeddedStore
>>> source = StoreSource("local", EmbeddedStore())
>>> source.request("ASK { ?s ?p ?o }", JSON)
b'{"head":{},"boolean":false}'
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from federation.errors import ConfigurationError, FederationError, ReplyTooLarge, SourceTimeout
from kg.errors import GeoKGError
from kg.store import Store

NTRIPLES = "application/n-triples"
JSON = "application/sparql-results+json"
_FORMAT_NAMES = {NTRIPLES: "ntriples", JSON: "json"}
DEFAULT_MAX_REPLY_BYTES = 256 << 20
DEFAULT_TIMEOUT = 60.0


class Source(ABC):
    """One source of the federation: ``name`` identifies it in the configuration and in every error."""

    name: str
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    partial: bool = False  # when it fails, answer without it, flagged as partial
    geosparql: str | None = None  # "full", "topology" or "none" as configured; None: found by probes

    @abstractmethod
    def request(self, sparql: str, accept: str, timeout: float | None = None) -> bytes:
        """The answer of ``sparql`` in the format ``accept`` (NTRIPLES or JSON)."""

    def rows(self, sparql: str, timeout: float | None = None) -> list[tuple]:
        """The rows of a SELECT query, as tuples of pyoxigraph terms (None where unbound)."""
        return _parsed(self.name, self.request(sparql, JSON, timeout), lambda answer: [tuple(row) for row in answer])

    def ask(self, sparql: str, timeout: float | None = None) -> bool:
        """The answer of an ASK query."""
        return _parsed(self.name, self.request(sparql, JSON, timeout), bool)

    def close(self) -> None:
        """Release connections."""

    def _too_large(self) -> ReplyTooLarge:
        return ReplyTooLarge(
            self.name,
            f"replied with more than {self.max_reply_bytes:,} bytes to one sub-query (setting max_reply_bytes). "
            "Make the query more selective (a class, a spatial or time filter on the same variables), "
            "or raise the source's max_reply_bytes in the federation's configuration.",
        )


class StoreSource(Source):
    """A store of this process (the server's own store, or a store opened from a directory)."""

    def __init__(self, name: str, store: Store, *, max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES, partial: bool = False):
        self.name, self.store, self.max_reply_bytes, self.partial = name, store, max_reply_bytes, partial
        self.geosparql = "full"  # our own engine

    def request(self, sparql: str, accept: str, timeout: float | None = None) -> bytes:
        failure = None
        try:
            result = self.store.query(sparql, timeout=timeout)
            try:
                reply = result.serialize(_FORMAT_NAMES[accept])
            finally:
                del result  # pyoxigraph answers die in the thread that made them
        except GeoKGError as error:
            failure = error.message  # raised below, so that no traceback holding the answer leaves this thread
        if failure is not None:
            raise FederationError(self.name, f"could not answer a sub-query: {failure}")
        if len(reply) > self.max_reply_bytes:
            raise self._too_large()
        return reply

    def __repr__(self) -> str:
        return f"StoreSource({self.name!r}, {self.store.backend})"


class EndpointSource(Source):
    """A remote SPARQL 1.1 Protocol endpoint (``oxigraph serve``'s /query, another eekg's /sparql ...).

    Sub-queries go by POST as ``application/sparql-query``; redirects are not followed (a source is
    the URL configured, nothing else); ``api_key`` is sent as ``Authorization: Bearer``.
    """

    def __init__(self, name: str, url: str, *, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES, partial: bool = False, geosparql: str | None = None,
                 basic_auth: tuple[str, str] | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"The source {name!r} has the URL {url!r}; a source URL is an http:// or https:// address of a SPARQL endpoint.")
        self.name, self.url, self.timeout, self.max_reply_bytes = name, url, timeout, max_reply_bytes
        self._api_key, self.partial, self.geosparql = api_key, partial, geosparql
        self._client = httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False, auth=basic_auth)

    def request(self, sparql: str, accept: str, timeout: float | None = None) -> bytes:
        headers = {"Accept": accept, "Content-Type": "application/sparql-query"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        limit = min(timeout or self.timeout, self.timeout)
        try:
            with self._client.stream("POST", self.url, content=sparql.encode(), headers=headers, timeout=limit) as response:
                if response.status_code >= 300:
                    raise self._refused(response)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_reply_bytes:
                        raise self._too_large()
                    chunks.append(chunk)
        except httpx.TimeoutException:
            raise SourceTimeout(self.name, f"at {self.url} did not answer within {limit:g} s. Try again, narrow the query, "
                                           "or raise the source's timeout in the federation's configuration.") from None
        except httpx.HTTPError as error:
            raise FederationError(self.name, f"at {self.url} cannot be reached ({type(error).__name__}: {error}). "
                                             "Check that it is running, or remove it from the federation's configuration.") from None
        return b"".join(chunks)

    def _refused(self, response: httpx.Response) -> FederationError:
        status = response.status_code
        if 300 <= status < 400:
            return FederationError(self.name, f"at {self.url} answered with a redirect to {response.headers.get('location')!r}; "
                                              "the federation does not follow redirects: configure the endpoint's final URL.")
        said = _said(response.read())
        if status in (401, 403):
            return FederationError(self.name, f"at {self.url} refused the federation's API key (HTTP {status}: {said}). "
                                              "Set the key it expects as the source's api_key_env in the federation's configuration.")
        if status == 504 or status == 503 and "timeout" in said.lower():
            return SourceTimeout(self.name, f"at {self.url} stopped a sub-query at its own time limit (HTTP {status}: {said}). "
                                            "Narrow the query, or raise that server's timeout.")
        return FederationError(self.name, f"at {self.url} failed to answer a sub-query (HTTP {status}: {said}). "
                                          "Check the source's log; remove the source from the configuration if it stays down.")

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"EndpointSource({self.name!r}, {self.url!r})"


def _parsed(source: str, reply: bytes, read):
    """``read`` applied to a SPARQL JSON reply. The parsed answer is made, read and dropped here, and an
    error leaves without frames that hold it (pyoxigraph answers must not be dropped on another thread)."""
    failure = None
    try:
        value = read(ox.parse_query_results(reply, ox.QueryResultsFormat.JSON))
    except (SyntaxError, ValueError) as error:
        failure = str(error)
    if failure is not None:
        raise FederationError(source, f"sent SPARQL JSON results that cannot be read: {failure}.")
    return value


def _said(body: bytes) -> str:
    """What a refusing server said, short: the message of our JSON errors, else the start of the text."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        import json

        try:
            text = str(json.loads(text).get("message", text))
        except (ValueError, AttributeError):
            pass
    return text[:300] + ("..." if len(text) > 300 else "") or "no message"
