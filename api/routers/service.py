"""Health of the service (the service description is served at GET /sparql without a query)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.concurrency import in_one_thread
from api.deps import StoreDep

router = APIRouter(tags=["Service"])
log = logging.getLogger("eekg.api")


class Health(BaseModel):
    """What /health answers."""

    status: str
    backend: str
    triples: int
    named_graphs: int


@router.get("/health", responses={503: {"description": "The store cannot be read."}})
async def health(store: StoreDep) -> Health:
    """Whether the service is up, which store backend it runs on and how many triples it holds."""
    try:
        size = await in_one_thread(store.size)
    except Exception:
        log.exception("The health check could not read the store")
        return JSONResponse({"status": "unavailable", "backend": store.backend}, status_code=503)
    return Health(status="ok", backend=store.backend, triples=size.triples, named_graphs=size.named_graphs)
