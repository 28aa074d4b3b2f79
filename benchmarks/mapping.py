"""Prediction polygons from GeoParquet into the on-disk store: rows/s and triples/s.

Three runs over the same generated sea-ice prediction map (convex polygons of up to 12 vertices):

- ``ours local``: ``eekg map`` with the sea-ice mapping (every GeoTriples-style geometry function:
  WKT, metric area, dimensions, flags, centroid), chunks mapped ahead on a thread while the store
  bulk-loads the previous ones, all or nothing;
- ``ours spark local[2]``: the same with the Spark engine on two cores;
- ``baseline``: plain morph-kgc reading the GeoParquet itself (its reader writes the geometry as
  WKT) with the same mapping minus our functions (the WKT as a plain reference, no area, no
  dimensions, no centroid), its N-Triples bulk-loaded into an on-disk pyoxigraph store.

The ratio compares time per input row (ours / baseline): what our geometry functions, checks and
all-or-nothing loading cost, for the extra triples they produce. Aim: at least 100k triples/s
into the store on 2 cores.

    uv run python benchmarks/mapping.py [--rows 1000000] [--skip-spark]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ROOT = HERE.parent
MAPPING = ROOT / "mappings" / "rml" / "sea_ice.rml.ttl"
PRODUCT = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073624_020867_023C9A_6D2B"
CLASSES = ["water", "open-water-in-leads", "brash-pancake-ice", "young-ice", "level-first-year-ice", "deformed-ice"]


def generate(path: Path, rows: int) -> None:
    """A sea-ice class map north of Svalbard: small polygons with class and confidence."""
    import geopandas
    import shapely

    rng = np.random.default_rng(42)
    x, y = rng.uniform(10, 25, rows), rng.uniform(79.5, 82, rows)
    vertices = rng.integers(8, 13, rows)
    polygons = []
    for cx, cy, n in zip(x, y, vertices):  # convex hulls of random points: valid, 6-12 vertices
        points = np.column_stack([cx + rng.uniform(-0.04, 0.04, n), cy + rng.uniform(-0.01, 0.01, n)])
        polygons.append(shapely.convex_hull(shapely.multipoints(points)))
    frame = geopandas.GeoDataFrame(
        {
            "region_id": np.arange(rows),
            "ice_class": rng.choice(CLASSES, rows),
            "confidence": rng.uniform(0.4, 1.0, rows).round(3),
            "product_id": PRODUCT,
            "time": "2018-03-05T07:35:20Z",
            "model": "seaice-cnn",
            "model_version": "1",
        },
        geometry=polygons,
        crs="OGC:CRS84",
    )
    frame.to_parquet(path)


def baseline_mapping(directory: Path, source: Path) -> Path:
    """The sea-ice mapping for plain morph-kgc: the file as its source, no functions of ours.

    The WKT and the time become plain references (morph-kgc's GeoParquet reader writes geometries
    as WKT); the predicate-object maps of every other function are dropped.
    """
    import rdflib

    from mappings.plan import RML, remove_tree

    graph = rdflib.Graph().parse(MAPPING, format="turtle")
    plain = {"asWKT": "geometry", "dateTime": "time"}
    for term_map, execution in list(graph.subject_objects(RML.functionExecution)):
        name = str(graph.value(execution, RML.function)).rsplit("#", 1)[-1]
        remove_tree(graph, execution)
        graph.remove((term_map, RML.functionExecution, execution))
        if name in plain:
            graph.add((term_map, RML.reference, rdflib.Literal(plain[name])))
        else:
            member = graph.value(predicate=RML.objectMap, object=term_map)
            graph.remove((None, RML.predicateObjectMap, member))
            remove_tree(graph, member)
    for logical_source in set(graph.objects(None, RML.logicalSource)):
        graph.set((logical_source, RML.source, rdflib.Literal(str(source))))
        graph.set((logical_source, RML.referenceFormulation, RML.GeoParquet))
    path = directory / "baseline.rml.ttl"
    graph.serialize(path, format="turtle")
    return path


def run_baseline(source: Path, directory: Path) -> tuple[float, int]:
    import morph_kgc
    import pyoxigraph as ox

    logging.getLogger("morph_kgc").setLevel(logging.WARNING)
    mapping = baseline_mapping(directory, source)
    started = time.perf_counter()
    config = f"[CONFIGURATION]\noutput_format=N-TRIPLES\nnumber_of_processes=1\n\n[Mapping]\nmappings={mapping}\n"
    triples = morph_kgc.materialize_set(config)
    output = directory / "baseline.nt"
    with output.open("w") as out:
        for line in triples:
            out.write(line + ".\n")
    store = ox.Store(str(directory / "baseline-store"))
    store.bulk_load(path=str(output), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    return time.perf_counter() - started, len(triples)


def run_ours(source: Path, directory: Path, engine: str, master: str | None = None) -> tuple[float, int]:
    from api.mapping import map_into_store
    from kg.embedded import EmbeddedStore

    if master:
        import os

        os.environ["EEKG_SPARK_MASTER"] = master
    started = time.perf_counter()
    with EmbeddedStore(directory / f"store-{engine}") as store:
        run, _ = map_into_store(store, MAPPING, [source], engine=engine, validate="off")
    return time.perf_counter() - started, run.triples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    source = data / f"sea-ice-{args.rows}.parquet"
    if not source.exists():
        print(f"generating {source} ...")
        generate(source, args.rows)
    runs = [("baseline morph-kgc", lambda d: run_baseline(source, d)), ("ours local", lambda d: run_ours(source, d, "local"))]
    if not args.skip_spark:
        runs.append(("ours spark local[2]", lambda d: run_ours(source, d, "spark", "local[2]")))
    results = {}
    for name, run in runs:
        directory = Path(tempfile.mkdtemp(prefix="eekg-mapping-", dir=data))
        try:
            seconds, triples = run(directory)
        finally:
            shutil.rmtree(directory)
        results[name] = {"seconds": seconds, "triples": triples, "rows_per_s": args.rows / seconds,
                         "triples_per_s": triples / seconds}
        print(f"{name:22} {seconds:8.1f} s {args.rows / seconds:10,.0f} rows/s {triples:12,} triples "
              f"{triples / seconds:10,.0f} triples/s", flush=True)
    base = results["baseline morph-kgc"]["seconds"]
    for name in results:
        results[name]["time_ratio_vs_baseline"] = results[name]["seconds"] / base
    print("time per row, ours / baseline: " + ", ".join(
        f"{n} {r['time_ratio_vs_baseline']:.2f}x" for n, r in results.items() if not n.startswith("baseline")))
    best = max(r["triples_per_s"] for n, r in results.items() if n.startswith("ours"))
    print(f"best triples/s into the store: {best:,.0f} (aim >= 100,000): {'PASS' if best >= 100_000 else 'FAIL'}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "mapping.json").write_text(json.dumps({
        "benchmark": "mapping", "rows": args.rows, "mapping": str(MAPPING.relative_to(ROOT)), "results": results,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
