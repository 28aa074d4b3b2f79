"""Time-series data: the UCR Crop pixel series (with a held-out part) and the eo-learn Sentinel-2 patch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.data import data_path
from ml.errors import DataError

# The class names the data's README gives for UCR Crop; the other classes are known by number only.
UCR_CROP_NAMES = {1: "corn", 2: "wheat", 10: "soy", 14: "sunflower", 17: "rapeseed", 18: "silage maize",
                  19: "barley", 20: "peas"}
# Crop-type concepts (crop: code list) of the UCR classes that have one without doubt. Wheat and barley
# are left out: the series do not say winter or spring, and the code list tells them apart.
UCR_CROP_CODES = {"corn": "maize", "silage maize": "maize", "soy": "soy", "sunflower": "sunflower",
                  "rapeseed": "rapeseed", "peas": "legumes"}


@dataclass(frozen=True)
class Series:
    """Labelled series: ``values`` (n, steps, bands) float32, ``labels`` (n,) class numbers 0..k-1."""

    values: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def take(self, index) -> Series:
        return Series(self.values[index], self.labels[index], self.classes)

    def __len__(self) -> int:
        return len(self.labels)


def load_ucr_crop(path: str | Path | None = None) -> Series:
    """``Crop_TRAIN.tsv`` (default ``../shared/data/ucr-crop/``): one series a row, the class first.

    Classes are named by the README's names where it gives one, else ``class N``; they are
    numbered 0..k-1 in order of the original class numbers.
    """
    path = data_path("ucr-crop/Crop_TRAIN.tsv", path)
    if path.is_dir():
        path = path / "Crop_TRAIN.tsv"
    try:
        table = np.loadtxt(path, delimiter="\t", dtype="float32", ndmin=2)
    except ValueError as error:
        raise DataError(f"{path} is not a table of numbers separated by tabs ({error}).") from None
    if table.shape[1] < 3 or np.isnan(table).any():
        raise DataError(f"{path} must have the class in the first column and at least two values a row, with no gaps.")
    original = table[:, 0].astype(int)
    numbers = np.unique(original)
    classes = tuple(UCR_CROP_NAMES.get(int(n), f"class {int(n)}") for n in numbers)
    return Series(table[:, 1:, None], np.searchsorted(numbers, original).astype("int32"), classes)


def stratified_split(labels: np.ndarray, fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) positions, ``fraction`` of each class held out at random (seeded).

    >>> kept, held = stratified_split(np.repeat([0, 1], 10), 0.2)
    >>> len(kept), len(held), np.repeat([0, 1], 10)[held].tolist()
    (16, 4, [0, 0, 1, 1])
    """
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        held.append(members[: round(fraction * len(members))])
    held = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(labels)), held), held


@dataclass(frozen=True)
class EOPatch:
    """The eo-learn Sentinel-2 patch: NDVI and cloud mask (dates, rows, cols, 1), land cover, dates."""

    ndvi: np.ndarray
    clouds: np.ndarray
    land_cover: np.ndarray
    timestamps: np.ndarray  # datetime64[s]


def load_eopatch(root: str | Path | None = None) -> EOPatch:
    """The patch of ``root`` (default ``../shared/data/eo-learn-patch``)."""
    root = data_path("eo-learn-patch", root)
    try:
        ndvi, clouds, lulc = (np.load(root / f"{name}.npy") for name in ("NDVI", "CLM", "LULC"))
        stamps = np.array(json.loads((root / "timestamps.json").read_text()), dtype="datetime64[s]")
    except (OSError, ValueError) as error:
        raise DataError(f"{root} must hold NDVI.npy, CLM.npy, LULC.npy and timestamps.json ({error}).") from None
    if ndvi.shape != clouds.shape or len(stamps) != len(ndvi):
        raise DataError(f"{root}: NDVI {ndvi.shape}, CLM {clouds.shape} and {len(stamps)} timestamps do not agree.")
    return EOPatch(ndvi, clouds, lulc, stamps)
