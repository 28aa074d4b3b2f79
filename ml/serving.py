"""Predictions for the API and the CLI: a batch of patches or series in, classes and probabilities out,
every request logged (time, model, version, input shape, latency; the error of a refused one).

The log goes to the ``eekg.ml`` logger and, one JSON object a line, to ``requests.jsonl`` in the
registry's folder, so it can be read back without a log setup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from ml.errors import InvalidModelInput, MLError
from ml.inference import predict_probabilities
from ml.registry import Registry

log = logging.getLogger("eekg.ml")
MAX_BATCH = 4096


@dataclass(frozen=True)
class Prediction:
    """The answer to one request: the predicted class of each input and all class probabilities."""

    model: str
    version: str
    classes: list[str]
    probabilities: list[list[float]]
    class_names: list[str]


class Predictor:
    """Answers prediction requests from the models of ``registry``, one model computation at a time."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._lock = threading.Lock()  # Keras models are not made for concurrent calls; requests queue here
        self.log_file = registry.root / "requests.jsonl"

    def predict(self, name: str, inputs, version: str | None = None) -> Prediction:
        """Classes and probabilities of ``inputs`` (a batch shaped like the model's input) by model ``name``."""
        started = time.perf_counter()
        inputs = _as_array(inputs)  # once: a request body can be megabytes of nested lists
        shape = list(inputs.shape) if isinstance(inputs, np.ndarray) else None
        try:
            model, card = self.registry.load(name, version)
            version = card.version
            if shape is not None and len(shape) == len(card.input_shape) + 1 and shape[0] > MAX_BATCH:
                raise InvalidModelInput(f"Got a batch of {shape[0]:,} inputs; send at most {MAX_BATCH:,} a request.")
            with self._lock:
                probabilities = predict_probabilities(model, card, inputs)
        except MLError as error:  # refused requests are logged too, with what was wrong
            self._record(name, version, shape, time.perf_counter() - started, error.message)
            raise
        self._record(card.name, card.version, shape, time.perf_counter() - started)
        return Prediction(card.name, card.version, [card.classes[i] for i in probabilities.argmax(1)],
                          np.round(probabilities, 5).tolist(), list(card.classes))

    def _record(self, name: str, version: str | None, shape, latency: float, error: str | None = None) -> None:
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "model": name,
                 "version": version, "input_shape": shape, "latency_ms": round(latency * 1000, 2)}
        if error:
            entry["error"] = error
        log.info("prediction %s", entry)
        try:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("a") as out:
                out.write(json.dumps(entry) + "\n")
        except OSError:
            log.exception("could not append to the request log %s", self.log_file)


def _as_array(inputs):
    """The inputs as a float32 array, or as given when they are not one (``check_inputs`` then says why)."""
    try:
        return np.asarray(inputs, dtype="float32")
    except (TypeError, ValueError):
        return inputs
