"""Typed dependencies of the routers: the store, the settings, API keys, graph targets, RDF bodies."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from api.errors import BadRequest, Forbidden, Unauthorized
from api.negotiation import graph_body_format
from api.protocol import check_graph_iri, check_query_string, read_body
from api.settings import Settings
from kg.store import Store


def get_store(request: Request) -> Store:
    """The store the app was created with."""
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_KEY_HELP = "Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."


def presented_keys(request: Request) -> list[str]:
    """The API keys a request carries (Authorization: Bearer, X-API-Key)."""
    keys = []
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip())
    if request.headers.get("x-api-key", "").strip():
        keys.append(request.headers["x-api-key"].strip())
    return keys


def _matches(keys: list[str], allowed: list[str]) -> bool:
    return any(hmac.compare_digest(k.encode(), a.encode()) for k in keys for a in allowed)


def check_writer(request: Request, settings: Settings) -> None:
    """401 without a key, 403 with a key that may not write; nothing happens when writing is allowed."""
    keys = presented_keys(request)
    if not settings.writer_keys:
        raise Forbidden("This server accepts no writes: no writer API keys are configured (setting writer_keys).")
    if not keys:
        raise Unauthorized(
            f"Writing needs a writer API key. {_KEY_HELP}", headers={"WWW-Authenticate": 'Bearer realm="eekg"'}
        )
    if not _matches(keys, settings.writer_keys):
        raise Forbidden(f"The API key given may not write. Use a writer API key. {_KEY_HELP}")


def check_reader(request: Request, settings: Settings) -> None:
    """401/403 when reader keys are configured and the request has none of them (writer keys read too)."""
    if settings.reading_is_open:
        return
    keys = presented_keys(request)
    if not keys:
        raise Unauthorized(
            f"This server needs an API key for reading. {_KEY_HELP}", headers={"WWW-Authenticate": 'Bearer realm="eekg"'}
        )
    if not _matches(keys, settings.reader_keys + settings.writer_keys):
        raise Forbidden(f"The API key given is not a reader or writer key of this server. {_KEY_HELP}")


def require_reader(request: Request, settings: SettingsDep) -> None:
    """Dependency form of :func:`check_reader`."""
    check_reader(request, settings)


def require_writer(request: Request, settings: SettingsDep) -> None:
    """Dependency form of :func:`check_writer`."""
    check_writer(request, settings)


ReaderKey = Annotated[None, Depends(require_reader)]
WriterKey = Annotated[None, Depends(require_writer)]


@dataclass(frozen=True)
class GraphTarget:
    """The graph a Graph Store request names: ``None`` for ``?default``."""

    graph: str | None

    def __str__(self) -> str:
        return "the default graph" if self.graph is None else f"the graph <{self.graph}>"


def graph_target(
    request: Request,
    settings: SettingsDep,
    default: Annotated[str | None, Query(description="Present (no value) to name the default graph.")] = None,
    graph: Annotated[str | None, Query(description="The IRI of a named graph.")] = None,
) -> GraphTarget:
    """The graph named by ``?default`` or ``?graph=IRI`` (exactly one of them)."""
    check_query_string(request, settings)
    params = request.query_params
    graphs = params.getlist("graph")
    if ("default" in params) == bool(graphs) or len(graphs) > 1:
        raise BadRequest(
            "Name exactly one graph: add ?default for the default graph or ?graph=<IRI> (percent-encoded) "
            "for a named graph."
        )
    return GraphTarget(check_graph_iri(graphs[0], "graph") if graphs else None)


GraphDep = Annotated[GraphTarget, Depends(graph_target)]


@dataclass(frozen=True)
class RdfBody:
    """An RDF request body and its format (a media type the store reads)."""

    data: bytes
    format: str


async def rdf_body(request: Request, settings: SettingsDep) -> RdfBody:
    """The request body as RDF: 415 for a Content-Type we cannot read, 413 when too large."""
    format = graph_body_format(request.headers.get("content-type"))
    return RdfBody(await read_body(request, settings), format)


RdfBodyDep = Annotated[RdfBody, Depends(rdf_body)]
