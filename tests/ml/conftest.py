"""Fixtures: the real data sets (a few hundred patches and series), tiny models trained for real once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ml.polar import load_patches
from ml.registry import Registry
from ml.train import RECIPES, train

# Tiny versions of the recipes: the same code paths, seconds instead of minutes.
TINY_SEA_ICE = replace(RECIPES["sea-ice-cnn-three"], name="tiny-sea-ice", epochs=1, limit=600, batch_size=64,
                       options={"filters": (4, 8, 8), "dense": (16, 8)})
TINY_CROP = replace(RECIPES["crop-lstm"], name="tiny-crop", epochs=2, limit=480, batch_size=64,
                    options={"layers": 1, "cells": 8})


@pytest.fixture(scope="session")
def patches():
    """The first 600 rows of polar-patch/meta.csv, constant patches dropped."""
    return load_patches(limit=600)


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Registry:
    """A registry (without the shipped models) holding a tiny sea-ice CNN and a tiny crop LSTM."""
    registry = Registry(tmp_path_factory.mktemp("models"), shipped=None)
    train(TINY_SEA_ICE, registry)
    train(TINY_CROP, registry)
    return registry
