"""Assembles the HTTP service: ``create_app(store, settings)``.

Run it with ``eekg serve``, or ``uvicorn --factory api.main:app_from_settings`` (settings from
``EEKG_*`` variables and ``EEKG_CONFIG``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import install_error_handlers
from api.routers import catalogue, graph_store, lucas, models, service, sparql
from api.settings import Settings
from kg.store import Store

DESCRIPTION = """\
A GeoSPARQL 1.1 knowledge graph of Earth-observation products.

* **/sparql**: SPARQL 1.1 Protocol (queries by GET or POST, updates by POST with a writer key);
  without a query, the SPARQL 1.1 Service Description.
* **/update**: SPARQL 1.1 Update only.
* **/rdf-graphs/service**: SPARQL 1.1 Graph Store HTTP Protocol (`?default` or `?graph=IRI`).
* **/health**: status and size of the store.
* **/models**: the trained models; `POST /models/{name}/predict` classifies a batch of patches or series.

Writes need a writer API key, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Every error answers `{"error": kind, "message": what was wrong and what to do}`.
"""


def create_app(store: Store, settings: Settings, *, close_store: bool = False) -> FastAPI:
    """The FastAPI app serving ``store``; with ``close_store`` the store is closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if app.state.federation is not None:  # its thread pool and HTTP clients (never the server's own store)
            app.state.federation.close()
        if close_store:
            store.close()

    app = FastAPI(title="ExtremeEarth GeoSPARQL endpoint", description=DESCRIPTION, version="0.1.0", lifespan=lifespan)
    app.state.store, app.state.settings = store, settings
    app.state.federation = _federation(settings, store)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Accept", "Authorization", "Content-Type", "X-API-Key"],
        )
    for router in (sparql.router, graph_store.router, service.router, models.router):
        app.include_router(router)
    for router in (catalogue.router, lucas.router):  # the federation's services, over the federation when configured
        app.include_router(router)
    return app


def _federation(settings: Settings, store: Store):
    """The federation /sparql answers queries over, when the settings name one (docs/federation.md)."""
    if settings.federation is None:
        return None
    from federation import load_federation

    return load_federation(settings.federation, own_store=store)


def app_from_settings() -> FastAPI:
    """The app over the store the settings name (in memory when none); a factory for uvicorn."""
    settings = Settings.load()
    return create_app(store_from_settings(settings), settings, close_store=True)


def store_from_settings(settings: Settings) -> Store:
    """The store the settings choose: the embedded store, or the Spark store over a warehouse (docs/spark.md)."""
    if settings.store_backend == "spark":
        from kg.errors import GeoKGError
        from kg.spark.store import SparkStore

        if settings.spark_warehouse is None:
            raise GeoKGError("store_backend = 'spark' needs spark_warehouse, the directory `eekg spark load` wrote.")
        return SparkStore(settings.spark_warehouse, master=settings.spark_master)
    from kg.embedded import EmbeddedStore

    return EmbeddedStore(settings.store)
