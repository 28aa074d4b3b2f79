"""Metrics against counts by hand; the confusion matrix as a PNG."""

from __future__ import annotations

import numpy as np
import pytest

from ml.metrics import classification_metrics, confusion_png


def test_metrics_match_a_hand_count():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2, 2, 2, 0])
    m = classification_metrics(truth, predicted, ("water", "ice", "land"))
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
    assert m["overall_accuracy"] == pytest.approx(6 / 9, abs=1e-4)
    # water: precision 2/3, recall 2/3; ice: 1/2, 1/2; land: 3/4, 3/4 -> F1 equal to them
    assert [m["per_class"][c]["f1"] for c in ("water", "ice", "land")] == [0.667, 0.5, 0.75]
    assert m["median_f1"] == pytest.approx(0.6667, abs=1e-4)
    assert m["per_class"]["land"]["support"] == 4


def test_a_class_never_predicted_scores_zero_not_nan():
    m = classification_metrics(np.array([0, 1]), np.array([0, 0]), ("a", "b"))
    assert m["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_confusion_matrix_png(tmp_path):
    m = classification_metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), ("water", "ice"))
    path = confusion_png(m, tmp_path / "cm.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
