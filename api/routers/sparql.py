"""The SPARQL 1.1 Protocol endpoint: queries at /sparql, updates at /sparql and /update.

Store calls run in the thread pool (pyoxigraph releases the GIL), so slow queries do not block
other requests. A query is prepared first (syntax errors are 400 before any work), the answer
format is negotiated from its form, and evaluation happens while serialising, under the timeout.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.concurrency import in_one_thread
from api.deps import SettingsDep, StoreDep, check_reader, check_writer
from api.description import service_description
from api.errors import BadRequest, MethodNotAllowed
from api.negotiation import GRAPH_OFFERS, RESULT_OFFERS, Offer, choose_offer
from api.protocol import UPDATE_TYPE, Operation, operation_from_body, operation_from_url
from api.settings import Settings
from kg.errors import UnsupportedFeature
from kg.store import Store

router = APIRouter(tags=["SPARQL 1.1 Protocol"])

def _parameter(name: str, description: str, array: bool = False) -> dict:
    schema = {"type": "array", "items": {"type": "string"}} if array else {"type": "string"}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_DATASET = [
    _parameter("default-graph-uri", "Graph IRI to use as the default graph (repeatable).", array=True),
    _parameter("named-graph-uri", "Graph IRI to use as a named graph (repeatable).", array=True),
]
_FORMAT = _parameter("format", "Answer format overriding Accept: json, xml, csv, tsv; turtle, ntriples, jsonld, rdfxml.")
_GET_DOCS = {"parameters": [_parameter("query", "The SPARQL query; leave out for the service description."),
                            *_DATASET, _FORMAT]}
_FORM = {"type": "object", "properties": {"query": {"type": "string"}, "update": {"type": "string"},
                                          "default-graph-uri": {"type": "string"}, "named-graph-uri": {"type": "string"}}}
_POST_DOCS = {
    "parameters": [*_DATASET, _FORMAT],
    "requestBody": {
        "required": True,
        "content": {
            "application/sparql-query": {"schema": {"type": "string"}, "example": "SELECT * { ?s ?p ?o } LIMIT 10"},
            "application/sparql-update": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {"schema": _FORM},
        },
    },
}
_UPDATE_DOCS = {"requestBody": {"required": True, "content": {
    "application/sparql-update": {"schema": {"type": "string"}, "example": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"},
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"update": {"type": "string"}}}},
}}}
_ANSWERS = {
    200: {
        "description": "SPARQL results (JSON, XML, CSV, TSV) or RDF (Turtle, N-Triples, JSON-LD, RDF/XML) by Accept.",
        "content": {o.essence: {} for o in RESULT_OFFERS + GRAPH_OFFERS},
    }
}


@router.get("/sparql", name="sparql", responses=_ANSWERS, openapi_extra=_GET_DOCS)
async def sparql_get(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Answer a SPARQL query sent as ?query=; without a query, describe the service (SPARQL 1.1 Service Description)."""
    operation = operation_from_url(request, settings)
    if operation.update is not None:
        raise MethodNotAllowed(f"Updates cannot be sent by GET; POST them with Content-Type {UPDATE_TYPE}.")
    if operation.is_empty:
        return describe_service(request, operation)
    check_reader(request, settings)
    return await answer_query(request, store, settings, operation)


@router.post("/sparql", responses=_ANSWERS, openapi_extra=_POST_DOCS)
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Answer a query or apply an update sent as application/sparql-query, application/sparql-update or a form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == UPDATE_TYPE:
        check_writer(request, settings)  # refuse before reading a body that would be refused anyway
    operation = await operation_from_body(request, settings)
    if operation.update is not None:
        return await apply_update(request, store, settings, operation)
    if operation.query is None:
        raise BadRequest("The form has neither a query= nor an update= field; send one of them.")
    check_reader(request, settings)
    return await answer_query(request, store, settings, operation)


@router.post("/update", status_code=204, openapi_extra=_UPDATE_DOCS)
async def update_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Apply a SPARQL 1.1 Update sent as application/sparql-update or a form with update=; needs a writer key."""
    check_writer(request, settings)
    operation = await operation_from_body(request, settings)
    if operation.update is None:
        raise BadRequest("/update takes updates only (update= or application/sparql-update); send queries to /sparql.")
    return await apply_update(request, store, settings, operation)


async def answer_query(request: Request, store: Store, settings: Settings, operation: Operation) -> Response:
    """Evaluate a query and serialise its answer in the negotiated format."""
    if operation.using_graphs or operation.using_named_graphs:
        raise BadRequest("using-graph-uri and using-named-graph-uri belong to updates; for queries use default-graph-uri.")
    accept = request.headers.get("accept")
    store = request.app.state.federation or store  # a configured federation answers queries; updates stay local
    body, offer, partial = await in_one_thread(evaluate, store, operation, accept, settings.query_timeout)
    headers = {"Vary": "Accept"}
    if partial:  # federation: sources configured as partial failed (docs/federation.md)
        headers[PARTIAL_HEADER] = ", ".join(partial)
    return Response(body, media_type=offer.media_type, headers=headers)


PARTIAL_HEADER = "X-EEKG-Partial"  # names the federation's sources that failed, when the answer goes on without them


def evaluate(store: Store, operation: Operation, accept: str | None, timeout: float) -> tuple[bytes, Offer, list[str]]:
    """Prepare, negotiate and serialise; pyoxigraph answers must live and die in one thread."""
    explicit = bool(operation.default_graphs or operation.named_graphs)  # then they are the whole dataset
    result = store.query(
        operation.query,
        timeout=timeout,
        default_graphs=operation.default_graphs if explicit else None,
        named_graphs=operation.named_graphs if explicit else None,
    )
    try:
        offer = choose_offer(accept, GRAPH_OFFERS if result.form == "GRAPH" else RESULT_OFFERS, operation.format)
        report = getattr(result, "report", None)  # a federated answer
        return result.serialize(offer.name), offer, sorted({f.source for f in report.failed}) if report else []
    finally:
        del result


async def apply_update(request: Request, store: Store, settings: Settings, operation: Operation) -> Response:
    """Apply an update atomically, after checking the writer key."""
    check_writer(request, settings)
    if operation.using_graphs or operation.using_named_graphs:
        raise UnsupportedFeature(
            "The using-graph-uri and using-named-graph-uri protocol parameters",
            hint="Write USING and USING NAMED clauses (or WITH) into the update itself.",
        )
    if operation.default_graphs or operation.named_graphs:
        raise BadRequest("default-graph-uri and named-graph-uri belong to queries; in an update write USING or WITH.")
    await in_one_thread(store.update, operation.update, timeout=settings.query_timeout)
    return Response(status_code=204)


def describe_service(request: Request, operation: Operation) -> Response:
    """The service description in the negotiated RDF format."""
    offer = choose_offer(request.headers.get("accept"), GRAPH_OFFERS, operation.format)
    endpoint = str(request.url_for("sparql"))
    return Response(service_description(endpoint, offer.name), media_type=offer.media_type, headers={"Vary": "Accept"})
