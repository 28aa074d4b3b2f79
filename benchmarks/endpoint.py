"""Latency of the SPARQL endpoint over HTTP, against the same queries in-process.

The real server (uvicorn in a subprocess, ``api.main:app_from_settings``) serves an on-disk store
of generated features with WKT polygons; clients (threads, one keep-alive ``httpx.Client`` each,
loopback only) send a bounded number of requests at 1 and 8 concurrent clients, and p50/p99
latencies are measured per request. Two queries:

- ``spatial``: features intersecting a small box, ``LIMIT 10`` (GeoSPARQL ``geof:sfIntersects``);
- ``lookup``: one feature's geometry by IRI, which shows the fixed cost of a request.

Baseline, same run: the same queries through ``store.query(...).serialize("json")`` in-process,
at the same concurrency (threads), before the server opens the store. The ratio HTTP / in-process
is the endpoint's overhead. Results: ``benchmarks/results/endpoint.json``.

    uv run --group test python benchmarks/endpoint.py [--features 20000] [--requests 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.embedded import EmbeddedStore

GEO = "http://www.opengis.net/ont/geosparql#"
RESULTS = ROOT / "benchmarks" / "results" / "endpoint.json"
BOX = "POLYGON((10 50, 10.5 50, 10.5 50.5, 10 50.5, 10 50))"
QUERIES = {
    "spatial": (
        "SELECT ?f WHERE { ?f geo:hasGeometry/geo:asWKT ?w "
        f'FILTER(geof:sfIntersects(?w, "{BOX}"^^geo:wktLiteral)) }} LIMIT 10'
    ),
    "lookup": "SELECT ?w WHERE { <https://w3id.org/eekg/data/field-123> geo:hasGeometry/geo:asWKT ?w }",
}
CONCURRENCY = (1, 8)


def generate(path: Path, features: int) -> int:
    """Fields with square-ish polygons over 0-20 E, 40-60 N as N-Triples; returns the triple count."""
    rng = random.Random(42)
    with path.open("w") as out:
        for i in range(features):
            f, g = f"<https://w3id.org/eekg/data/field-{i}>", f"<https://w3id.org/eekg/data/field-{i}-geom>"
            x, y, d = rng.uniform(0, 20), rng.uniform(40, 60), rng.uniform(0.005, 0.03)
            ring = [(x, y), (x + d, y), (x + d, y + d * 0.8), (x, y + d), (x, y)]
            wkt = "POLYGON((" + ", ".join(f"{a:.6f} {b:.6f}" for a, b in ring) + "))"
            out.write(
                f"{f} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{GEO}Feature> .\n"
                f"{f} <{GEO}hasGeometry> {g} .\n"
                f'{g} <{GEO}asWKT> "{wkt}"^^<{GEO}wktLiteral> .\n'
                f'{f} <http://www.w3.org/2000/01/rdf-schema#label> "field {i}" .\n'
            )
    return features * 4


def measure(send: Callable[[str, int], int], query: str, clients: int, requests: int) -> dict:
    """Latencies of ``requests`` calls of ``send(query, client)`` spread over ``clients`` threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    errors: list[BaseException] = []

    def run(client: int, count: int) -> None:
        mine = []
        try:
            for _ in range(count):
                started = time.perf_counter()
                send(query, client)
                mine.append(time.perf_counter() - started)
        except Exception as error:  # reported after the threads are joined
            errors.append(error)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate(per_client)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "mean_ms": 1000 * statistics.fmean(latencies),
        "throughput_per_s": len(latencies) / wall,
    }


def in_process(store_dir: Path, counts: dict[str, int]) -> list[dict]:
    """The baseline: the queries through the store, in this process."""
    store = EmbeddedStore(store_dir)
    rows = []
    try:

        def send(query: str, client: int) -> int:
            return len(store.query(query, timeout=60).serialize("json"))

        for name, query in QUERIES.items():
            send(query, 0)  # warm-up: parsed-literal caches, pages
            for clients in CONCURRENCY:
                rows.append({"query": name, "mode": "in-process", **measure(send, query, clients, counts[name])})
    finally:
        store.close()
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def over_http(store_dir: Path, counts: dict[str, int]) -> list[dict]:
    """The same queries through the real server, started in a subprocess on the same store."""
    port = free_port()
    env = {**os.environ, "EEKG_STORE": str(store_dir), "EEKG_QUERY_TIMEOUT": "60", "EEKG_CONFIG": ""}
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_settings",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        connections = [httpx.Client(base_url=url, timeout=120) for _ in range(max(CONCURRENCY))]

        def send(query: str, client: int) -> int:
            response = connections[client].get("/sparql", params={"query": query},
                                           headers={"Accept": "application/sparql-results+json"})
            response.raise_for_status()
            return len(response.content)

        for client in range(len(connections)):  # open every keep-alive connection before measuring
            send(QUERIES["lookup"], client)
        rows = []
        for name, query in QUERIES.items():
            send(query, 0)
            for clients in CONCURRENCY:
                rows.append({"query": name, "mode": "http", **measure(send, query, clients, counts[name])})
        for connection in connections:
            connection.close()
        return rows
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=20_000, help="generated features (4 triples each)")
    parser.add_argument("--requests", type=int, default=60, help="requests of the spatial query per measurement")
    parser.add_argument("--lookups", type=int, default=400, help="requests of the lookup query per measurement")
    args = parser.parse_args()
    counts = {"spatial": args.requests, "lookup": args.lookups}

    with tempfile.TemporaryDirectory(prefix="eekg-endpoint-") as tmp:
        data, store_dir = Path(tmp) / "fields.nt", Path(tmp) / "store"
        triples = generate(data, args.features)
        store = EmbeddedStore(store_dir)
        store.load([data])
        store.close()
        answer = EmbeddedStore(store_dir)
        matches = len(answer.query(QUERIES["spatial"]).bindings())
        answer.close()

        started = time.perf_counter()
        rows = in_process(store_dir, counts) + over_http(store_dir, counts)
        seconds = time.perf_counter() - started

    baseline = {(r["query"], r["clients"]): r for r in rows if r["mode"] == "in-process"}
    for row in rows:
        base = baseline[row["query"], row["clients"]]
        row["p50_ratio"] = row["p50_ms"] / base["p50_ms"]
        row["p99_ratio"] = row["p99_ms"] / base["p99_ms"]

    print(f"{args.features} features ({triples} triples) on disk; spatial query returns {matches} rows")
    print(f"{'query':8} {'mode':11} {'clients':>7} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>8} {'p50 x':>7} {'p99 x':>7}")
    for r in rows:
        print(f"{r['query']:8} {r['mode']:11} {r['clients']:>7} {r['requests']:>5} {r['p50_ms']:>9.2f} "
              f"{r['p99_ms']:>9.2f} {r['throughput_per_s']:>8.1f} {r['p50_ratio']:>7.2f} {r['p99_ratio']:>7.2f}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "endpoint",
        "description": "p50/p99 latency of GeoSPARQL queries over HTTP (uvicorn subprocess, loopback, "
                       "keep-alive httpx clients in threads) vs the same queries in-process; ratio = http / in-process",
        "features": args.features,
        "triples": triples,
        "queries": QUERIES,
        "spatial_rows": matches,
        "results": rows,
        "seconds": seconds,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "note": "p99 of a few hundred requests is a rough estimate; the spatial query has no spatial index "
                "yet (nested loop over all geometries), so its latency is mostly evaluation.",
    }, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)} ({seconds:.0f} s of measurement)")


if __name__ == "__main__":
    main()
