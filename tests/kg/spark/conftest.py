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
DESCRIBE_DATA = Path(__file__).parent / "data" / "describe.ttl"
ANNEX_B_DATA = ROOT / "tests" / "kg" / "geosparql" / "data" / "annex_b.ttl"
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


def both_stores(data: Path, directory: Path) -> tuple[EmbeddedStore, SparkStore]:
    """An embedded store and a Spark store (warehouse in ``directory``) over the same file."""
    load_warehouse([data], directory / "warehouse")
    embedded = EmbeddedStore()
    embedded.load([data])
    return embedded, SparkStore(directory / "warehouse", master=MASTER)


@pytest.fixture(scope="session")
def stores(spark, tmp_path_factory):
    """(embedded, spark) over the same small data set (tests/kg/spark/data/stores.trig)."""
    return both_stores(DATA, tmp_path_factory.mktemp("spark"))


@pytest.fixture(scope="session")
def described(spark, tmp_path_factory):
    """(embedded, spark) over a small data set with nested blank nodes and a list."""
    return both_stores(DESCRIBE_DATA, tmp_path_factory.mktemp("describe"))


@pytest.fixture(scope="session")
def annex_b(spark, tmp_path_factory):
    """(embedded, spark) over the GeoSPARQL 1.1 Annex B example data."""
    return both_stores(ANNEX_B_DATA, tmp_path_factory.mktemp("annex_b"))


@pytest.fixture(scope="session")
def planner_stores(spark, tmp_path_factory):
    """(embedded, spark) over the random data set of the planner's differential tests."""
    from tests.kg.geosparql.test_planner_differential import SEED, dataset

    directory = tmp_path_factory.mktemp("planner")
    (directory / "data.nq").write_bytes(dataset(SEED))
    return both_stores(directory / "data.nq", directory)


@pytest.fixture(scope="session")
def geographica(spark, tmp_path_factory):
    """(embedded, spark, queries) over a small Geographica data set (benchmarks/geographica.py)."""
    bench = geographica_module()
    data = bench.generate(GEOGRAPHICA_SCALE)
    directory = tmp_path_factory.mktemp("geographica")
    bench.write_ntriples(data, directory / "data.nt")
    return *both_stores(directory / "data.nt", directory), bench.queries(data)
