"""Each architecture builds and trains a step; the study's layer layouts are what they say."""

from __future__ import annotations

import numpy as np
import pytest

from ml._keras import keras
from ml.models import ARCHITECTURES, crop, sea_ice

TINY = {
    "adhoc-cnn": {"filters": (4, 8, 8), "dense": (16, 8)},
    "vgg16": {"width": 1 / 16, "pools": 3, "dense": 16},
    "lstm": {"layers": 2, "cells": 8},
    "tempcnn": {"filters": 4, "dense": 8},
    "starrnn": {"layers": 2, "cells": 8},
}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_each_model_builds_and_trains_a_step(name, patches):
    builder, kind = ARCHITECTURES[name]
    rng = np.random.default_rng(0)
    if kind == "patches":
        x, classes = patches.images[:16].astype("float32"), 3
        model = builder(x.shape[1:], classes, **TINY[name])
    else:
        x, classes = rng.normal(size=(16, 46, 1)).astype("float32"), 5
        model = builder(x, classes, **TINY[name])
    y = rng.integers(0, classes, len(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    loss = float(model.train_on_batch(x, y))
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (16, classes) and np.allclose(probabilities.sum(1), 1, atol=1e-5)


def test_the_adhoc_cnn_has_the_study_layout():
    k = keras()
    model = sea_ice.adhoc_cnn((64, 64, 3), 2)
    convs = [layer.filters for layer in model.layers if isinstance(layer, k.layers.Conv2D)]
    pools = [layer for layer in model.layers if isinstance(layer, k.layers.MaxPooling2D)]
    dense = [layer.units for layer in model.layers if isinstance(layer, k.layers.Dense)]
    assert convs == [32, 64, 64] and len(pools) == 3 and dense == [1024, 512, 2]
    assert any(isinstance(layer, k.layers.Dropout) for layer in model.layers)


def test_the_modified_vgg16_keeps_a_spatial_map_of_small_patches():
    k = keras()
    model = sea_ice.vgg16_modified((64, 64, 3), 3, pools=3, width=1 / 16)
    convs = [layer for layer in model.layers if isinstance(layer, k.layers.Conv2D)]
    pools = [layer for layer in model.layers if isinstance(layer, k.layers.MaxPooling2D)]
    assert len(convs) == 13 and len(pools) == 3
    assert pools[-1].output.shape[1:3] == (8, 8)  # five poolings would leave 2 x 2
    assert [c.filters for c in convs][::3] == [4, 8, 16, 32, 32]


def test_a_star_rnn_saves_and_loads(tmp_path):
    x = np.random.default_rng(1).normal(size=(4, 12, 2)).astype("float32")
    model = crop.starrnn(x, 3, layers=2, cells=4)
    model.save(tmp_path / "star.keras")
    from ml.models import custom_objects

    again = keras().models.load_model(tmp_path / "star.keras", custom_objects=custom_objects())
    assert np.allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
