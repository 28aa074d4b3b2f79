"""POST /models/{name}/predict over HTTP, on a real uvicorn server; every request logged; bad input refused."""

from __future__ import annotations

import json
import math
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import uvicorn

from api.main import create_app
from api.settings import Settings
from kg.embedded import EmbeddedStore


@pytest.fixture(scope="module")
def server(registry):
    app = create_app(EmbeddedStore(), Settings(max_request_bytes=8 << 20))
    app.state.model_registry = registry
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=60) as client:
        yield client
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_a_batch_of_patches_gets_classes_and_probabilities_and_is_logged(server, registry, patches):
    log = registry.root / "requests.jsonl"
    before = log.read_text().count("\n") if log.exists() else 0
    batch = patches.images[:3].tolist()
    answer = server.post("/models/tiny-sea-ice/predict", json={"inputs": batch})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"] == "tiny-sea-ice" and body["version"] == registry.card("tiny-sea-ice").version
    assert body["class_names"] == ["water", "ice", "land"] and len(body["classes"]) == 3
    probabilities = np.array(body["probabilities"])
    assert probabilities.shape == (3, 3) and np.allclose(probabilities.sum(1), 1, atol=1e-4)
    assert body["classes"] == [body["class_names"][i] for i in probabilities.argmax(1)]
    model, _ = registry.load("tiny-sea-ice")
    assert np.allclose(probabilities, model.predict(patches.images[:3].astype("float32"), verbose=0), atol=1e-4)
    entries = [json.loads(line) for line in log.read_text().splitlines()[before:]]
    assert len(entries) == 1 and entries[0]["input_shape"] == [3, 64, 64, 3] and entries[0]["model"] == "tiny-sea-ice"
    assert entries[0]["latency_ms"] > 0 and entries[0]["time"].endswith("Z") and entries[0]["version"] == body["version"]


def test_a_series_and_a_version_can_be_asked_for(server):
    series = np.linspace(0.1, 0.8, 46).reshape(46, 1).tolist()
    answer = server.post("/models/tiny-crop/predict", json={"inputs": [series], "version": "1"})
    assert answer.status_code == 200 and answer.json()["version"] == "1" and len(answer.json()["probabilities"][0]) == 24


def test_the_models_are_listed(server):
    names = {(m["name"], m["kind"]) for m in server.get("/models").json()}
    assert {("tiny-sea-ice", "sea-ice"), ("tiny-crop", "crop-type")} <= names


@pytest.mark.parametrize(("name", "body", "status", "message"), [
    ("tiny-crop", {"inputs": [[[0.1]] * 12]}, 400, "Got inputs of shape (1, 12, 1); model tiny-crop takes a batch of shape (n, 46, 1)"),
    ("tiny-crop", {"inputs": [[[math.nan]] * 46]}, 400, "NaN or infinite value(s), the first at index (0, 0, 0)"),
    ("tiny-crop", {"inputs": [[[0.1], [0.2, 0.3]]]}, 400, "not an array of numbers of one shape"),
    ("tiny-crop", {"inputs": [[["high"]] * 46]}, 400, "not an array of numbers of one shape"),
    ("tiny-crop", {"series": []}, 400, "inputs: Field required"),
    ("no-such-model", {"inputs": [[[0.1]] * 46]}, 404, "There is no model named 'no-such-model'. Models: tiny-crop, tiny-sea-ice"),
    ("tiny-crop", {"inputs": [[[0.1]] * 46], "version": "7"}, 404, "has no version '7'"),
])
def test_bad_requests_are_refused_clearly(server, registry, name, body, status, message):
    log = registry.root / "requests.jsonl"
    before = log.read_text().count("\n") if log.exists() else 0
    answer = server.post(f"/models/{name}/predict", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code == status
    assert message in answer.json()["message"] and "Traceback" not in answer.text
    logged = [json.loads(line) for line in log.read_text().splitlines()[before:]] if log.exists() else []
    if "inputs" in body:  # a request that reached a model is logged, refused or not, with what was wrong
        assert len(logged) == 1 and logged[0]["model"] == name and message in logged[0]["error"]
        assert logged[0]["version"] == body.get("version", "1" if name == "tiny-crop" else None)
    else:  # refused by the request schema before any model was asked
        assert logged == []
