"""Classification metrics: overall accuracy, per-class precision, recall and F1, median F1, the
confusion matrix (also drawn as a PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs: rows are the truth.

    >>> confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    return np.bincount(np.asarray(truth) * classes + np.asarray(predicted), minlength=classes * classes).reshape(classes, classes)


def classification_metrics(truth: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Overall accuracy, per-class precision/recall/F1 and support, median F1 and the confusion matrix.

    A class never predicted has precision 0, a class absent from ``truth`` recall 0 (and both F1 0);
    median F1 is over the classes present in ``truth``.

    >>> m = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ("water", "ice"))
    >>> m["overall_accuracy"], m["per_class"]["ice"]["precision"], round(m["median_f1"], 3)
    (0.75, 0.667, 0.733)
    """
    matrix = confusion_matrix(truth, predicted, len(classes))
    hits = np.diag(matrix).astype(float)
    predicted_n, true_n = matrix.sum(0), matrix.sum(1)
    precision = np.divide(hits, predicted_n, out=np.zeros_like(hits), where=predicted_n > 0)
    recall = np.divide(hits, true_n, out=np.zeros_like(hits), where=true_n > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(hits), where=precision + recall > 0)
    return {
        "overall_accuracy": round(float(hits.sum() / max(1, matrix.sum())), 4),
        "median_f1": round(float(np.median(f1[true_n > 0])) if (true_n > 0).any() else 0.0, 4),
        "per_class": {name: {"precision": round(float(precision[i]), 3), "recall": round(float(recall[i]), 3),
                             "f1": round(float(f1[i]), 3), "support": int(true_n[i])}
                      for i, name in enumerate(classes)},
        "classes": list(classes),
        "confusion_matrix": matrix.tolist(),
    }


def confusion_png(metrics: dict, path: str | Path, title: str = "") -> Path:
    """Draw ``metrics["confusion_matrix"]`` (rows: truth) as a PNG with counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(metrics["confusion_matrix"])
    names = metrics["classes"]
    size = max(4.0, 0.45 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    shares = matrix / np.maximum(1, matrix.sum(1, keepdims=True))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(names) <= 30:
        for (i, j), n in np.ndenumerate(matrix):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=6 if len(names) > 10 else 9,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_title(title or f"overall accuracy {metrics['overall_accuracy']:.2%}", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
