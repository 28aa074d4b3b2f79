"""One SparkSession (local[2], shared with the mapping tests) and one warehouse per test session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from kg.embedded import EmbeddedStore
from kg.spark.store import SparkStore
from kg.spark.warehouse import load_warehouse
from mappings.spark import spark_session

MASTER = "local[2]"
ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data" / "stores.trig"
GEOGRAPHICA_SCALE = 400  # geometries of the Geographica data set both stores answer its queries over


def geographica_module():
    spec = importlib.util.spec_from_file_location("geographica_benchmark", ROOT / "benchmarks" / "geographica.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def spark():
    return spark_session(MASTER)  # stopped by the mapping tests' fixture, or at exit


@pytest.fixture(scope="session")
def stores(spark, tmp_path_factory):
    """(embedded, spark) over the same small data set (tests/kg/spark/data/stores.trig)."""
    warehouse = tmp_path_factory.mktemp("spark") / "warehouse"
    load_warehouse([DATA], warehouse)
    embedded = EmbeddedStore()
    embedded.load([DATA])
    return embedded, SparkStore(warehouse, master=MASTER)


@pytest.fixture(scope="session")
def geographica(spark, tmp_path_factory):
    """(embedded, spark, queries) over a small Geographica data set (benchmarks/geographica.py)."""
    bench = geographica_module()
    data = bench.generate(GEOGRAPHICA_SCALE)
    directory = tmp_path_factory.mktemp("geographica")
    nt = directory / "data.nt"
    bench.write_ntriples(data, nt)
    load_warehouse([nt], directory / "warehouse")
    embedded = EmbeddedStore()
    embedded.load([nt])
    return embedded, SparkStore(directory / "warehouse", master=MASTER), bench.queries(data)
