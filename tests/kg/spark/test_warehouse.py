"""The import into Parquet (`eekg spark load`): layout, statistics, grid cells, all or nothing. No Spark needed."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from api.cli import main
from kg.errors import GeoKGError, LoadError
from kg.spark.warehouse import Manifest, load_warehouse

DATA = Path(__file__).parent / "data" / "stores.trig"

WKT = "<http://www.opengis.net/ont/geosparql#wktLiteral>"


def test_one_table_per_predicate_with_statistics(tmp_path):
    report = load_warehouse([DATA], tmp_path / "w")
    manifest = Manifest.read(tmp_path / "w")
    assert report.triples == manifest.triples == sum(t["rows"] for t in manifest.tables.values())
    types = manifest.tables["<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"]
    table = ds.dataset(tmp_path / "w" / "tables" / types["table"]).to_table().to_pydict()
    assert set(table) == {"s", "o", "g"}
    assert types["rows"] == len(table["s"]) == 8 and types["subjects"] == 8 and types["objects"] == 4
    assert "<http://example.org/stores#park1>" in table["s"] and set(table["g"]) == {""}
    visitors = manifest.tables["<http://example.org/stores#visitors>"]
    graphs = ds.dataset(tmp_path / "w" / "tables" / visitors["table"]).to_table()["g"].to_pylist()
    assert set(graphs) == {"<http://example.org/stores#g1>"}
    assert manifest.graphs == ["<http://example.org/stores#g1>", "<http://example.org/stores#g2>"]


def test_geometry_table_has_wkb_boxes_in_crs84_and_cells_of_the_grid(tmp_path):
    load_warehouse([DATA], tmp_path / "w")
    manifest = Manifest.read(tmp_path / "w")
    geometries = pq.read_table(tmp_path / "w" / "geometries").to_pandas()
    assert len(geometries) == manifest.geometries == 8 and manifest.empty_geometries == 0
    latitude_first = geometries[geometries.crs == "http://www.opengis.net/def/crs/EPSG/0/4326"].iloc[0]
    assert shapely.from_wkb(latitude_first.wkb).bounds == (10.0, 10.0, 14.0, 14.0)  # its own CRS
    assert tuple(latitude_first[["minx", "miny", "maxx", "maxy"]]) == (10.0, 10.0, 14.0, 14.0)  # CRS84 (square: same)
    cells = pq.read_table(tmp_path / "w" / "cells").to_pandas()
    grid = manifest.grid
    for row in geometries.itertuples():
        mine = set(cells[cells.id == row.id].cell)
        ranges = grid.ranges(np.array([[row.minx, row.miny, row.maxx, row.maxy]]))
        assert mine == set(grid.entries(ranges)[0].tolist())
        assert grid.keys(np.array([row.minx]), np.array([row.miny]))[0] in mine


def test_a_syntax_error_names_file_and_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.nt"
    bad.write_text('<http://a> <http://b> "ok" .\n<http://a> <http://b> .\n')
    with pytest.raises(LoadError, match="bad.nt, line 2"):
        load_warehouse([DATA, bad], tmp_path / "w")
    assert not (tmp_path / "w").exists() and not list(tmp_path.glob(".w*"))


def test_a_bad_geometry_names_its_subject_and_an_existing_warehouse_stays(tmp_path):
    load_warehouse([DATA], tmp_path / "w")
    bad = tmp_path / "bad.nt.gz"
    with gzip.open(bad, "wt") as out:
        out.write(f'<http://ex.org/broken> <http://www.opengis.net/ont/geosparql#asWKT> "POLYGON((0 0, 1 1"^^{WKT} .\n')
    with pytest.raises(LoadError, match="http://ex.org/broken"):
        load_warehouse([bad], tmp_path / "w", replace=True)
    assert Manifest.read(tmp_path / "w").triples == load_warehouse([DATA], tmp_path / "again").triples
    with pytest.raises(GeoKGError, match="--replace"):
        load_warehouse([DATA], tmp_path / "w")


def test_the_command_line(tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["spark", "load", str(DATA), "--warehouse", str(tmp_path / "w")])
    assert done.exit_code == 0 and "Imported" in done.output, done.output
    again = runner.invoke(main, ["spark", "load", str(DATA), "--warehouse", str(tmp_path / "w")])
    assert again.exit_code == 1 and "--replace" in again.output and "Traceback" not in again.output
    missing = runner.invoke(main, ["spark", "query", "ASK {}", "--warehouse", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "not a Spark warehouse" in missing.output
