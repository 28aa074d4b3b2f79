"""Helpers of the federation tests: the real Oxigraph server, our own server, and test data split
over them so that answers need joins across sources."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from api.settings import Settings
from kg.embedded import EmbeddedStore
from tests.api.api_support import serve

EX = "http://example.org/"
READER_KEY = "federation-reader-key"
PREFIXES = f"""PREFIX ex: <{EX}>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX eekg: <https://w3id.org/eekg/sparql#>
"""
GEO = "http://www.opengis.net/ont/geosparql#"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def oxigraph_server(data: bytes | None = None) -> Iterator[str]:
    """``oxigraph serve`` in memory on a free port, loaded with N-Triples; yields its query URL."""
    executable = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = free_port()
    process = subprocess.Popen([executable, "serve", "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("oxigraph serve did not start")
                time.sleep(0.05)
        if data:
            response = httpx.post(base + "/store?default", content=data, headers={"Content-Type": "application/n-triples"}, timeout=60)
            response.raise_for_status()
        yield base + "/query"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def eekg_server(store: EmbeddedStore, **settings) -> Iterator[str]:
    """Our own server (the API tests' uvicorn in a thread) over a store; yields its /sparql URL."""
    with serve(store, Settings(**{"query_timeout": 20, **settings})) as server:
        yield server.url + "/sparql"


def _box(x: float, y: float, w: float, h: float) -> str:
    return f"POLYGON(({x:.5f} {y:.5f}, {x + w:.5f} {y:.5f}, {x + w:.5f} {y + h:.5f}, {x:.5f} {y + h:.5f}, {x:.5f} {y:.5f}))"


def sample_data(fields: int = 100, points: int = 80, seed: int = 7) -> dict[str, bytes]:
    """N-Triples for three sources, by source name.

    - ``oxigraph``: fields 0..59 (crop, geometry);
    - ``eekg``: fields 60.. (the same predicates: both sources are asked), survey points with
      geometries and observed crops, one field geometry in EPSG:3857;
    - ``local``: the crop code list (labels in two languages, broader concepts), owners of some
      fields (a join across sources on the same subject), and one triple also held by oxigraph.
    """
    rng = np.random.default_rng(seed)
    crops = ["maize", "wheat", "barley", "rye", "soy"]
    wkt, a, t = f"<{GEO}wktLiteral>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", lambda s, p, o: f"{s} {p} {o} .\n"
    out = {"oxigraph": [], "eekg": [], "local": []}
    for i in range(fields):
        x, y = 16.0 + rng.uniform(0, 0.5), 48.0 + rng.uniform(0, 0.3)
        w, h = rng.uniform(0.005, 0.03), rng.uniform(0.005, 0.02)
        side = "oxigraph" if i < 60 else "eekg"
        f, g = f"<{EX}field{i}>", f"<{EX}field{i}/geometry>"
        literal = f'"{_box(x, y, w, h)}"^^{wkt}'
        if i == 77:  # a geometry in Web Mercator: the box pre-filter must let it through
            mx, my = x * 20037508.342789244 / 180, np.log(np.tan((90 + y) * np.pi / 360)) * 6378137
            literal = f'"<http://www.opengis.net/def/crs/EPSG/0/3857> POINT({mx:.2f} {my:.2f})"^^{wkt}'
        out[side] += [t(f, a, f"<{EX}Field>"), t(f, f"<{EX}crop>", f"<{EX}crop/{crops[i % 5]}>"),
                      t(f, f"<{GEO}hasGeometry>", g), t(f, f"<{GEO}hasDefaultGeometry>", g), t(g, f"<{GEO}asWKT>", literal),
                      t(f, f"<{EX}area>", f'"{w * h * 1e4:.3f}"^^<http://www.w3.org/2001/XMLSchema#double>')]
        if i % 3 == 0:
            out["local"].append(t(f, f"<{EX}owner>", f'"owner {i % 7}"'))
    for i in range(points):
        x, y = 16.0 + rng.uniform(0, 0.55), 48.0 + rng.uniform(0, 0.33)
        p, g = f"<{EX}point{i}>", f"<{EX}point{i}/geometry>"
        out["eekg"] += [t(p, a, f"<{EX}SurveyPoint>"), t(p, f"<{EX}observed>", f"<{EX}crop/{crops[(i * 3) % 5]}>"),
                        t(p, f"<{GEO}hasGeometry>", g), t(p, f"<{GEO}hasDefaultGeometry>", g), t(g, f"<{GEO}asWKT>", f'"POINT({x:.5f} {y:.5f})"^^{wkt}')]
    skos = "http://www.w3.org/2004/02/skos/core#"
    for crop in crops:
        c = f"<{EX}crop/{crop}>"
        out["local"] += [t(c, f"<{skos}prefLabel>", f'"{crop}"@en'), t(c, f"<{skos}prefLabel>", f'"{crop.upper()}"@de')]
        if crop != "soy":
            out["local"].append(t(c, f"<{skos}broader>", f"<{EX}crop/cereal>"))
    out["local"].append(t(f"<{EX}crop/cereal>", f"<{skos}broader>", f"<{EX}crop/any>"))
    out["local"].append(out["oxigraph"][1])  # held by two sources: counted once in the union
    return {name: "".join(lines).encode() for name, lines in out.items()}


def union_store(data: dict[str, bytes]) -> EmbeddedStore:
    """The reference: one store holding every source's data."""
    store = EmbeddedStore()
    for part in data.values():
        store.load_data(part, "ntriples")
    return store


def store_of(data: bytes) -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_data(data, "ntriples")
    return store
