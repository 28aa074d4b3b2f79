"""Geographica-2-style benchmark: spatial selections, joins and an aggregation on three systems.

A seeded synthetic data set (after Geographica 2's synthetic workload, Ioannidis et al. 2021):
hexagonal land parcels (a flat-top hexagon tiling whose neighbours share vertices exactly, so
``touches`` is exact), larger regions (a coarser, offset hexagon tiling), roads (random
polylines) and points of interest (random points), in CRS84 near (16 E, 48 N). Every feature has
a uniform random integer ``u`` in [0, 1000) and the thematic tags ``tag_1`` (all), ``tag_10``
(u % 10 == 0), ``tag_100`` (u % 100 == 0), ``tag_1000`` (u == 0). Query windows are squares
around the centre of the data sized (by bisection, with an STRtree) to intersect 1, 0.1, 0.01 and
0.001 of all geometries; the actual selectivities are recorded.

Each query is run, in the same run, on

- **ours**: ``kg.embedded.EmbeddedStore`` on disk, ``store.query(q, timeout=T).bindings()``;
- **oxigraph**: plain ``pyoxigraph.Store`` on disk with no custom functions (its native ``geof:``
  topology), in a subprocess that is killed at the time limit. It has no ``geof:distance`` nor
  ``geof:buffer``: those queries are "n/a" for it;
- **postgis**: PostgreSQL 15 + PostGIS 3 (Debian ``postgresql-15-postgis-3``, installed with
  apt-get if missing), a private cluster in a temporary directory on 127.0.0.1, one table per
  feature kind with GiST indexes on ``geom`` (and on ``geom::geography`` for distances), queried
  with the ``psql`` CLI (``\\timing``: server round trip, no connection set-up) under
  ``statement_timeout``.

Topology in PostGIS is on ``geometry(SRID 4326)``: planar in longitude/latitude, as GeoSPARQL's
(and our store's) relations are. Distances and buffers in metres are on ``geography`` (WGS 84
spheroid), as our store measures CRS84 geometries geodesically. Answers are compared as sets of
feature ids (pairs for joins, (region, count) for the aggregation) across the systems that
finished; mismatches are listed.

Our store plans every spatial FILTER here with its spatial index (docs/geosparql.md, "Spatial
planning"); ``--naive`` runs it row by row instead (a scan for selections, a nested loop for joins),
the baseline measured before the planner existed.

    uv run python benchmarks/geographica.py [--scales 1e3,1e4,1e5,2e5,1e6] [--timeout 60]
        [--oxigraph-timeout 1200] [--systems ours,oxigraph,postgis] [--queries SI_0.001,...]
        [--seed 42] [--append] [--no-skip] [--keep] [--naive]

A system that goes over the limit on a query is not run on that query at larger scales (marked
"> limit", as Geographica does) unless --no-skip. --append adds scales to an existing results file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

HERE = Path(__file__).parent
NS = "https://w3id.org/eekg/bench/geographica/"
EX = "https://w3id.org/eekg/bench/geographica/ont#"
GEO = "http://www.opengis.net/ont/geosparql#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIXES = f"""PREFIX geo: <{GEO}>
PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
PREFIX ex: <{EX}>
"""
KINDS = ("parcel", "region", "road", "poi")
CLASSES = {"parcel": "Parcel", "region": "Region", "road": "Road", "poi": "PointOfInterest"}
SHARES = {"parcel": 0.50, "region": 0.01, "road": 0.19, "poi": 0.30}  # of the total geometries
TAGS = (1, 10, 100, 1000)
SELECTIVITIES = (1.0, 0.1, 0.01, 0.001)
HEX = 0.001  # parcel circumradius in degrees (about 75-110 m)
ORIGIN = (16.0, 48.0)
ROAD_DISTANCE = 20.0  # metres, for the points-near-roads join
SYSTEMS = ("ours", "oxigraph", "postgis")


# --- data ------------------------------------------------------------------------------------


@dataclass
class Dataset:
    scale: int
    seed: int
    ids: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> ids ("parcel_12")
    u: dict[str, np.ndarray] = field(default_factory=dict)
    wkt: dict[str, np.ndarray] = field(default_factory=dict)
    geoms: dict[str, np.ndarray] = field(default_factory=dict)  # parsed back from the WKT
    extent: tuple[float, float, float, float] = (0, 0, 0, 0)
    windows: dict[float, dict] = field(default_factory=dict)  # target selectivity -> window
    centre: tuple[float, float] = (0, 0)
    poi_radius: dict[str, float] = field(default_factory=dict)  # query -> metres

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.ids.values())

    def all_geoms(self) -> np.ndarray:
        return np.concatenate([self.geoms[k] for k in KINDS])


def _hexagons(cols: int, rows: int, size: float, x0: float, y0: float) -> np.ndarray:
    """Flat-top hexagons; vertices on an integer lattice, so neighbours share them bit for bit."""
    half, h = size / 2, size * math.sqrt(3) / 2
    col, row = np.meshgrid(np.arange(cols), np.arange(rows))
    col, row = col.ravel(), row.ravel()
    ck, cj = 3 * col, 2 * row + (col & 1)
    dk = np.array([2, 1, -1, -2, -1, 1, 2])
    dj = np.array([0, 1, 1, 0, -1, -1, 0])
    xs = x0 + (ck[:, None] + dk[None, :]) * half
    ys = y0 + (cj[:, None] + dj[None, :]) * h
    return shapely.polygons(np.stack([xs, ys], axis=-1))


def generate(scale: int, seed: int = 42) -> Dataset:
    """The synthetic data set of about ``scale`` geometries (the exact count is ``Dataset.total``)."""
    rng = np.random.default_rng(seed)
    data = Dataset(scale, seed)
    parcels = max(16, round(scale * SHARES["parcel"]))
    rows = max(4, round(math.sqrt(parcels / 1.155)))
    cols = max(4, round(parcels / rows))
    shapes = {"parcel": _hexagons(cols, rows, HEX, *ORIGIN)}
    xmin, ymin = ORIGIN[0] - HEX, ORIGIN[1] - HEX
    xmax, ymax = ORIGIN[0] + (1.5 * cols + 0.5) * HEX, ORIGIN[1] + (2 * rows + 1) * HEX * math.sqrt(3) / 2
    data.extent = (xmin, ymin, xmax, ymax)
    width, height = xmax - xmin, ymax - ymin
    # regions: a coarser hexagon tiling, offset from the parcels', covering the extent
    regions = max(4, round(scale * SHARES["region"]))
    big = math.sqrt(width * height / regions / (1.5 * math.sqrt(3)))
    rcols, rrows = math.ceil(width / (1.5 * big)) + 1, math.ceil(height / (math.sqrt(3) * big)) + 1
    shapes["region"] = _hexagons(rcols, rrows, big, xmin + 0.37 * big, ymin + 0.21 * big)
    # roads: polylines of 2-5 segments, each 0.5-3 parcel sizes long
    n_roads = max(4, round(scale * SHARES["road"]))
    segments = rng.integers(2, 6, n_roads)
    starts = np.column_stack([rng.uniform(xmin, xmax, n_roads), rng.uniform(ymin, ymax, n_roads)])
    lines = []
    for start, k in zip(starts, segments):
        angles = rng.uniform(0, 2 * math.pi, k)
        steps = rng.uniform(0.5, 3, k)[:, None] * HEX * np.column_stack([np.cos(angles), np.sin(angles)])
        lines.append(np.vstack([start, start + np.cumsum(steps, axis=0)]))
    shapes["road"] = shapely.linestrings(np.vstack(lines), indices=np.repeat(np.arange(n_roads), segments + 1))
    n_pois = max(4, round(scale * SHARES["poi"]))
    shapes["poi"] = shapely.points(rng.uniform(xmin, xmax, n_pois), rng.uniform(ymin, ymax, n_pois))
    for kind in KINDS:
        n = len(shapes[kind])
        data.ids[kind] = np.array([f"{kind}_{i}" for i in range(n)])
        data.u[kind] = rng.integers(0, 1000, n)
        data.wkt[kind] = shapely.to_wkt(shapes[kind], rounding_precision=7, trim=True)
        data.geoms[kind] = shapely.from_wkt(data.wkt[kind])  # what every system will read
    data.centre = ((xmin + xmax) / 2 + 0.123 * HEX, (ymin + ymax) / 2 + 0.077 * HEX)
    _choose_windows(data)
    _choose_radii(data)
    return data


def _choose_windows(data: Dataset) -> None:
    """Square windows around the centre intersecting the target fractions of all geometries."""
    geoms = data.all_geoms()
    tree = shapely.STRtree(geoms)
    cx, cy = data.centre
    total = len(geoms)

    def hits(half: float) -> int:
        return len(tree.query(shapely.box(cx - half, cy - half, cx + half, cy + half), predicate="intersects"))

    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    full = max(cx - xmin, xmax - cx, cy - ymin, ymax - cy) * 1.01
    for target in SELECTIVITIES:
        if target >= 1:
            half = full
        else:
            lo, hi = 0.0, full
            for _ in range(40):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if hits(mid) < target * total else (lo, mid)
            half = max(hi, HEX / 4)  # a window no smaller than a few metres: never degenerate when rounded
        window = shapely.box(cx - half, cy - half, cx + half, cy + half)
        within = len(tree.query(window, predicate="contains"))  # window contains g <=> g within window
        data.windows[target] = {
            "wkt": shapely.to_wkt(window, rounding_precision=7, trim=True),
            "intersects": hits(half), "within": within,
            "selectivity": hits(half) / total, "within_selectivity": within / total,
        }
    # the WKT of the window is rounded: count again on the rounded one
    for w in data.windows.values():
        rounded = shapely.from_wkt(w["wkt"])
        w["intersects"] = len(tree.query(rounded, predicate="intersects"))
        w["within"] = len(tree.query(rounded, predicate="contains"))
        w["selectivity"], w["within_selectivity"] = w["intersects"] / total, w["within"] / total


def _choose_radii(data: Dataset) -> None:
    """Radii for the distance and buffer selections on POIs: 1 % of them, midway between two POIs' distances."""
    from pyproj import Geod

    pois = data.geoms["poi"]
    x, y = shapely.get_x(pois), shapely.get_y(pois)
    cx, cy = data.centre
    _, _, dist = Geod(ellps="WGS84").inv(np.full_like(x, cx), np.full_like(y, cy), x, y)
    d = np.sort(dist)
    k = max(1, round(0.01 * len(d)))
    radius = float((d[k - 1] + d[k]) / 2)
    data.poi_radius = {"distance": radius, "buffer": radius, "margin": float((d[k] - d[k - 1]) / 2)}


def write_ntriples(data: Dataset, path: Path) -> int:
    """GeoSPARQL N-Triples: feature a class; geo:hasGeometry; geo:asWKT wktLiteral; ex:hasTag."""
    lines = 0
    with path.open("w") as out:
        for kind in KINDS:
            cls = f"<{EX}{CLASSES[kind]}>"
            for fid, u, wkt in zip(data.ids[kind], data.u[kind], data.wkt[kind]):
                f = f"<{NS}{fid}>"
                tags = "".join(f"{f} <{EX}hasTag> <{EX}tag_{t}> .\n" for t in TAGS if u % t == 0)
                out.write(
                    f"{f} <{RDF_TYPE}> {cls} .\n{f} <{GEO}hasGeometry> <{NS}{fid}_g> .\n"
                    f'<{NS}{fid}_g> <{GEO}asWKT> "{wkt}"^^<{GEO}wktLiteral> .\n{tags}'
                )
                lines += 3 + tags.count("\n")
    return lines


def write_csv(data: Dataset, directory: Path) -> dict[str, Path]:
    """One tab-separated file per kind for COPY: id, u, EWKT."""
    files = {}
    for kind in KINDS:
        files[kind] = directory / f"{kind}.tsv"
        with files[kind].open("w") as out:
            for fid, u, wkt in zip(data.ids[kind], data.u[kind], data.wkt[kind]):
                out.write(f"{fid}\t{u}\tSRID=4326;{wkt}\n")
    return files


# --- queries ---------------------------------------------------------------------------------


@dataclass
class Query:
    name: str
    kind: str  # selection, join, aggregation
    what: str
    sparql: str
    sql: str
    oxigraph: bool = True  # False: uses functions plain Oxigraph lacks (n/a)
    expected: int | None = None  # rows expected from the generator, when known


def _wkt(text: str) -> str:
    return f'"{text}"^^geo:wktLiteral'


def queries(data: Dataset) -> list[Query]:
    out = []
    feature = "?f geo:hasGeometry ?fg . ?fg geo:asWKT ?g ."
    union = " UNION ALL ".join(f"SELECT id, u, geom FROM {k}" for k in KINDS)
    for s in SELECTIVITIES:
        w = data.windows[s]
        out.append(Query(
            f"SI_{s:g}", "selection", f"features whose geometry intersects a window (selectivity {w['selectivity']:.4g})",
            f"{PREFIXES}SELECT ?f WHERE {{ {feature} FILTER(geof:sfIntersects(?g, {_wkt(w['wkt'])})) }}",
            f"SELECT id FROM ({union}) f WHERE ST_Intersects(geom, ST_GeomFromText('{w['wkt']}', 4326))",
            expected=w["intersects"]))
    w = data.windows[0.01]
    out.append(Query(
        "SW_0.01", "selection", f"features within the 0.01 window (selectivity {w['within_selectivity']:.4g})",
        f"{PREFIXES}SELECT ?f WHERE {{ {feature} FILTER(geof:sfWithin(?g, {_wkt(w['wkt'])})) }}",
        f"SELECT id FROM ({union}) f WHERE ST_Within(geom, ST_GeomFromText('{w['wkt']}', 4326))",
        expected=w["within"]))
    w = data.windows[0.1]
    out.append(Query(
        "ST_0.1x0.01", "selection", "features tagged tag_100 intersecting the 0.1 window (thematic 0.01 x spatial 0.1)",
        f"{PREFIXES}SELECT ?f WHERE {{ ?f ex:hasTag ex:tag_100 . {feature} FILTER(geof:sfIntersects(?g, {_wkt(w['wkt'])})) }}",
        f"SELECT id FROM ({union}) f WHERE u % 100 = 0 AND ST_Intersects(geom, ST_GeomFromText('{w['wkt']}', 4326))"))
    centre = f"POINT({data.centre[0]:.7f} {data.centre[1]:.7f})"
    r = data.poi_radius["distance"]
    out.append(Query(
        "SD_0.01", "selection", f"POIs closer than {r:.2f} m to a point (1 % of POIs; geodesic)",
        f"{PREFIXES}SELECT ?f WHERE {{ ?f a ex:PointOfInterest . {feature} "
        f"FILTER(geof:distance(?g, {_wkt(centre)}, uom:metre) < {r:.3f}) }}",
        f"SELECT id FROM poi WHERE ST_DWithin(geom::geography, ST_GeogFromText('SRID=4326;{centre}'), {r:.3f})",
        oxigraph=False, expected=max(1, round(0.01 * len(data.ids["poi"])))))
    # The buffer drawn as geof:buffer draws it (kg/geosparql/constructive.py): in an azimuthal
    # equidistant projection centred on the nearest whole degree, 8 segments a quarter. PostGIS's
    # geography ST_Buffer works in a UTM zone instead, a different polygon: points near its edge differ.
    aeqd = f"+proj=aeqd +lat_0={round(data.centre[1])} +lon_0={round(data.centre[0])} +ellps=WGS84 +units=m"
    out.append(Query(
        "SB_0.01", "selection", f"POIs within the {r:.2f} m buffer of a point (geof:buffer: azimuthal equidistant, 8 segments a quarter)",
        f"{PREFIXES}SELECT ?f WHERE {{ ?f a ex:PointOfInterest . {feature} "
        f"FILTER(geof:sfWithin(?g, geof:buffer({_wkt(centre)}, {r:.3f}, uom:metre))) }}",
        f"SELECT id FROM poi WHERE ST_Within(geom, ST_Transform(ST_Buffer(ST_Transform("
        f"ST_GeomFromText('{centre}', 4326), '{aeqd}'), {r:.3f}, 'quad_segs=8'), '{aeqd}', 4326))",
        oxigraph=False))
    pair = "?a geo:hasGeometry ?ag . ?ag geo:asWKT ?ga . ?b geo:hasGeometry ?bg . ?bg geo:asWKT ?gb ."
    out.append(Query(
        "J_parcel_region_intersects", "join", "parcels x regions, sfIntersects",
        f"{PREFIXES}SELECT ?a ?b WHERE {{ ?a a ex:Parcel . ?b a ex:Region . {pair} FILTER(geof:sfIntersects(?ga, ?gb)) }}",
        "SELECT a.id, b.id FROM parcel a JOIN region b ON ST_Intersects(a.geom, b.geom)"))
    out.append(Query(
        "J_parcel_touches", "join", "parcels x parcels, sfTouches (hexagon neighbours)",
        f"{PREFIXES}SELECT ?a ?b WHERE {{ ?a a ex:Parcel . ?b a ex:Parcel . {pair} FILTER(?a != ?b && geof:sfTouches(?ga, ?gb)) }}",
        "SELECT a.id, b.id FROM parcel a JOIN parcel b ON ST_Touches(a.geom, b.geom) WHERE a.id <> b.id"))
    out.append(Query(
        "J_poi_within_parcel", "join", "POIs x parcels, sfWithin",
        f"{PREFIXES}SELECT ?a ?b WHERE {{ ?a a ex:PointOfInterest . ?b a ex:Parcel . {pair} FILTER(geof:sfWithin(?ga, ?gb)) }}",
        "SELECT a.id, b.id FROM poi a JOIN parcel b ON ST_Within(a.geom, b.geom)"))
    out.append(Query(
        "J_poi_near_road", "join", f"POIs tagged tag_10 x roads, geodesic distance < {ROAD_DISTANCE:g} m",
        f"{PREFIXES}SELECT ?a ?b WHERE {{ ?a a ex:PointOfInterest ; ex:hasTag ex:tag_10 . ?b a ex:Road . {pair} "
        f"FILTER(geof:distance(?ga, ?gb, uom:metre) < {ROAD_DISTANCE}) }}",
        f"SELECT a.id, b.id FROM poi a JOIN road b ON ST_DWithin(a.geom::geography, b.geom::geography, {ROAD_DISTANCE}) "
        "WHERE a.u % 10 = 0",
        oxigraph=False))
    out.append(Query(
        "A_pois_per_region", "aggregation", "number of POIs within each region (GROUP BY, COUNT)",
        f"{PREFIXES}SELECT ?b (COUNT(?a) AS ?n) WHERE {{ ?a a ex:PointOfInterest . ?b a ex:Region . {pair} "
        "FILTER(geof:sfWithin(?ga, ?gb)) } GROUP BY ?b",
        "SELECT b.id, count(*) FROM poi a JOIN region b ON ST_Within(a.geom, b.geom) GROUP BY b.id"))
    return out


def _normalise(row) -> tuple[str, ...]:
    return tuple(v.removeprefix(NS) for v in row)


# --- systems ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # ok, timeout, n/a, error
    seconds: float | None = None
    answer: frozenset | None = None
    message: str = ""

    def cell(self) -> str:
        if self.status == "ok":
            return f"{self.seconds:.3f}"
        return {"timeout": "> limit", "n/a": "n/a"}.get(self.status, "error")


class Ours:
    name = "ours"

    def __init__(self, directory: Path, nt: Path):
        from kg.embedded import EmbeddedStore

        started = time.perf_counter()
        self.store = EmbeddedStore(directory)
        self.store.load([nt])
        # the spatial index is built as part of loading: its trees are made at their first use
        self.store.query('ASK { ?f geo:asWKT ?g FILTER(geof:sfIntersects(?g, "POINT(0 0)"^^geo:wktLiteral)) }').boolean()
        self.load_seconds = time.perf_counter() - started

    naive = False

    def run(self, q: Query, timeout: float) -> Outcome:
        from kg.errors import QueryTimeout

        started = time.perf_counter()
        try:
            rows = self.store.query(q.sparql, timeout=timeout, naive=self.naive).bindings()
        except QueryTimeout:
            return Outcome("timeout", message=f"stopped at {time.perf_counter() - started:.1f} s")
        except Exception as error:  # noqa: BLE001 - reported in the table
            return Outcome("error", message=str(error)[:300])
        seconds = time.perf_counter() - started
        if seconds > timeout:  # the store stops a query only at output or at a geof: call (docs/store.md)
            return Outcome("timeout", message=f"not stopped by the store: finished in {seconds:.1f} s, past the limit")
        answer = frozenset(_normalise(str(getattr(v, "value", v)) for v in row.values()) for row in rows)
        return Outcome("ok", seconds, answer)

    def close(self) -> None:
        self.store.close()


_OXIGRAPH_WORKER = r"""
import json, sys, time
import pyoxigraph as ox
job = json.load(sys.stdin)
store = ox.Store.read_only(job["path"])
started = time.perf_counter()
rows = [[t.value for t in s] for s in store.query(job["query"])]
seconds = time.perf_counter() - started
json.dump({"seconds": seconds, "rows": rows}, sys.stdout)
"""


class Oxigraph:
    """Plain pyoxigraph, no custom functions; each query in a subprocess killed at the limit."""

    name = "oxigraph"

    def __init__(self, directory: Path, nt: Path):
        import pyoxigraph as ox

        started = time.perf_counter()
        store = ox.Store(str(directory))
        store.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        del store
        self.load_seconds = time.perf_counter() - started
        self.path = directory

    def run(self, q: Query, timeout: float) -> Outcome:
        if not q.oxigraph:
            return Outcome("n/a", message="geof:distance / geof:buffer are not native in Oxigraph")
        job = json.dumps({"path": str(self.path), "query": q.sparql})
        try:
            done = subprocess.run([sys.executable, "-c", _OXIGRAPH_WORKER], input=job, capture_output=True,
                                  text=True, timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            return Outcome("timeout", message="killed")
        if done.returncode != 0:
            return Outcome("error", message=done.stderr.strip()[-300:])
        result = json.loads(done.stdout)
        if result["seconds"] > timeout:
            return Outcome("timeout", message=f"finished in {result['seconds']:.1f} s, past the limit")
        return Outcome("ok", result["seconds"], frozenset(_normalise(r) for r in result["rows"]))

    def close(self) -> None:
        pass


class PostGIS:
    """A private PostgreSQL 15 + PostGIS 3 cluster in a temporary directory on 127.0.0.1."""

    name = "postgis"
    USER = "eekgbench"
    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, data: Dataset, workdir: Path):
        self._start_cluster()
        started = time.perf_counter()
        files = write_csv(data, workdir)
        script = ["CREATE EXTENSION postgis;"]
        for kind in KINDS:
            script += [f"CREATE TABLE {kind} (id text PRIMARY KEY, u int NOT NULL, geom geometry(Geometry, 4326) NOT NULL);",
                       f"\\copy {kind} FROM '{files[kind]}'",
                       f"CREATE INDEX ON {kind} USING gist (geom);"]
            if kind in ("poi", "road"):
                script.append(f"CREATE INDEX ON {kind} USING gist ((geom::geography));")
            script.append(f"ANALYZE {kind};")
        self._psql("\n".join(script))
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def empty(cls) -> "PostGIS":
        """A started cluster without tables (for other benchmarks' own tables); ``close()`` it."""
        postgis = cls.__new__(cls)
        postgis._start_cluster()
        return postgis

    def _start_cluster(self) -> None:
        _ensure_postgis()
        self.dir = Path(tempfile.mkdtemp(prefix="eekg-pg-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            try:
                pwd.getpwnam(self.USER)
            except KeyError:
                subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", self.USER], check=True)
            shutil.chown(self.dir, self.USER)
            self.as_user = ["runuser", "-u", self.USER, "--"]
        pgdata = self.dir / "data"
        self._sh([str(self.BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync"], quiet=True)
        self._sh([str(self.BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(self.dir / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c shared_buffers=1GB "
                  "-c work_mem=256MB -c maintenance_work_mem=1GB -c fsync=off -c max_parallel_workers_per_gather=0"],
                 quiet=True)
        self.started = True

    def _sh(self, argv, quiet=False):
        return subprocess.run(self.as_user + argv, check=True, capture_output=quiet, text=True)

    def _psql(self, script: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-X", "-q", "-At",
             "-v", "ON_ERROR_STOP=1"], input=script, capture_output=True, text=True, timeout=timeout,
        )

    def run(self, q: Query, timeout: float) -> Outcome:
        script = f"SET statement_timeout = '{int(timeout * 1000)}ms';\n\\timing on\n{q.sql};\n"
        try:
            done = self._psql(script, timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            return Outcome("timeout", message="psql killed")
        if done.returncode != 0:
            if "statement timeout" in done.stderr:
                return Outcome("timeout", message="statement_timeout")
            return Outcome("error", message=done.stderr.strip()[-300:])
        lines = done.stdout.splitlines()
        timing = [ln for ln in lines if ln.startswith("Time: ")]
        seconds = float(timing[-1].split()[1]) / 1000
        rows = [ln for ln in lines if ln and not ln.startswith("Time: ")]
        return Outcome("ok", seconds, frozenset(_normalise(r.split("|")) for r in rows))

    def close(self) -> None:
        if getattr(self, "started", False):
            self._sh([str(self.BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"], quiet=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def _ensure_postgis() -> None:
    if Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        return
    if os.geteuid() != 0:
        raise SystemExit("PostGIS is not installed and we are not root: apt-get install postgresql-15-postgis-3")
    print("installing postgresql-15-postgis-3 with apt-get ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql-15-postgis-3"], check=True, env=env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- comparison and report -------------------------------------------------------------------


def compare(outcomes: dict[str, Outcome]) -> dict:
    """Answers of the systems that finished: identical, or the differences against the first."""
    done = {k: o for k, o in outcomes.items() if o.status == "ok"}
    if len(done) < 2:
        return {"compared": sorted(done), "identical": None}
    names = sorted(done, key=SYSTEMS.index)
    ref = names[0]
    diffs = {}
    for other in names[1:]:
        a, b = done[ref].answer, done[other].answer
        if a != b:
            diffs[f"{ref} vs {other}"] = {
                f"only_{ref}": sorted(map(list, a - b))[:10], f"only_{other}": sorted(map(list, b - a))[:10],
                f"count_only_{ref}": len(a - b), f"count_only_{other}": len(b - a),
            }
    return {"compared": names, "identical": not diffs, "differences": diffs}


def ratio(status: dict, seconds: dict, other: str, ours_limit: float, other_limit: float) -> str | None:
    """ours / other: a number, a bound (">200": ours went over its limit; "<0.01": the other went
    over its limit, so ours is at least 100x faster), or None."""
    a, b = status.get("ours"), status.get(other)
    if a == "ok" and b == "ok" and seconds[other] > 0:
        return f"{seconds['ours'] / seconds[other]:.3g}"
    if a == "timeout" and b == "ok" and seconds[other] > 0:
        return f">{ours_limit / seconds[other]:.3g}"
    if a == "ok" and b == "timeout":
        return f"<{seconds['ours'] / other_limit:.3g}"
    return None


def _status_seconds(outcomes: dict[str, Outcome]) -> tuple[dict, dict]:
    return {n: o.status for n, o in outcomes.items()}, {n: o.seconds for n, o in outcomes.items()}


def run_scale(scale: int, args, workroot: Path) -> dict:
    print(f"\n=== scale {scale:g}: generating ...", flush=True)
    started = time.perf_counter()
    data = generate(scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix=f"geographica-{scale}-", dir=workroot))
    nt = work / "data.nt"
    triples = write_ntriples(data, nt)
    gen_seconds = time.perf_counter() - started
    counts = {k: len(v) for k, v in data.ids.items()}
    print(f"{data.total} geometries {counts}, {triples} triples, generated in {gen_seconds:.1f} s", flush=True)
    for s, w in data.windows.items():
        print(f"  window {s:g}: intersects {w['intersects']} ({w['selectivity']:.4g}), within {w['within']} "
              f"({w['within_selectivity']:.4g})")
    systems = {}
    try:
        if "ours" in args.systems:
            systems["ours"] = Ours(work / "ours", nt)
        if "oxigraph" in args.systems:
            systems["oxigraph"] = Oxigraph(work / "oxigraph", nt)
        if "postgis" in args.systems:
            systems["postgis"] = PostGIS(data, work)
        print("loaded: " + ", ".join(f"{n} {s.load_seconds:.1f} s" for n, s in systems.items()), flush=True)
        results = {}
        for q in queries(data):
            if args.queries and q.name not in args.queries:
                continue
            outcomes = {}
            for n, s in systems.items():
                if args.skip and (n, q.name) in args.timed_out:  # as Geographica does: no retry at a larger scale
                    outcomes[n] = Outcome("timeout", message=f"not run: over the limit at scale {args.timed_out[n, q.name]:g}")
                else:
                    outcomes[n] = s.run(q, args.oxigraph_timeout if n == "oxigraph" else args.timeout)
                if outcomes[n].status == "timeout":
                    args.timed_out.setdefault((n, q.name), scale)
            check = compare(outcomes)
            if q.expected is not None:  # the generator's own count (shapely STRtree / pyproj Geod)
                check["expected_rows"] = q.expected
                check["systems_off_expected"] = sorted(
                    n for n, o in outcomes.items() if o.status == "ok" and len(o.answer) != q.expected)
            rows = next((len(o.answer) for o in outcomes.values() if o.status == "ok"), None)
            results[q.name] = {
                "kind": q.kind, "what": q.what, "rows": rows, "expected_rows": q.expected,
                "seconds": {n: o.seconds for n, o in outcomes.items()},
                "status": {n: o.status for n, o in outcomes.items()},
                "messages": {n: o.message for n, o in outcomes.items() if o.message},
                "ratio_ours_oxigraph": ratio(*_status_seconds(outcomes), "oxigraph", args.timeout, args.oxigraph_timeout),
                "ratio_ours_postgis": ratio(*_status_seconds(outcomes), "postgis", args.timeout, args.timeout),
                "answers": check, "sparql": q.sparql, "sql": q.sql,
            }
            agree = {True: "same", False: "DIFFERENT", None: "-"}[check["identical"]]
            if check.get("systems_off_expected"):
                agree += f" (count != generator's {q.expected}: {', '.join(check['systems_off_expected'])})"
            print(f"  {q.name:28} rows {rows if rows is not None else '-':>8}  "
                  + "  ".join(f"{n} {o.cell():>9}" for n, o in outcomes.items())
                  + f"  ours/ox {results[q.name]['ratio_ours_oxigraph'] or '-':>8}"
                  f"  ours/pg {results[q.name]['ratio_ours_postgis'] or '-':>8}  {agree}", flush=True)
            if check.get("differences"):
                for pair, d in check["differences"].items():
                    print(f"      {pair}: " + json.dumps(d)[:400])
    finally:
        for s in systems.values():
            s.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "scale": scale, "geometries": data.total, "counts": counts, "triples": triples,
        "windows": {f"{s:g}": w for s, w in data.windows.items()}, "centre": data.centre,
        "poi_radius_m": data.poi_radius, "road_distance_m": ROAD_DISTANCE,
        "load_seconds": {n: s.load_seconds for n, s in systems.items()}, "generate_seconds": gen_seconds,
        "queries": results,
    }


def print_table(report: dict) -> None:
    for run in report["runs"]:  # ratios again: runs appended from an earlier file may predate this code
        for r in run["queries"].values():
            for system, seconds in r["seconds"].items():
                limit = report.get("oxigraph_timeout") or report["timeout"] if system == "oxigraph" else report["timeout"]
                if r["status"][system] == "ok" and seconds is not None and seconds > limit:
                    r["status"][system], r["seconds"][system] = "timeout", None
                    r["messages"][system] = f"finished in {seconds:.1f} s, past the limit (not stopped)"
            limits = report["timeout"], report.get("oxigraph_timeout") or report["timeout"]
            r["ratio_ours_oxigraph"] = ratio(r["status"], r["seconds"], "oxigraph", *limits)
            r["ratio_ours_postgis"] = ratio(r["status"], r["seconds"], "postgis", report["timeout"], report["timeout"])
    print("\n" + "=" * 120)
    head = f"{'query':28} {'scale':>7} {'rows':>8} " + " ".join(f"{s:>10}" for s in SYSTEMS) + f" {'ours/ox':>9} {'ours/pg':>9}  answers"
    print(head)
    for run in report["runs"]:
        for name, r in run["queries"].items():
            cells = []
            for s in SYSTEMS:
                st = r["status"].get(s)
                cells.append(f"{r['seconds'][s]:10.3f}" if st == "ok" else f"{({'timeout': '> limit'}).get(st, st or '-'):>10}")
            agree = {True: "same", False: "DIFFERENT", None: "-"}[r["answers"]["identical"]]
            print(f"{name:28} {run['scale']:>7g} {r['rows'] if r['rows'] is not None else '-':>8} " + " ".join(cells)
                  + f" {r['ratio_ours_oxigraph'] or '-':>9} {r['ratio_ours_postgis'] or '-':>9}  {agree}")
    print(f"times in seconds; time limit {report['timeout']} s per query and system"
          f" ({report.get('oxigraph_timeout') or report['timeout']} s for Oxigraph)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1e3,1e4,1e5", help="comma-separated geometry counts, e.g. 1e3,1e4,1e5,1e6")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per query and system")
    parser.add_argument("--oxigraph-timeout", type=float, default=None,
                        help="seconds per query for Oxigraph (default --timeout): a longer limit bounds its ratio")
    parser.add_argument("--naive", action="store_true", help="our store without the planner (the pre-issue-4 baseline)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--queries", default="", help="comma-separated query names (default all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated data and stores")
    parser.add_argument("--output", default=str(HERE / "results" / "geographica.json"))
    parser.add_argument("--append", action="store_true",
                        help="keep the other scales' runs already in --output (same timeout) and add these")
    parser.add_argument("--no-skip", dest="skip", action="store_false",
                        help="run a query on a system even if it went over the limit at a smaller scale")
    args = parser.parse_args()
    args.systems = [s for s in args.systems.split(",") if s]
    args.oxigraph_timeout = args.oxigraph_timeout or args.timeout
    Ours.naive = args.naive
    args.queries = [q for q in args.queries.split(",") if q]
    scales = [int(float(s)) for s in args.scales.split(",")]
    (HERE / "data").mkdir(exist_ok=True)
    report = {
        "benchmark": "geographica", "timeout": args.timeout, "oxigraph_timeout": args.oxigraph_timeout,
        "seed": args.seed, "systems": args.systems, "naive": args.naive,
        "notes": {
            "ours": "EmbeddedStore on disk, spatial filters planned with its spatial index (kg/geosparql/planner.py); load time includes building the index",
            "oxigraph": "plain pyoxigraph.Store on disk, native geof: topology only, subprocess killed at the limit; no distance/buffer (n/a)",
            "postgis": "PostgreSQL 15 + PostGIS 3, GiST on geom and geom::geography; topology on geometry(4326), distances/buffers on geography (WGS 84 spheroid); psql \\timing",
        },
        "runs": [],
    }
    args.timed_out, merge = {}, {}
    if args.append and Path(args.output).exists():
        old = json.loads(Path(args.output).read_text())
        if old.get("timeout") != args.timeout:
            raise SystemExit(f"--append: {args.output} was run with --timeout {old.get('timeout')}, not {args.timeout}")
        # with --queries, those queries' results replace the old ones inside runs of the same scale
        merge = {r["scale"]: r for r in old["runs"] if r["scale"] in scales} if args.queries else {}
        report["runs"] = [r for r in old["runs"] if r["scale"] not in scales]
        for r in report["runs"]:
            for name, q in r["queries"].items():
                for system, status in q["status"].items():
                    if status == "timeout" and r["scale"] < min(scales):
                        args.timed_out.setdefault((system, name), r["scale"])
    import pyoxigraph

    report["machine"] = {"python": platform.python_version(), "pyoxigraph": pyoxigraph.__version__, "cpus": os.cpu_count()}
    for scale in scales:
        run = run_scale(scale, args, HERE / "data")
        if merge.get(scale):
            merge[scale]["queries"].update(run["queries"])
            run = merge[scale]
        report["runs"].append(run)
        report["runs"].sort(key=lambda r: r["scale"])
        report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        Path(args.output).parent.mkdir(exist_ok=True)
        Path(args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_table(report)
    Path(args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
