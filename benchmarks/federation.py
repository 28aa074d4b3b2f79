"""LUCAS validation at the reference study's scale, end-to-end through the federated endpoint.

The crop map (936,566 generated field polygons of realistic size, 0.3-6 ha, over eastern Austria)
sits in our own server (uvicorn, embedded store with its spatial index); the 8,841 LUCAS points in
the real Oxigraph server (`oxigraph serve`); the code lists in the federated server's own store.
`POST /lucas/validate` on the federated server is timed (warm: the sources' descriptions are made
first, and each server's spatial index is built at its first spatial query), against the baseline
in the same run: the same validation on one embedded store holding all the data. Answers are
cross-checked.

The catalogue: 1e5 generated Sentinel-1 and Sentinel-2 product records (the records the Copernicus
adapter writes), each with four predicted regions (sea-ice or crop classes with their areas), in
our server; `GET /catalogue/search` for "Sentinel-1 scenes over Svalbard in March 2018 with more
than 30 % young ice" is timed warm (best of 5), against the same search evaluated in the same
store without the spatial index (the planner off) as the baseline.

Results go to benchmarks/results/federation.json.

    flock /tmp/eekg-bench.lock uv run --group test python benchmarks/federation.py \
        [--fields 936566] [--points 8841] [--products 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "federation"), str(ROOT / "benchmarks")]

from federation_support import eekg_server, oxigraph_server  # noqa: E402

from federation.lucas import validate_crop_map  # noqa: E402
from kg.embedded import EmbeddedStore  # noqa: E402
from ontologies import CODELIST_FILES  # noqa: E402

D, GEO = "https://w3id.org/eekg/data/", "http://www.opengis.net/ont/geosparql#"
FOOD, SOSA = "https://w3id.org/eekg/ont/food#", "http://www.w3.org/ns/sosa/"
CROP, LC1 = "https://w3id.org/eekg/codes/crop-type/", "https://w3id.org/eekg/codes/lucas-lc1/"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
# crop type -> an LC1 code mapped to it (ontologies/codes/mappings.ttl)
CROPS = {"maize": "B16", "winter-wheat": "B11", "rapeseed": "B32", "potato": "B21", "rye": "B14", "winter-barley": "B13",
         "soy": "B33", "sunflower": "B31", "triticale": "B18", "grassland": "E20", "legumes": "B41", "beet": "B22"}
AREA = (14.5, 47.0, 17.0, 48.9)  # west, south, east, north


def crop_map(fields: int, rng) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """N-Triples of the crop map, with the polygons' centres, crop indices and sizes (for placing points)."""
    x = rng.uniform(AREA[0], AREA[2], fields)
    y = rng.uniform(AREA[1], AREA[3], fields)
    hectares = np.clip(rng.lognormal(np.log(1.5), 0.6, fields), 0.3, 6.0)
    side_m = np.sqrt(hectares * 1e4)
    aspect = rng.uniform(0.5, 2.0, fields)
    w = side_m * aspect / (111_320 * np.cos(np.radians(y)))
    h = side_m / aspect / 111_200
    crop = rng.integers(0, len(CROPS), fields)
    names = list(CROPS)
    lines = []
    for i in range(fields):
        o, r = f"<{D}crop-type/AT/2018/c{i}>", f"<{D}crop-type/AT/2018/c{i}/region>"
        g = f"<{D}crop-type/AT/2018/c{i}/region/geometry>"
        x0, y0, x1, y1 = x[i], y[i], x[i] + w[i], y[i] + h[i]
        lines.append(f"{o} {TYPE} <{FOOD}CropTypeObservation> .\n{o} <{FOOD}cropType> <{CROP}{names[crop[i]]}> .\n"
                     f"{o} <{SOSA}hasFeatureOfInterest> {r} .\n{r} <{GEO}hasGeometry> {g} .\n"
                     f'{g} <{GEO}asWKT> "POLYGON(({x0:.6f} {y0:.6f}, {x1:.6f} {y0:.6f}, {x1:.6f} {y1:.6f}, {x0:.6f} {y1:.6f}, '
                     f'{x0:.6f} {y0:.6f}))"^^<{GEO}wktLiteral> .\n')
    return "".join(lines).encode(), np.column_stack([x + w / 2, y + h / 2]), crop, np.column_stack([w, h])


def lucas_points(n: int, centres: np.ndarray, crop: np.ndarray, sizes: np.ndarray, rng) -> bytes:
    """Points: two thirds in a field, labelled with its crop's LC1 code or (one in five) another; a third anywhere."""
    names, lines = list(CROPS), []
    chosen = rng.choice(len(centres), n, replace=False)
    for k in range(n):
        i = chosen[k]
        if k % 3 != 2:
            px, py = centres[i] + rng.uniform(-0.4, 0.4, 2) * sizes[i]
            label = crop[i] if rng.random() > 0.2 else rng.integers(0, len(names))
        else:
            px, py = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
            label = rng.integers(0, len(names))
        point_id = f"{4700_0000 + k}"
        obs, pt = f"<{D}lucas/2018/{point_id}>", f"<{D}lucas/2018/{point_id}/point>"
        lines.append(f"{obs} {TYPE} <{FOOD}LucasObservation> .\n{obs} <{FOOD}landCover> <{LC1}{CROPS[names[label]]}> .\n"
                     f"{obs} <{SOSA}hasFeatureOfInterest> {pt} .\n{pt} <{FOOD}pointId> \"{point_id}\" .\n"
                     f"{pt} <{GEO}hasGeometry> {pt[:-1]}/geometry> .\n"
                     f'{pt[:-1]}/geometry> <{GEO}asWKT> "POINT({px:.7f} {py:.7f})"^^<{GEO}wktLiteral> .\n')
    return "".join(lines).encode()


ICE = ["water", "young-ice", "level-first-year-ice", "deformed-ice", "brash-pancake-ice", "land"]
PROV, XSD = "http://www.w3.org/ns/prov#", "http://www.w3.org/2001/XMLSchema#"
SEAICE, POLAR = "https://w3id.org/eekg/codes/sea-ice/", "https://w3id.org/eekg/ont/polar#"


def products(n: int, rng) -> bytes:
    """Product records over 2018 (Sentinel-1 EW scenes in the Arctic, Sentinel-2 tiles over Europe),
    each with four predicted regions side by side, their classes' shares drawn at random."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from federation.products import ProductRecord

    year = datetime(2018, 1, 1, tzinfo=timezone.utc).timestamp()
    lines = []
    for i in range(n):
        t = year + rng.uniform(0, 365 * 86400)
        start, stop = (datetime.fromtimestamp(v, timezone.utc).replace(microsecond=0) for v in (t, t + 60))
        a, b = start.strftime("%Y%m%dT%H%M%S"), stop.strftime("%Y%m%dT%H%M%S")
        unit = "AB"[i % 4 // 2]
        if i % 2 == 0:
            x, y, w, h = rng.uniform(-30, 60), rng.uniform(65, 83), 13.0, 3.6
            record = ProductRecord(f"S1{unit}_EW_GRDM_1SDH_{a}_{b}_{i % 999_999:06d}_{i % 0xFFFFFF:06X}_{i % 0xFFFF:04X}",
                                   f"Sentinel-1{unit}", "EW", "GRD", start.isoformat().replace("+00:00", "Z"),
                                   stop.isoformat().replace("+00:00", "Z"), polarisation="HH HV")
            classes, prop, codes = list(ICE), POLAR + "iceClass", SEAICE
        else:
            x, y, w, h = rng.uniform(-10, 30), rng.uniform(35, 60), 1.5, 1.0
            record = ProductRecord(f"S2{unit}_MSIL2A_{a}_N0206_R{i % 143:03d}_T33U{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}_{a}",
                                   f"Sentinel-2{unit}", "MSI", "S2MSI2A", start.isoformat().replace("+00:00", "Z"),
                                   cloud_cover=round(float(rng.uniform(0, 100)), 1))
            classes, prop, codes = list(CROPS)[:6], FOOD + "cropType", CROP
        record = replace(record, footprint=_box(x, y, x + w, y + h), footprint_area=1e10)
        lines.append(record.ntriples())
        shares = rng.dirichlet(np.ones(4))
        for k, c in enumerate(rng.choice(len(classes), 4, replace=False)):
            o = f"<{record.iri}/r{k}>"
            r, g = f"<{record.iri}/r{k}/region>", f"<{record.iri}/r{k}/region/geometry>"
            lines.append(f"{o} <{PROV}wasDerivedFrom> <{record.iri}> .\n{o} <{prop}> <{codes}{classes[c]}> .\n"
                         f"{o} <{SOSA}hasFeatureOfInterest> {r} .\n{r} <{GEO}hasGeometry> {g} .\n"
                         f'{g} <{GEO}asWKT> "{_box(x + w * k / 4, y, x + w * (k + 1) / 4, y + h)}"^^<{GEO}wktLiteral> .\n'
                         f'{g} <{GEO}hasMetricArea> "{float(shares[k]) * 1e10!r}"^^<{XSD}double> .\n')
    return "".join(lines).encode()


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"POLYGON(({x0:.4f} {y0:.4f}, {x1:.4f} {y0:.4f}, {x1:.4f} {y1:.4f}, {x0:.4f} {y1:.4f}, {x0:.4f} {y0:.4f}))"


def catalogue(n: int, rng, results: dict) -> None:
    """The catalogue search over ``n`` products: over HTTP (warm, best of 5), and the baseline."""
    from federation.catalogue import Search, search, search_query

    started = time.perf_counter()
    data = products(n, rng)
    results["catalogue_generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    store = EmbeddedStore()
    store.load_data(data, "ntriples")
    del data
    store.load(list(CODELIST_FILES))
    store.spatial_index()
    results["catalogue_load_s"] = time.perf_counter() - started
    params = {"bbox": "10,76,30,81", "start": "2018-03-01T00:00:00Z", "end": "2018-04-01T00:00:00Z",
              "mission": "Sentinel-1", "class": "young-ice", "minShare": "0.3"}
    with eekg_server(store, query_timeout=600) as url:
        base = url.rsplit("/", 1)[0]
        times = []
        for _ in range(6):
            started = time.perf_counter()
            response = httpx.get(base + "/catalogue/search", params=params, timeout=600)
            times.append(time.perf_counter() - started)
            response.raise_for_status()
    found = response.json()["products"]
    wanted = Search(area="POLYGON((10 76, 30 76, 30 81, 10 81, 10 76))", mission="Sentinel-1", observed="young-ice",
                    min_share=0.3, start=_utc("2018-03-01"), end=_utc("2018-04-01"))
    assert [p.identifier for p in search(store, wanted)] == [p["identifier"] for p in found], "the answers differ"
    started = time.perf_counter()
    naive = store.query(search_query(wanted), naive=True).bindings()
    results["catalogue_naive_s"] = time.perf_counter() - started
    assert [r["id"].value for r in naive] == [p["identifier"] for p in found], "the naive answer differs"
    results.update(catalogue_products=n, catalogue_found=len(found), catalogue_search_s=min(times[1:]),
                   catalogue_search_runs_s=times, catalogue_naive_vs_search=results["catalogue_naive_s"] / min(times[1:]))
    print(f"catalogue: {len(found)} products of {n:,} in {min(times[1:]) * 1000:.0f} ms over HTTP (first {times[0]:.2f} s); "
          f"without the spatial index {results['catalogue_naive_s'] * 1000:.0f} ms, "
          f"{results['catalogue_naive_vs_search']:.1f}x")


def _utc(day: str):
    from datetime import datetime, timezone

    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


def postgis_validation(crops_nt: Path, points: bytes, mapping: list[tuple[str, str]], workdir: Path, results: dict) -> set[str]:
    """The same validation in PostgreSQL + PostGIS (benchmarks/geographica.py's private cluster):
    ``ST_DWithin`` on geography (metres on the spheroid) with a GiST index on the crop polygons'
    geography; returns the positive points' ids."""
    from types import SimpleNamespace

    from geographica import PostGIS

    crops_tsv, points_tsv, mapping_tsv = workdir / "crops.tsv", workdir / "points.tsv", workdir / "mapping.tsv"
    _tsv_from_ntriples(crops_nt.read_bytes(), crops_tsv, f"<{FOOD}cropType>", CROP)
    _tsv_from_ntriples(points, points_tsv, f"<{FOOD}landCover>", LC1)
    mapping_tsv.write_text("".join(f"{lc}\t{crop}\n" for lc, crop in mapping))
    for file in (crops_tsv, points_tsv, mapping_tsv):
        file.chmod(0o644)
    workdir.chmod(0o755)
    postgis = PostGIS.empty()  # Geographica's private cluster, with our tables instead of its own
    try:
        started = time.perf_counter()
        done = postgis._psql(f"""CREATE EXTENSION postgis;
CREATE TABLE crops (id text, crop text, geom geometry(Polygon, 4326));
\\copy crops FROM '{crops_tsv}'
CREATE INDEX ON crops USING gist ((geom::geography));
CREATE TABLE points (id text, lc text, geom geometry(Point, 4326));
\\copy points FROM '{points_tsv}'
CREATE TABLE mapping (lc text, crop text);
\\copy mapping FROM '{mapping_tsv}'
ANALYZE crops; ANALYZE points; ANALYZE mapping;""")
        assert done.returncode == 0, done.stderr
        results["postgis_load_s"] = time.perf_counter() - started
        sql = ("SELECT DISTINCT p.id FROM points p JOIN mapping m ON m.lc = p.lc JOIN crops c ON c.crop = m.crop "
               "WHERE ST_DWithin(p.geom::geography, c.geom::geography, 10)")
        outcomes = [postgis.run(SimpleNamespace(sql=sql), 600) for _ in range(2)]
        assert all(o.status == "ok" for o in outcomes), outcomes
        results["postgis_validate_s"] = min(o.seconds for o in outcomes)
        return {row[0] for row in outcomes[-1].answer}
    finally:
        postgis.close()


def _tsv_from_ntriples(data: bytes, path: Path, predicate: str, codes: str) -> None:
    """id, code, EWKT per feature of our generated N-Triples: the code of ``predicate`` of the
    observation, the WKT of its feature's geometry (subjects share the observation's IRI as prefix)."""
    code, wkt = {}, {}
    for line in data.decode().splitlines():
        subject, rest = line.split(" ", 1)
        if rest.startswith(predicate):
            code[subject[1:-1]] = rest.split("<", 2)[2].split(">", 1)[0].removeprefix(codes)
        elif rest.startswith(f"<{GEO}asWKT>"):
            wkt[subject[1:-1].split("/region/")[0].split("/point/")[0]] = rest.split('"', 2)[1]
    with path.open("w") as out:
        for iri, value in code.items():
            out.write(f"{iri.rsplit('/', 1)[-1]}\t{value}\tSRID=4326;{wkt[iri]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fields", type=int, default=936_566)
    parser.add_argument("--points", type=int, default=8_841)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--no-postgis", action="store_true", help="Skip the PostGIS baseline.")
    parser.add_argument("--catalogue-only", action="store_true", help="Only the catalogue search.")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "federation.json")
    args = parser.parse_args()
    rng = np.random.default_rng(2018)
    results: dict = {"fields": args.fields, "points": args.points}
    if args.products:
        catalogue(args.products, np.random.default_rng(1), results)
    if args.catalogue_only:
        args.output.write_text(json.dumps(results, indent=1))
        return
    started = time.perf_counter()
    crops, centres, crop, sizes = crop_map(args.fields, rng)
    points = lucas_points(args.points, centres, crop, sizes, rng)
    results["generate_s"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="eekg-federation-bench-") as folder:
        crops_file = Path(folder) / "crops.nt"
        crops_file.write_bytes(crops)
        del crops
        started = time.perf_counter()
        crop_store = EmbeddedStore()
        crop_store.load([crops_file])
        results["load_crop_map_s"] = time.perf_counter() - started
        own = EmbeddedStore()
        own.load(list(CODELIST_FILES))
        with oxigraph_server(points) as lucas_url, eekg_server(crop_store, query_timeout=600) as crops_url:
            config = Path(folder) / "federation.toml"
            config.write_text(f'timeout = 600\n[[source]]\nname = "crops"\nurl = "{crops_url}"\ntimeout = 600\n'
                              f'[[source]]\nname = "lucas"\nurl = "{lucas_url}"\ntimeout = 600\n'
                              '[[source]]\nname = "codes"\nstore = "self"\n')
            with eekg_server(own, federation=config, query_timeout=600) as federated:
                base = federated.rsplit("/", 1)[0]
                started = time.perf_counter()
                httpx.get(federated, params={"query": "ASK { ?s <urn:eekg:none> ?o }"},  # describes the sources, gathers nothing
                          timeout=600).raise_for_status()
                results["describe_sources_s"] = time.perf_counter() - started
                started = time.perf_counter()  # builds the crop server's spatial index (a one-off per server)
                httpx.get(crops_url, params={"query": 'ASK { ?g geo:asWKT ?w FILTER(geof:sfIntersects(?w, '
                                             '"POINT(15 48)"^^geo:wktLiteral)) }'}, timeout=600).raise_for_status()
                results["crop_index_build_s"] = time.perf_counter() - started
                times = []
                for _ in range(2):
                    started = time.perf_counter()
                    response = httpx.post(base + "/lucas/validate", json={"distance": 10}, timeout=600)
                    times.append(time.perf_counter() - started)
                    response.raise_for_status()
                answer = response.json()
        results["federated_validate_s"] = min(times)
        results["federated_validate_runs_s"] = times
        print(f"federated: {answer['points']:,} applicable points, {answer['positive']:,} positive, "
              f"{answer['negative']:,} negative in {min(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})")
        del crop_store
        started = time.perf_counter()
        union = EmbeddedStore()
        union.load([crops_file, *CODELIST_FILES])
        union.load_data(points, "ntriples")
        union.spatial_index()
        results["baseline_load_s"] = time.perf_counter() - started
        times = []
        for _ in range(2):
            started = time.perf_counter()
            expected = validate_crop_map(union, 10)
            times.append(time.perf_counter() - started)
        results["one_store_validate_s"], results["one_store_validate_runs_s"] = min(times), times
        positive = {p.point_id for p in expected.points if p.positive}
        assert (len(expected.points), expected.positive) == (answer["points"], answer["positive"]), "the answers differ"
        assert positive == {p["point_id"] for p in answer["results"] if p["positive"]}
        results["federated_vs_one_store"] = results["federated_validate_s"] / results["one_store_validate_s"]
        results.update(applicable=answer["points"], positive=answer["positive"], negative=answer["negative"])
        print(f"one store: {results['one_store_validate_s']:.2f} s; federated / one store = {results['federated_vs_one_store']:.2f}")
        if not args.no_postgis:
            mapping = [(r["lc"].value.rsplit("/", 1)[-1], r["crop"].value.rsplit("/", 1)[-1]) for r in union.query(
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT DISTINCT ?lc ?crop { ?crop skos:exactMatch|skos:broadMatch|skos:narrowMatch ?lc }").bindings()]
            del union
            theirs = postgis_validation(crops_file, points, mapping, Path(folder), results)
            applicable = {p.point_id for p in expected.points}
            results["postgis_positive"] = len(theirs & applicable)
            results["postgis_differs_on"] = sorted(theirs ^ positive)[:20]
            results["federated_vs_postgis"] = results["federated_validate_s"] / results["postgis_validate_s"]
            print(f"PostGIS: {results['postgis_validate_s']:.2f} s ({len(theirs & applicable):,} positive; differs on "
                  f"{len(theirs ^ positive)} points); federated / PostGIS = {results['federated_vs_postgis']:.2f}")
    args.output.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
