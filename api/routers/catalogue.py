"""The semantic catalogue: products found by what the knowledge graph says about them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.concurrency import in_one_thread
from api.deps import ReaderKey, SettingsDep, StoreDep
from api.errors import BadRequest
from federation.catalogue import MAX_RESULTS, Search, bbox_area, search, search_query

router = APIRouter(prefix="/catalogue", tags=["Catalogue"])


class ProductAnswer(BaseModel):
    identifier: str
    mission: str
    product_type: str | None
    sensing_start: str
    sensing_stop: str | None
    footprint: str
    share: float | None


class SearchAnswer(BaseModel):
    products: list[ProductAnswer]
    page: int
    page_size: int
    next_page: int | None
    sparql: str


@router.get("/search")
async def catalogue_search(
    request: Request, store: StoreDep, settings: SettingsDep, _: ReaderKey,
    bbox: str | None = Query(None, description="west,south,east,north in degrees (CRS84)."),
    wkt: str | None = Query(None, description="Or an area as CRS84 WKT."),
    start: datetime | None = Query(None, description="Sensing start at or after (UTC, e.g. 2018-03-01T00:00:00Z)."),
    end: datetime | None = Query(None, description="Sensing start before."),
    mission: str | None = Query(None, description="Sentinel-1, Sentinel-1A, Sentinel-2 ..."),
    product_type: str | None = Query(None, alias="productType", description="GRD, SLC, S2MSI2A ..."),
    observed: str | None = Query(None, alias="class", description="A class that must be present (young-ice, maize or an IRI)."),
    min_share: float = Query(0.0, alias="minShare", ge=0, lt=1, description="The class covers more than this share (0..1)."),
    min_area: float = Query(0.0, alias="minArea", ge=0, description="The class covers at least this many square metres."),
    page: int = Query(1, ge=1), page_size: int = Query(100, alias="pageSize", ge=1, le=MAX_RESULTS),
) -> SearchAnswer:
    """Product identifiers and metadata by area, time, mission, product type and observed class; with the SPARQL it ran."""
    if bbox and wkt:
        raise BadRequest("Give either bbox= or wkt=, not both.")
    if (min_share or min_area) and not observed:
        raise BadRequest("minShare and minArea apply to a class: add class=young-ice (or another class).")
    wanted = Search(area=bbox_area(bbox) if bbox else wkt, start=start, end=end, mission=mission, product_type=product_type,
                    observed=observed, min_share=min_share, min_area=min_area, limit=page_size, offset=(page - 1) * page_size)
    sparql = search_query(wanted)
    searched = request.app.state.federation or store  # over the federation when one is configured
    found = await in_one_thread(search, searched, wanted, timeout=settings.query_timeout)
    return SearchAnswer(products=[ProductAnswer(**vars(p)) for p in found], page=page, page_size=page_size,
                        next_page=page + 1 if len(found) == page_size else None, sparql=sparql)
