"""The Spark store beside the embedded store: load throughput and the Geographica-style queries.

The data and queries are those of the planner benchmark (``benchmarks/geographica.py``: its
generator and its query list), at a number of triples (about 4.1 triples per geometry). For each
scale, in the same run:

- **load**: ``EmbeddedStore.load`` on disk (with its spatial index) and ``eekg spark load``'s
  ``load_warehouse`` (Parquet tables, geometry table, grid cells, statistics): triples per second;
- **queries**: each Geographica query on the embedded store and on the Spark store with
  ``local[1]`` and ``local[2]`` (a new SparkSession per master; one warm-up query first; each
  query run ``--repeat`` times, the best time kept). Answers are compared as sets of rows.

Ratios are Spark time / embedded time (above 1: Spark slower) and local[1] / local[2] (the
speed-up from a second core). Results go to ``benchmarks/results/spark_store.json``.

    flock /tmp/eekg-bench.lock uv run python benchmarks/spark_store.py [--scales 1e5,1e6]
        [--masters local[1],local[2]] [--timeout 600] [--repeat 1] [--queries SI_0.01,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import geographica  # noqa: E402  (the generator and queries of the planner benchmark)

TRIPLES_PER_GEOMETRY = 4.11  # 3 per feature and its geometry, plus its tags (1 + 0.1 + 0.01 + 0.001)


def run_embedded(directory: Path, nt: Path, queries, args) -> dict:
    from kg.embedded import EmbeddedStore

    started = time.perf_counter()
    store = EmbeddedStore(directory)
    report = store.load([nt])
    store.query('ASK { ?f geo:asWKT ?g FILTER(geof:sfIntersects(?g, "POINT(0 0)"^^geo:wktLiteral)) }').boolean()
    load = time.perf_counter() - started
    print(f"  embedded load {load:.1f} s ({report.triples / load:,.0f} triples/s)", flush=True)
    try:
        return {"load_seconds": load, "queries": _timed(store, queries, args, "embedded")}
    finally:
        store.close()


def run_spark(warehouse: Path, master: str, queries, args) -> dict:
    from kg.spark.store import SparkStore
    from mappings.spark import stop_session

    stop_session()
    started = time.perf_counter()
    store = SparkStore(warehouse, master=master)
    store.query(queries[0].sparql).bindings()  # warm-up: JIT, Python workers, Parquet footers
    start_seconds = time.perf_counter() - started
    print(f"  {master}: session and warm-up {start_seconds:.1f} s", flush=True)
    return {"start_seconds": start_seconds, "queries": _timed(store, queries, args, master)}


def _timed(store, queries, args, label: str) -> dict:
    """Each query's best time of ``--repeat`` runs, its answer, and its status (ok, timeout, error)."""
    from kg.errors import QueryTimeout

    out = {}
    for q in queries:
        best, answer, status, message = None, None, "ok", ""
        for _ in range(args.repeat):
            started = time.perf_counter()
            try:
                rows = store.query(q.sparql, timeout=args.timeout).bindings()
            except QueryTimeout:
                status = "timeout"
                break
            except Exception as error:  # noqa: BLE001 - reported in the table
                status, message = "error", str(error)[:300]
                break
            seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
            answer = _answer(rows)
        out[q.name] = {"status": status, "seconds": best, "answer": answer, "message": message}
        print(f"    {label:9} {q.name:28} {_cell(best, status)} {message}", flush=True)
    return out


def _answer(rows) -> frozenset:
    return frozenset(geographica._normalise(str(getattr(v, "value", v)) for v in row.values()) for row in rows)


def _cell(seconds, status) -> str:
    return f"{seconds:9.3f}" if status == "ok" else f"{status:>9}"


def _ratio(a, b) -> float | None:
    return round(a / b, 2) if a and b else None


def run_scale(triples: int, args, workroot: Path) -> dict:
    geometries = max(100, round(triples / TRIPLES_PER_GEOMETRY))
    print(f"\n=== about {triples:g} triples ({geometries} geometries): generating ...", flush=True)
    data = geographica.generate(geometries, args.seed)
    work = Path(tempfile.mkdtemp(prefix=f"spark-store-{triples}-", dir=workroot))
    try:
        nt = work / "data.nt"
        written = geographica.write_ntriples(data, nt)
        queries = [q for q in geographica.queries(data) if not args.queries or q.name in args.queries]
        print(f"  {written:,} triples, {data.total:,} geometries", flush=True)
        from kg.spark.warehouse import load_warehouse

        started = time.perf_counter()
        load_warehouse([nt], work / "warehouse")
        spark_load = time.perf_counter() - started
        print(f"  spark load (Parquet import) {spark_load:.1f} s ({written / spark_load:,.0f} triples/s)", flush=True)
        embedded = run_embedded(work / "embedded", nt, queries, args)
        masters = {m: run_spark(work / "warehouse", m, queries, args) for m in args.masters}
        results = {}
        for q in queries:
            e = embedded["queries"][q.name]
            row = {"kind": q.kind, "what": q.what, "rows": len(e["answer"]) if e["answer"] is not None else None,
                   "seconds": {"embedded": e["seconds"], **{m: r["queries"][q.name]["seconds"] for m, r in masters.items()}},
                   "status": {"embedded": e["status"], **{m: r["queries"][q.name]["status"] for m, r in masters.items()}},
                   "same_answers": {m: (r["queries"][q.name]["answer"] == e["answer"]) if e["answer"] is not None
                                    and r["queries"][q.name]["answer"] is not None else None for m, r in masters.items()},
                   "ratio_spark_embedded": {m: _ratio(r["queries"][q.name]["seconds"], e["seconds"]) for m, r in masters.items()}}
            if len(masters) >= 2:
                one, two = list(masters)[:2]
                row["ratio_cores"] = _ratio(row["seconds"][one], row["seconds"][two])
            results[q.name] = row
        return {"triples": written, "target_triples": triples, "geometries": data.total,
                "load_seconds": {"embedded": embedded["load_seconds"], "spark": spark_load},
                "load_triples_per_second": {"embedded": round(written / embedded["load_seconds"]),
                                            "spark": round(written / spark_load)},
                "spark_start_seconds": {m: r["start_seconds"] for m, r in masters.items()},
                "queries": results}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_table(report: dict) -> None:
    masters = report["masters"]
    print("\n" + "=" * 120)
    print(f"{'query':28} {'triples':>9} {'rows':>7} {'embedded':>9} " + " ".join(f"{m:>9}" for m in masters)
          + " " + " ".join(f"{'/emb ' + m:>15}" for m in masters) + f" {'1 vs 2 cores':>12}  answers")
    for run in report["runs"]:
        print(f"{'load (triples/s)':28} {run['triples']:>9,} {'':>7} {run['load_triples_per_second']['embedded']:>9,} "
              f"{run['load_triples_per_second']['spark']:>9,}  (Parquet import)")
        for name, r in run["queries"].items():
            cells = [_cell(r["seconds"][s], r["status"][s]) for s in ["embedded", *masters]]
            ratios = [f"{r['ratio_spark_embedded'][m] or '-':>15}" for m in masters]
            same = "same" if all(r["same_answers"].values()) else f"DIFFERENT {r['same_answers']}"
            print(f"{name:28} {run['triples']:>9,} {r['rows'] if r['rows'] is not None else '-':>7} " + " ".join(cells)
                  + " " + " ".join(ratios) + f" {r.get('ratio_cores') or '-':>12}  {same}")
    print("times in seconds (best of --repeat); ratios: Spark / embedded, local[1] / local[2]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1e5,1e6", help="comma-separated triple counts")
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per query and system")
    parser.add_argument("--repeat", type=int, default=1, help="runs per query (the best is kept)")
    parser.add_argument("--queries", default="", help="comma-separated query names (default all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(HERE / "results" / "spark_store.json"))
    args = parser.parse_args()
    args.masters = [m for m in args.masters.split(",") if m]
    args.queries = [q for q in args.queries.split(",") if q]
    # The driver collects answers of up to a million rows: more than Spark's default 1 GB of heap.
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-memory 8g pyspark-shell")
    import pyspark

    report = {"benchmark": "spark_store", "masters": args.masters, "timeout": args.timeout, "repeat": args.repeat,
              "seed": args.seed, "machine": {"python": platform.python_version(), "pyspark": pyspark.__version__,
                                             "cpus": os.cpu_count()},
              "notes": {"embedded": "EmbeddedStore on disk, spatial planner (kg/geosparql/planner.py)",
                        "spark": "SparkStore over the Parquet warehouse (kg/spark/), grid joins and pandas UDFs; "
                                 "a new session per master, one warm-up query"},
              "runs": []}
    (HERE / "data").mkdir(exist_ok=True)
    for scale in (int(float(s)) for s in args.scales.split(",")):
        report["runs"].append(run_scale(scale, args, HERE / "data"))
        report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        Path(args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_table(report)


if __name__ == "__main__":
    main()
