"""The Spark engine gives the local engine's links (and, with a budget, verifies the same pairs in
the same order), over several partitions: no pair lost or doubled at partition borders.

One SparkSession for the process (``mappings.spark.spark_session``, shared with the mapping tests)."""

from __future__ import annotations

import pytest
from interlink_helpers import brute_force, dataset, found_pairs, scene

from kg.interlink import interlink
from mappings.spark import spark_session

MASTER = "local[2]"


@pytest.fixture(scope="module")
def datasets():
    spark_session(MASTER)
    a, b = scene(300, seed=21), scene(300, seed=22)
    return dataset("a", a), dataset("b", b)


def test_exhaustive_spark_run_is_the_local_one(datasets):
    source, target = datasets
    local = interlink(source, target)
    spark = interlink(source, target, engine="spark", master=MASTER, partitions=6)
    assert found_pairs(spark.found) == found_pairs(local.found) == brute_force(source.shapes, target.shapes)
    assert spark.found.candidates == local.found.candidates


@pytest.mark.parametrize("weighting", ["x2*mbro", "random"])
def test_budgeted_spark_run_verifies_the_local_pairs_in_the_local_order(datasets, weighting):
    source, target = datasets
    local = interlink(source, target, budget=500, weighting=weighting)
    spark = interlink(source, target, budget=500, weighting=weighting, engine="spark", master=MASTER, partitions=5)
    assert found_pairs(spark.found) == found_pairs(local.found)
    assert spark.found.ranks.tolist() == local.found.ranks.tolist()
    assert (spark.found.candidates, spark.found.verified) == (local.found.candidates, 500)
