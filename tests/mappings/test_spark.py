"""The Spark engine gives the local engine's triples (sorted, byte for byte) and rejected rows.

Every test shares one SparkSession on ``local[2]`` (starting one takes ~5 s); inputs are built in
``tmp_path`` with a few hundred rows, a broken geometry and SHACL violations, and split into
several partitions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from pyspark.sql import functions as F

from api.mapping import map_into_store
from kg.embedded import EmbeddedStore
from mappings import spark as spark_engine
from mappings.errors import MappingError
from mappings.plan import plan_mapping
from mappings.runner import MappingRun, map_to_parts
from mappings.spark import map_with_spark, spark_session, stop_session

ROOT = Path(__file__).resolve().parents[2]
RML = ROOT / "mappings" / "rml"
SEA_ICE = RML / "sea_ice.rml.ttl"
DATA = Path(__file__).parent / "data"
ROWS = 240
BROKEN_GEOMETRY, TOO_CONFIDENT, UNKNOWN_CLASS, UNREADABLE = 7, 12, 20, 30  # 1-based rows
MASTER = "local[2]"
CLASSES = ["water", "open-water-in-leads", "brash-pancake-ice", "young-ice", "level-first-year-ice", "deformed-ice"]


@pytest.fixture(scope="session")
def spark():
    session = spark_session(MASTER)
    yield session
    stop_session()


@pytest.fixture
def on_local_2(monkeypatch):
    """Runs that name no master (through api.mapping) reuse the test session."""
    monkeypatch.setenv(spark_engine.MASTER_ENV, MASTER)


def sea_ice(rows: int = ROWS) -> geopandas.GeoDataFrame:
    """Sea-ice polygons with a bow-tie (invalid) at row 7, confidence 1.5 at 12, an unknown class at 20."""
    rng = np.random.default_rng(7)
    x, y = rng.uniform(10, 25, rows), rng.uniform(79.5, 82, rows)
    polygons = [shapely.box(cx, cy, cx + 0.05, cy + 0.01) for cx, cy in zip(x, y)]
    polygons[BROKEN_GEOMETRY - 1] = shapely.Polygon([(10, 80), (10.1, 80.1), (10.1, 80), (10, 80.1)])
    frame = geopandas.GeoDataFrame({
        "region_id": [f"r{i:04d}" for i in range(rows)],
        "ice_class": [CLASSES[i % len(CLASSES)] for i in range(rows)],
        "confidence": rng.uniform(0.4, 1.0, rows).round(3),
        "product_id": "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F",
        "time": "2018-03-05T07:35:20Z",
        "model": "seaice-cnn",
        "model_version": "1",
    }, geometry=polygons, crs="OGC:CRS84")
    if rows >= UNREADABLE:
        frame.loc[TOO_CONFIDENT - 1, "confidence"] = 1.5
        frame.loc[UNKNOWN_CLASS - 1, "ice_class"] = "slush"
    return frame


def write_geoparquet(frame, path: Path) -> Path:
    """Real timestamps, row groups of 50 rows (so several splits), unreadable WKB at row 30."""
    frame = frame.assign(time=pd.to_datetime(frame["time"], utc=True) + pd.to_timedelta(np.arange(len(frame)), "s"))
    frame.to_parquet(path, row_group_size=50)
    table = pq.read_table(path)
    wkb = table.column("geometry").to_pylist()
    wkb[UNREADABLE - 1] = b"\x01\x03garbage"
    index = table.schema.get_field_index("geometry")
    table = table.set_column(index, table.schema.field(index), pa.array(wkb, pa.binary()))
    pq.write_table(table, path, row_group_size=50)
    return path


def write_csv(frame, path: Path) -> Path:
    """WKT in a ``wkt`` column, invalid WKT at row 30, a quoted comma and an empty field."""
    data = pd.DataFrame(frame.drop(columns="geometry"))
    data["wkt"] = frame.geometry.to_wkt()
    data.loc[UNREADABLE - 1, "wkt"] = "POLYGON((0 0, 1 1"
    data.loc[3, "model"] = 'seaice-cnn, "beta"'
    data.loc[4, "model_version"] = ""
    data.to_csv(path, index=False)
    return path


def write_geojson(frame, path: Path) -> Path:
    frame = frame.copy()
    frame.loc[UNREADABLE - 1, "geometry"] = None
    frame.to_file(path, driver="GeoJSON")
    return path


def write_shapefile(frame, path: Path) -> Path:
    """In EPSG:3413 (so the driver transforms); field names cut to 10 characters (model_ver)."""
    frame.rename(columns={"model_version": "model_ver"}).to_crs("EPSG:3413").to_file(path)
    return path


def shapefile_mapping(directory: Path) -> Path:
    """The sea-ice mapping reading ``model_ver``: a shapefile's field names have 10 characters."""
    path = directory / "sea_ice_shp.rml.ttl"
    path.write_text(SEA_ICE.read_text(encoding="utf-8").replace("model_version", "model_ver"), encoding="utf-8")
    return path


WRITERS = {"geoparquet": (write_geoparquet, "regions.parquet"), "csv": (write_csv, "regions.csv"),
           "geojson": (write_geojson, "regions.geojson"), "shapefile": (write_shapefile, "regions.shp")}


def triples(parts) -> list[str]:
    """The distinct N-Triples lines, sorted (chunks differ, so shared nodes repeat differently)."""
    return sorted({line for part in parts for line in part.read_text(encoding="utf-8").splitlines()})


def both_engines(mapping: Path, inputs: list[Path], directory: Path, *, validate="off", partitions=3, chunk_rows=100):
    """(run, sorted distinct triples) of the local engine, then of the Spark engine."""
    local, spark = MappingRun(), MappingRun()
    (directory / "local").mkdir()
    (directory / "spark").mkdir()
    expected = triples(map_to_parts(mapping, inputs, directory / "local", local, validate=validate, chunk_rows=chunk_rows))
    got = triples(map_with_spark(mapping, inputs, directory / "spark", spark, validate=validate, chunk_rows=chunk_rows,
                                 master=MASTER, partitions=partitions))
    return (local, expected), (spark, got)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_input_kind_maps_as_in_local_mode(kind, spark, tmp_path):
    write, name = WRITERS[kind]
    source = write(sea_ice(), tmp_path / name)
    mapping = shapefile_mapping(tmp_path) if kind == "shapefile" else SEA_ICE
    (local, expected), (run, got) = both_engines(mapping, [source], tmp_path)
    assert got == expected and len(got) > 20 * (ROWS - 2)
    assert run.rejected == local.rejected
    assert [r.row for r in run.rejected] == [BROKEN_GEOMETRY] + ([UNREADABLE] if kind != "shapefile" else [])
    assert run.rows == local.rows == ROWS and run.parts >= 2 and run.triples >= len(got)


def test_shacl_violations_reject_the_same_rows(spark, tmp_path):
    source = write_geoparquet(sea_ice(40), tmp_path / "regions.parquet")
    (local, expected), (run, got) = both_engines(SEA_ICE, [source], tmp_path, validate="report", partitions=2, chunk_rows=20)
    assert got == expected and run.rejected == local.rejected
    assert [r.row for r in run.rejected] == [BROKEN_GEOMETRY, TOO_CONFIDENT, UNKNOWN_CLASS, UNREADABLE]
    assert not any("sourceRow" in line for line in got)


def _fixture_inputs():
    """Each mapping of mappings/rml with the test input of the same name in tests/mappings/data."""
    pairs = []
    for mapping in sorted(RML.glob("*.rml.ttl")):
        name = mapping.name.removesuffix(".rml.ttl")
        inputs = [p for p in sorted(DATA.glob(f"{name}.*")) if p.suffix in (".parquet", ".csv", ".geojson", ".shp")]
        if inputs:
            pairs.append(pytest.param(mapping, inputs[0], id=name))
    return pairs


@pytest.mark.parametrize(("mapping", "source"), _fixture_inputs())
def test_every_mapping_maps_its_test_input_as_in_local_mode(mapping, source, spark, tmp_path):
    (local, expected), (run, got) = both_engines(mapping, [source], tmp_path, partitions=2)
    assert got == expected and got
    assert run.rejected == local.rejected and run.rows == local.rows


def test_row_numbers_follow_the_input_across_native_splits(spark, tmp_path):
    frame = sea_ice(400)
    csv = write_csv(frame, tmp_path / "regions.csv")
    parquet = tmp_path / "regions.parquet"
    frame.to_parquet(parquet, row_group_size=50)
    plan = plan_mapping(SEA_ICE)
    with spark_engine._settings(spark, spark_engine._run_settings(64, 4, split_small_files=True)):
        for read, path in ((spark_engine._read_csv, csv), (spark_engine._read_parquet, parquet)):
            data, _, _ = read(spark, path, plan, 4, 64)
            splits = data.groupBy(F.spark_partition_id()).count().count()
            assert splits >= 3, path  # split by Spark's reader, not repartitioned
            rows = data.select("__row", "region_id").collect()
            assert sorted((r["__row"], r["region_id"]) for r in rows) == [(i + 1, f"r{i:04d}") for i in range(400)]


def test_strict_raises_before_any_part_and_off_still_rejects_broken_geometries(spark, tmp_path):
    source = write_geoparquet(sea_ice(40), tmp_path / "regions.parquet")
    strict = map_with_spark(SEA_ICE, [source], tmp_path, MappingRun(), validate="strict", master=MASTER)
    with pytest.raises(MappingError, match=rf"4 row\(s\) cannot be mapped.*row {BROKEN_GEOMETRY}: invalid geometry: Self-intersection"):
        next(strict)
    assert not list(tmp_path.glob("*.nt")) and not (tmp_path / "spark-output").exists()
    run = MappingRun()
    lines = triples(map_with_spark(SEA_ICE, [source], tmp_path, run, validate="off", master=MASTER))
    assert [r.row for r in run.rejected] == [BROKEN_GEOMETRY, UNREADABLE]
    assert any("r0011/region" in line for line in lines) and not any("r0006/region" in line for line in lines)


def test_malformed_csv_is_named_rather_than_mapped(spark, tmp_path):
    source = write_csv(sea_ice(40), tmp_path / "regions.csv")
    text = source.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("seaice-cnn", '"seaice\ncnn"')  # a quoted line break in row 3
    source.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"2 row\(s\) do not have the header.s 8 fields \(the first is row 3\).*quoted value cannot span lines"):
        list(map_with_spark(SEA_ICE, [source], tmp_path, MappingRun(), validate="off", master=MASTER))


def test_map_into_store_with_spark_loads_all_or_nothing(spark, tmp_path, on_local_2):
    source = write_csv(sea_ice(40), tmp_path / "regions.csv")
    with EmbeddedStore(tmp_path / "store") as store:
        run, report = map_into_store(store, SEA_ICE, [source], engine="spark", validate="off")
        assert report.triples == run.triples and [r.row for r in run.rejected] == [BROKEN_GEOMETRY, UNREADABLE]
        before = store.size()
        with pytest.raises(MappingError, match="cannot be mapped"):
            map_into_store(store, SEA_ICE, [source], engine="spark", validate="strict", graph="https://example.org/g")
        assert store.size() == before
        count = store.query("SELECT (COUNT(*) AS ?n) { ?o a <https://w3id.org/eekg/ont/polar#SeaIceObservation> }")
        assert int(count.bindings()[0]["n"].value) == 40 - 2


def test_without_java_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert shutil.which("java") is None
    with pytest.raises(MappingError, match="Spark needs Java 17: apt-get install openjdk-17-jre-headless"):
        spark_engine._require_java()
