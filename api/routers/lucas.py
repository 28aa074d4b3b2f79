"""LUCAS validation of the crop-type map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.concurrency import in_one_thread
from api.deps import ReaderKey, SettingsDep, StoreDep
from federation.lucas import MAX_DISTANCE, validate_crop_map

router = APIRouter(prefix="/lucas", tags=["LUCAS validation"])


class ValidationRequest(BaseModel):
    distance: float = Field(10.0, ge=0, le=MAX_DISTANCE, description="Metres from a point to a crop region of a matching type.")


class PointAnswer(BaseModel):
    point: str
    point_id: str
    land_cover: str
    crop_types: list[str]
    positive: bool


class ClassAnswer(BaseModel):
    land_cover: str
    crop_types: list[str]
    points: int
    positive: int
    negative: int
    share_positive: float


class ValidationAnswer(BaseModel):
    distance: float
    points: int
    positive: int
    negative: int
    classes: list[ClassAnswer]
    results: list[PointAnswer]


@router.post("/validate")
async def validate(request: Request, store: StoreDep, settings: SettingsDep, _: ReaderKey,
                   body: ValidationRequest | None = None) -> ValidationAnswer:
    """Each LUCAS point with a mapped LC1 code: positive when a crop region of a matching type lies within the distance."""
    distance = (body or ValidationRequest()).distance
    searched = request.app.state.federation or store  # over the federation when one is configured
    result = await in_one_thread(validate_crop_map, searched, distance, timeout=settings.query_timeout)
    return ValidationAnswer(
        distance=result.distance, points=len(result.points), positive=result.positive, negative=result.negative,
        classes=[ClassAnswer(land_cover=c.land_cover, crop_types=list(c.crop_types), points=c.points, positive=c.positive,
                             negative=c.negative, share_positive=c.share_positive) for c in result.by_class()],
        results=[PointAnswer(point=p.point, point_id=p.point_id, land_cover=p.land_cover, crop_types=list(p.crop_types),
                             positive=p.positive) for p in result.points])
