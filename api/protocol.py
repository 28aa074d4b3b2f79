"""Reading SPARQL 1.1 Protocol requests: the operation, its dataset, and a size-limited body.

The three ways to send an operation (SPARQL 1.1 Protocol, sections 2.1 and 2.2):

- ``GET /sparql?query=...`` (updates may not be sent by GET);
- ``POST`` with ``Content-Type: application/sparql-query`` or ``application/sparql-update``, the
  operation as the body and the dataset parameters in the URL;
- ``POST`` with ``Content-Type: application/x-www-form-urlencoded``, ``query=`` or ``update=`` and the
  dataset parameters in the body.

Form bodies are parsed here from the raw bytes (no multipart dependency), after the size check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request

from api.errors import BadRequest, InvalidIRI, RequestTooLarge, UnsupportedMediaType, URITooLong
from api.settings import Settings

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"
OPERATION_TYPES = (QUERY_TYPE, UPDATE_TYPE, FORM_TYPE)

_DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")


@dataclass
class Operation:
    """One protocol request: a query or an update, with the graphs it names and the format asked for."""

    query: str | None = None
    update: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    using_graphs: list[str] = field(default_factory=list)
    using_named_graphs: list[str] = field(default_factory=list)
    format: str | None = None

    @property
    def is_empty(self) -> bool:
        """A request with neither query nor update: it asks for the service description."""
        return self.query is None and self.update is None


def operation_from_url(request: Request, settings: Settings) -> Operation:
    """The operation of a GET request, from its query string."""
    check_query_string(request, settings)
    return _operation(list(request.query_params.multi_items()))


async def operation_from_body(request: Request, settings: Settings) -> Operation:
    """The operation of a POST request, by its Content-Type."""
    check_query_string(request, settings)
    url_parameters = list(request.query_params.multi_items())
    content_type = _essence(request.headers.get("content-type"))
    if content_type not in OPERATION_TYPES:
        raise UnsupportedMediaType(
            f"A SPARQL request body must be sent with one of the Content-Types {list(OPERATION_TYPES)}; "
            f"got {request.headers.get('content-type') or 'none'!r}.",
            extra={"accepted": list(OPERATION_TYPES)},
        )
    body = await read_body(request, settings)
    if content_type == FORM_TYPE:
        return _operation(parse_form(body) + url_parameters)
    text = decode_utf8(body, "The request body")
    key = "query" if content_type == QUERY_TYPE else "update"
    if any(name in ("query", "update") for name, _ in url_parameters):
        raise BadRequest(
            f"With Content-Type {content_type} the {key} is the request body; "
            "do not also send query= or update= in the URL."
        )
    return _operation([(key, text), *url_parameters])


def _operation(parameters: list[tuple[str, str]]) -> Operation:
    """The operation named by protocol parameters; other parameters are ignored."""
    values: dict[str, list[str]] = {}
    for name, value in parameters:
        values.setdefault(name, []).append(value)
    queries, updates = values.get("query", []), values.get("update", [])
    if queries and updates:
        raise BadRequest("A request carries either a query or an update, not both; send them separately.")
    if len(queries) > 1 or len(updates) > 1:
        raise BadRequest("A request carries exactly one query= or update= parameter; send one operation at a time.")
    formats = values.get("format", [])
    graphs = {name: [check_graph_iri(iri, name) for iri in values.get(name, [])] for name in _DATASET_PARAMETERS}
    return Operation(
        query=queries[0] if queries else None,
        update=updates[0] if updates else None,
        default_graphs=graphs["default-graph-uri"],
        named_graphs=graphs["named-graph-uri"],
        using_graphs=graphs["using-graph-uri"],
        using_named_graphs=graphs["using-named-graph-uri"],
        format=formats[-1] if formats else None,
    )


def check_graph_iri(iri: str, parameter: str) -> str:
    """The IRI if it is absolute and well formed, else 400 naming the parameter.

    >>> check_graph_iri("http://example.org/g", "graph")
    'http://example.org/g'
    """
    from pyoxigraph import NamedNode  # the store's own IRI rules decide what it will accept

    try:
        NamedNode(iri)
    except ValueError as error:
        raise InvalidIRI(
            f"{parameter}={iri!r} is not an absolute IRI ({error}); "
            "name graphs by absolute IRIs such as http://example.org/graphs/1, percent-encoded in the URL."
        ) from None
    return iri


def check_query_string(request: Request, settings: Settings) -> None:
    """414 when the URL's query string is over the limit, saying to POST instead."""
    size = len(request.scope.get("query_string", b""))
    if size > settings.max_query_string_bytes:
        raise URITooLong(
            f"The URL's query string has {size} bytes; this server accepts at most "
            f"{settings.max_query_string_bytes}. Send long queries by POST with "
            f"Content-Type {QUERY_TYPE} instead."
        )


async def read_body(request: Request, settings: Settings) -> bytes:
    """The request body, refused with 413 as soon as it is known to be over the limit."""
    limit = settings.max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest(f"Content-Length {declared!r} is not a number of bytes.") from None
        if size > limit:
            raise _too_large(f"{size} bytes", limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit} bytes", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: str, limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body has {size}; this server accepts at most {limit} bytes per request "
        "(setting max_request_bytes). Split the data into smaller requests, or load large files "
        "with `eekg load`.",
        extra={"max_request_bytes": limit},
    )


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The fields of an application/x-www-form-urlencoded body.

    >>> parse_form(b"query=SELECT+*+%7B%7D&default-graph-uri=urn%3Ag")
    [('query', 'SELECT * {}'), ('default-graph-uri', 'urn:g')]
    """
    text = decode_utf8(body, "The form body")
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"The form body is not valid application/x-www-form-urlencoded UTF-8: {error}.") from None


def decode_utf8(body: bytes, what: str) -> str:
    """The body as text; SPARQL is UTF-8, so anything else is a 400."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"{what} is not valid UTF-8 (byte {error.start}); send SPARQL as UTF-8 text.") from None


def _essence(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()
