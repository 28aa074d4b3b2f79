"""Training for real on tiny cuts of the data: the recipes run, the two-phase LSTM switches its loss."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import TINY_CROP

from ml._keras import keras
from ml.errors import MLError
from ml.train import RECIPES, class_weights, fit, train


def test_the_two_phase_lstm_changes_its_loss_between_phases():
    keras().utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [120, 30, 10])  # imbalanced, so the weighted loss differs
    x = (rng.normal(size=(160, 12, 1)) + 2 * labels[:, None, None]).astype("float32")
    recipe = replace(RECIPES["crop-lstm"], epochs=4, phase_one_epochs=3, options={"layers": 1, "cells": 8}, batch_size=32)
    _, phases = fit(recipe, x, labels, x[:20], labels[:20], 3)
    first, second = phases
    assert first["objective"] == "class-weighted" and second["objective"] == "standard"
    assert first["class_weight"] == [0.4444, 1.7778, 5.3333]
    assert len(first["loss"]) == 3 and len(second["loss"]) == 1
    # the same weights score differently under the two losses: the loss changes at the switch
    assert abs(first["loss_at_switch_weighted"] - first["loss_at_switch_standard"]) > 0.01
    # phase two goes on from phase one's weights: its first epoch beats a fresh model's first epoch
    keras().utils.set_random_seed(0)
    _, fresh = fit(replace(recipe, two_phase=False, epochs=1), x, labels, x[:20], labels[:20], 3)
    assert fresh[0]["objective"] == "standard" and second["loss"][0] < fresh[0]["loss"][0]


def test_class_weights_follow_the_frequencies():
    assert class_weights(np.array([0, 0, 0, 1]), 3) == {0: 0.4444, 1: 1.3333, 2: 1.0}


def test_a_crop_recipe_trains_evaluates_and_records_everything(registry):
    card = registry.card("tiny-crop")
    assert card.kind == "crop-type" and card.input_shape == (46, 1) and len(card.classes) == 24
    assert card.data_hash.startswith("sha256:") and card.training_seconds > 0
    assert card.config["optimizer"] == "rmsprop" and card.config["learning_rate"] == 1e-3 and card.config["two_phase"]
    assert [p["objective"] for p in card.data["history"]] == ["class-weighted", "standard"]
    assert set(card.metrics) >= {"overall_accuracy", "median_f1", "per_class", "confusion_matrix"}
    assert card.codes["corn"] == "maize" and "wheat" not in card.codes


def test_the_sea_ice_recipe_reports_the_dropped_patches_and_the_split(registry):
    card = registry.card("tiny-sea-ice")
    assert card.data["dropped_constant"] > 0 and card.data["train"] > card.data["validation"] > 0
    assert card.classes == ("water", "ice", "land") and card.input_shape == (64, 64, 3)


def test_bad_recipes_are_refused():
    with pytest.raises(MLError, match="classes 'binary' or 'three'"):
        train(replace(RECIPES["sea-ice-cnn-binary"], classes="five", limit=10))
    with pytest.raises(MLError, match="use 'adam' or 'rmsprop'"):
        fit(replace(TINY_CROP, optimizer="sgd"), np.zeros((4, 3, 1), "float32"), np.zeros(4, int),
            np.zeros((2, 3, 1), "float32"), np.zeros(2, int), 2)
