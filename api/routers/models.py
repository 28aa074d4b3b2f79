"""Model serving: the models of the registry and their predictions (``ml/``; TensorFlow loads on first use)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.concurrency import in_one_thread

router = APIRouter(prefix="/models", tags=["Models"])


class PredictRequest(BaseModel):
    """A batch of inputs: patches (n x rows x cols x channels, 0-255) or series (n x steps x bands)."""

    inputs: list[Any] = Field(..., description="The batch, as nested arrays of numbers.")
    version: str | None = Field(None, description="The model version (default: the latest).")


class PredictResponse(BaseModel):
    """The predicted class of each input and the probabilities of every class, in ``class_names`` order."""

    model: str
    version: str
    classes: list[str]
    probabilities: list[list[float]]
    class_names: list[str]


class ModelSummary(BaseModel):
    """A model of the registry."""

    name: str
    version: str
    kind: str
    architecture: str
    classes: list[str]
    input_shape: list[int]
    overall_accuracy: float | None
    median_f1: float | None
    data_hash: str
    created: str


def _predictor(request: Request):
    """The app's predictor, over ``app.state.model_registry`` (default: ``$EEKG_MODEL_DIR`` or .eekg/models)."""
    state = request.app.state
    if getattr(state, "predictor", None) is None:
        from ml.registry import Registry
        from ml.serving import Predictor

        state.predictor = Predictor(getattr(state, "model_registry", None) or Registry())
    return state.predictor


@router.get("")
async def list_models(request: Request) -> list[ModelSummary]:
    """The models of the registry, every version, with their validation metrics."""
    cards = await in_one_thread(_predictor(request).registry.cards)
    return [ModelSummary(name=c.name, version=c.version, kind=c.kind, architecture=c.architecture, classes=list(c.classes),
                         input_shape=list(c.input_shape), overall_accuracy=c.metrics.get("overall_accuracy"),
                         median_f1=c.metrics.get("median_f1"), data_hash=c.data_hash, created=c.created) for c in cards]


@router.post("/{name}/predict", responses={400: {"description": "Inputs of the wrong shape, or NaN."},
                                            404: {"description": "No such model or version."}})
async def predict(name: str, body: PredictRequest, request: Request) -> PredictResponse:
    """Classify a batch of patches or series with model ``name``; the request is logged."""
    predictor = _predictor(request)
    answer = await in_one_thread(predictor.predict, name, body.inputs, body.version)
    return PredictResponse(**answer.__dict__)
