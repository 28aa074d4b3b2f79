"""Loading 1e6 triples with WKT geometries into the on-disk store, against plain pyoxigraph.

Baseline: ``pyoxigraph.Store(dir).bulk_load(path=file)`` on the same file in the same run.
Ours: ``EmbeddedStore(dir).load([file])`` with a progress callback, as ``eekg load`` does: a
streaming check pass (syntax, every geometry literal parsed and validated) and then the bulk load,
so that a bad file changes nothing. Target: at most 1.25x the baseline.

    uv run python benchmarks/load.py [--triples 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from kg.embedded import EmbeddedStore

HERE = Path(__file__).parent
TRIPLES_PER_FEATURE = 10
GEO = "http://www.opengis.net/ont/geosparql#"


def generate(path: Path, triples: int) -> None:
    """Features with polygon geometries (8-12 vertices) and thematic properties, as N-Triples."""
    rng = random.Random(42)
    with path.open("w") as out:
        for i in range(triples // TRIPLES_PER_FEATURE):
            f, g = f"<https://w3id.org/eekg/data/region-{i}>", f"<https://w3id.org/eekg/data/region-{i}-geom>"
            x, y = rng.uniform(-10, 40), rng.uniform(35, 82)
            ring = [(x + 0.01 * rng.uniform(0.5, 1) * c, y + 0.01 * rng.uniform(0.5, 1) * s)
                    for c, s in _circle(rng.randint(8, 12))]
            wkt = "POLYGON((" + ", ".join(f"{a:.6f} {b:.6f}" for a, b in ring + ring[:1]) + "))"
            out.write(
                f"{f} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/eekg/ont/polar#SeaIceRegion> .\n"
                f"{f} <{GEO}hasGeometry> {g} .\n"
                f"{g} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{GEO}Geometry> .\n"
                f'{g} <{GEO}asWKT> "{wkt}"^^<{GEO}wktLiteral> .\n'
                f"{f} <https://w3id.org/eekg/ont/polar#iceClass> <https://w3id.org/eekg/ont/polar#Class{i % 6}> .\n"
                f'{f} <https://w3id.org/eekg/ont/polar#confidence> "{rng.random():.3f}"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
                f'{f} <http://www.w3.org/ns/sosa/resultTime> "2018-03-05T07:35:{i % 60:02d}Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n'
                f"{f} <http://www.w3.org/ns/prov#wasDerivedFrom> <https://w3id.org/eekg/data/S1A_EW_GRDM_{i % 50}> .\n"
                f"{f} <http://www.w3.org/ns/prov#wasGeneratedBy> <https://w3id.org/eekg/data/model-1> .\n"
                f'{f} <http://www.w3.org/2000/01/rdf-schema#label> "region {i}" .\n'
            )


def _circle(n: int):
    import math

    return [(math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n)) for k in range(n)]


def timed(load) -> float:
    directory = Path(tempfile.mkdtemp(prefix="eekg-bench-", dir=HERE / "data"))
    try:
        started = time.perf_counter()
        load(directory)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(directory)


def baseline(directory: Path, file: Path) -> None:
    store = ox.Store(str(directory))
    store.bulk_load(path=str(file), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    del store


def ours(directory: Path, file: Path) -> None:
    store = EmbeddedStore(directory)
    store.load([file], progress=lambda n: None)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    (HERE / "data").mkdir(exist_ok=True)
    file = HERE / "data" / f"regions-{args.triples}.nt"
    if not file.exists():
        print(f"generating {file} ...")
        generate(file, args.triples)
    timings = {"pyoxigraph bulk_load": [], "EmbeddedStore.load": []}
    for _ in range(args.repeat):  # interleaved, so disk and cache effects fall on both alike
        timings["pyoxigraph bulk_load"].append(timed(lambda d: baseline(d, file)))
        timings["EmbeddedStore.load"].append(timed(lambda d: ours(d, file)))
    base, our = (statistics.median(timings[k]) for k in timings)
    ratio = our / base
    print(f"{'loader':24} {'median s':>9} {'triples/s':>12}   runs")
    for name, runs in timings.items():
        m = statistics.median(runs)
        print(f"{name:24} {m:9.2f} {args.triples / m:12,.0f}   {', '.join(f'{r:.2f}' for r in runs)}")
    print(f"overhead ratio {ratio:.3f} (target <= 1.25): {'PASS' if ratio <= 1.25 else 'FAIL'}")
    result = {
        "benchmark": "load", "triples": args.triples, "file_bytes": file.stat().st_size, "repeat": args.repeat,
        "seconds": timings, "median_seconds": {"baseline": base, "ours": our}, "ratio": ratio, "target": 1.25,
        "machine": {"python": platform.python_version(), "pyoxigraph": ox.__version__, "cpus": __import__("os").cpu_count()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "load.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
