"""The generator of benchmarks/interlink.py: deterministic, valid geometries, every relation present."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import shapely

from kg.interlink import RELATIONS, interlink
from kg.interlink.verification import BITS

_PATH = Path(__file__).parents[3] / "benchmarks" / "interlink.py"
_spec = importlib.util.spec_from_file_location("interlink_benchmark", _PATH)
benchmark = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = benchmark
_spec.loader.exec_module(benchmark)


def test_generated_data_is_deterministic_valid_and_has_every_relation():
    source, target = benchmark.generate(3000, seed=5)
    again, _ = benchmark.generate(3000, seed=5)
    assert (shapely.equals_exact(source, again, tolerance=0)).all()
    assert shapely.is_valid(source).all() and shapely.is_valid(target).all()
    assert set(np.unique(shapely.get_type_id(target)).tolist()) == {0, 1, 3}  # points, lines, polygons
    run = interlink(benchmark.dataset("source", source), benchmark.dataset("target", target))
    for name in RELATIONS:
        assert ((run.found.masks & BITS[name]) != 0).sum() >= 3, name
