"""The SPARQL 1.1 Graph Store HTTP Protocol at /rdf-graphs/service (indirect graph identification).

``?default`` names the default graph, ``?graph=<IRI>`` a named graph. Reads are open unless reader
keys are configured; writes need a writer key. PUT replaces a graph atomically, POST adds to it,
DELETE drops it; a body that is not valid RDF is refused whole (400 naming the line).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.concurrency import in_one_thread
from api.deps import GraphDep, GraphTarget, RdfBodyDep, ReaderKey, StoreDep, WriterKey
from api.negotiation import GRAPH_OFFERS, choose_offer
from kg.errors import NotFound
from kg.store import Store

GRAPH_STORE = "/rdf-graphs/service"
router = APIRouter(tags=["SPARQL 1.1 Graph Store HTTP Protocol"])

Format = Annotated[str | None, Query(description="Answer format overriding Accept: turtle, ntriples, jsonld, rdfxml.")]
_GRAPH = {200: {"description": "The graph as RDF, by Accept.", "content": {o.essence: {} for o in GRAPH_OFFERS}}}


@router.get(GRAPH_STORE, responses=_GRAPH)
@router.head(GRAPH_STORE, responses=_GRAPH)
async def get_graph(request: Request, store: StoreDep, target: GraphDep, _: ReaderKey, format: Format = None) -> Response:
    """Read a graph as Turtle, N-Triples, JSON-LD or RDF/XML; 404 when the named graph does not exist."""
    offer = choose_offer(request.headers.get("accept"), GRAPH_OFFERS, format)
    await require_graph(store, target)
    data = await in_one_thread(store.dump, offer.name, graph=target.graph)
    return Response(data, media_type=offer.media_type, headers={"Vary": "Accept"})


@router.put(GRAPH_STORE, status_code=204, responses={201: {"description": "The graph was created."}})
async def put_graph(store: StoreDep, target: GraphDep, _: WriterKey, body: RdfBodyDep) -> Response:
    """Replace a graph's content with the request body, atomically (201 when the graph is new)."""
    created = not await in_one_thread(store.graph_exists, target.graph)
    await in_one_thread(store.load_data, body.data, body.format, graph=target.graph, replace=True)
    return Response(status_code=201 if created else 204)


@router.post(GRAPH_STORE, status_code=204, responses={201: {"description": "The graph was created."}})
async def post_graph(store: StoreDep, target: GraphDep, _: WriterKey, body: RdfBodyDep) -> Response:
    """Add the request body's triples to a graph, atomically (201 when the graph is new)."""
    created = not await in_one_thread(store.graph_exists, target.graph)
    await in_one_thread(store.load_data, body.data, body.format, graph=target.graph)
    return Response(status_code=201 if created else 204)


@router.delete(GRAPH_STORE, status_code=204)
async def delete_graph(store: StoreDep, target: GraphDep, _: WriterKey) -> Response:
    """Drop a named graph, or empty the default graph; 404 when the named graph does not exist."""
    await require_graph(store, target)
    await in_one_thread(store.drop_graph, target.graph)
    return Response(status_code=204)


async def require_graph(store: Store, target: GraphTarget) -> None:
    """404 for a named graph the store does not have."""
    if not await in_one_thread(store.graph_exists, target.graph):
        raise NotFound(
            f"There is no {target} in the store. Create it with PUT or POST, or list the graphs with "
            "SELECT DISTINCT ?g { GRAPH ?g { } }."
        )
