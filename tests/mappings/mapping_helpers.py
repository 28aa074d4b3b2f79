"""Shared helpers for the mapping tests: run a mapping, compare its triples with a hand-written golden file."""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import pyproj
import shapely

from mappings.runner import MappingRun, map_to_parts

DATA = Path(__file__).resolve().parent / "data"
EXPECTED = DATA / "expected"
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings" / "rml"
GEO = "http://www.opengis.net/ont/geosparql#"
WKT = GEO + "wktLiteral"
MEASURES = {GEO + "hasMetricArea", GEO + "hasMetricLength"}  # computed numbers, compared to 1e-4
GEOD = pyproj.Geod(ellps="WGS84")
CASES = [  # mapping, test input in data/, golden file in data/expected/, records in the input
    ("crop_type", "crop_type.geojson", "crop_type.ttl", 2),
    ("at_parcels", "at_parcels.shp", "at_parcels.ttl", 3),
    ("lucas", "lucas.csv", "lucas.ttl", 5),
    ("products", "products.csv", "products.ttl", 2),
    ("sea_ice", "sea_ice.parquet", "sea_ice.ttl", 4),
]


def map_file(mapping: str, *inputs: Path, validate: str = "off", chunk_rows: int = 50_000) -> tuple[MappingRun, list[ox.Quad]]:
    """Run ``mappings/rml/{mapping}.rml.ttl`` over the inputs; the run and its triples."""
    run = MappingRun()
    with tempfile.TemporaryDirectory() as workdir:
        parts = map_to_parts(MAPPINGS / f"{mapping}.rml.ttl", list(inputs), Path(workdir), run,
                             validate=validate, chunk_rows=chunk_rows)
        text = "".join(part.read_text(encoding="utf-8") for part in parts)
    return run, list(ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES))


@lru_cache(maxsize=None)
def mapped(mapping: str, input_name: str) -> tuple[ox.Quad, ...]:
    """The triples of a test input, mapped once per session (validation off)."""
    return tuple(map_file(mapping, DATA / input_name)[1])


def expected(name: str) -> list[ox.Quad]:
    return list(ox.parse(path=EXPECTED / name, format=ox.RdfFormat.TURTLE))


def assert_same_triples(actual, wanted) -> None:
    """The actual triples about the wanted subjects are the wanted ones; WKT and measures with a tolerance."""
    subjects = {t.subject for t in wanted}
    actual = [t for t in actual if t.subject in subjects]
    exact_a, near_a = _split(actual)
    exact_w, near_w = _split(wanted)
    missing, extra = exact_w - exact_a, exact_a - exact_w
    assert not missing and not extra, f"missing: {sorted(map(str, missing))}\nunexpected: {sorted(map(str, extra))}"
    assert near_a.keys() == near_w.keys(), f"compared with a tolerance: {sorted(near_a)} != {sorted(near_w)}"
    for key, values in near_w.items():
        got = near_a[key]
        assert len(got) == len(values) == 1, f"{key}: {got}"
        assert _close(got[0], values[0]), f"{key}: got {got[0].value}, want {values[0].value}"


def _split(triples):
    exact, near = set(), defaultdict(list)
    for t in triples:
        literal = t.object
        if isinstance(literal, ox.Literal) and (literal.datatype.value == WKT or t.predicate.value in MEASURES):
            near[(t.subject.value, t.predicate.value)].append(literal)
        else:
            exact.add(ox.Triple(t.subject, t.predicate, t.object))
    return exact, near


def _close(got: ox.Literal, want: ox.Literal) -> bool:
    if want.datatype.value == WKT:
        a, b = shapely.from_wkt(got.value), shapely.from_wkt(want.value)
        same_kind = a.geom_type == b.geom_type and shapely.get_num_coordinates(a) == shapely.get_num_coordinates(b)
        return same_kind and shapely.hausdorff_distance(a, b) < 1e-6  # degrees: about 10 cm
    return math.isclose(float(got.value), float(want.value), rel_tol=1e-4)


def geodesic_area(polygon) -> float:
    """Area in m² of a lon/lat (multi)polygon with geodesic edges, independently of the mapping functions.

    Each edge is densified along its geodesic and the rings are projected to a local Lambert
    azimuthal equal-area projection, where the planar area is the area on the ellipsoid.
    """
    centre = polygon.centroid
    laea = pyproj.Transformer.from_crs(
        "OGC:CRS84", pyproj.CRS.from_proj4(f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +ellps=WGS84"),
        always_xy=True)

    def ring(coords):
        points = []
        for (x1, y1), (x2, y2) in zip(coords[:-1], coords[1:]):
            points += [(x1, y1), *GEOD.npts(x1, y1, x2, y2, 100)]
        return list(zip(*laea.transform(*zip(*points))))

    parts = getattr(polygon, "geoms", [polygon])
    return sum(shapely.Polygon(ring(p.exterior.coords), [ring(i.coords) for i in p.interiors]).area for p in parts)


def objects(triples, subject: str, predicate: str) -> list[str]:
    """The lexical values of ``subject predicate ?o``."""
    return sorted(t.object.value for t in triples if t.subject.value == subject and t.predicate.value == predicate)
