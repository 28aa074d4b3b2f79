"""The Sentinel-1 patches of ``polar-patch/``: loading (constant patches dropped) and a spatial split.

The data: ``meta.csv`` (``patch x y label``, space-separated; ``x``, ``y`` the patch's upper-left
pixel in the scene; labels ``W`` water, ``I`` ice, ``L`` land) and ``images/{patch}.png``, 64 x 64
RGB. About one patch in five is constant: it lies outside the swath, where the scene has no data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml.data import data_path
from ml.errors import DataError

LETTERS = {"W": "water", "I": "ice", "L": "land"}
# The two class sets of the study; the names are concepts of the sea-ice code list (seaice:).
CLASS_SETS = {"binary": ("water", "ice"), "three": ("water", "ice", "land")}


@dataclass(frozen=True)
class Patches:
    """Patches with their pixel position in the scene and label; ``dropped`` counts constant ones left out."""

    images: np.ndarray  # (n, size, size, 3) uint8
    x: np.ndarray       # (n,) upper-left column in the scene
    y: np.ndarray       # (n,) upper-left row
    labels: np.ndarray  # (n,) "water" | "ice" | "land"
    ids: np.ndarray     # (n,) patch numbers of meta.csv
    dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def size(self) -> int:
        return self.images.shape[1]

    def take(self, index: np.ndarray) -> Patches:
        """The patches at ``index`` (a boolean mask or positions)."""
        return Patches(self.images[index], self.x[index], self.y[index], self.labels[index], self.ids[index],
                       self.dropped, self.notes)

    def of_classes(self, classes: tuple[str, ...]) -> tuple[Patches, np.ndarray]:
        """The patches of ``classes`` and their class numbers (positions in ``classes``)."""
        keep = np.isin(self.labels, classes)
        kept = self.take(keep)
        return kept, np.array([classes.index(label) for label in kept.labels], dtype="int32")


def is_constant(images: np.ndarray) -> np.ndarray:
    """Whether each image has one value per channel in every pixel (no data outside the swath).

    The no-data patches of the scene are flat in each channel, with different values per channel
    (for example (1, 1, 0)), so constancy is checked channel by channel.

    >>> flat, textured = np.full((2, 2, 3), (1, 1, 0)), np.eye(2)[..., None].repeat(3, -1)
    >>> is_constant(np.stack([flat, textured])).tolist()
    [True, False]
    """
    flat = images.reshape(len(images), -1, images.shape[-1])
    return (flat == flat[:, :1, :]).all(axis=(1, 2))


def load_patches(root: str | Path | None = None, *, limit: int | None = None) -> Patches:
    """The non-constant patches of ``root`` (default ``../shared/data/polar-patch``), in ``meta.csv`` order.

    ``limit`` reads only the first ``limit`` rows of ``meta.csv`` (for quick tries and tests).
    """
    from PIL import Image

    root = data_path("polar-patch", root)
    meta = root / "meta.csv"
    if not meta.is_file():
        raise DataError(f"{root} has no meta.csv; give the polar-patch folder (meta.csv and images/).")
    with meta.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter=" "))[:limit]
    if not rows or not {"patch", "x", "y", "label"} <= set(rows[0]):
        raise DataError(f"{meta} must have the columns 'patch x y label' (space-separated).")
    unknown = sorted({r["label"] for r in rows} - set(LETTERS))
    if unknown:
        raise DataError(f"{meta} has labels {unknown}; the labels known are W (water), I (ice), L (land).")
    images = []
    for r in rows:
        path = root / "images" / f"{r['patch']}.png"
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except OSError as error:
            raise DataError(f"{path} cannot be read as a PNG image ({error}); is the polar-patch folder complete?") from None
    images = np.stack(images)
    constant = is_constant(images)
    everything = Patches(images, np.array([int(r["x"]) for r in rows]), np.array([int(r["y"]) for r in rows]),
                         np.array([LETTERS[r["label"]] for r in rows]), np.array([int(r["patch"]) for r in rows]))
    kept = everything.take(~constant)
    note = f"dropped {int(constant.sum()):,} constant (no-data) patches of {len(rows):,}; {len(kept):,} remain"
    return Patches(kept.images, kept.x, kept.y, kept.labels, kept.ids, int(constant.sum()), [note])


def spatial_split(patches: Patches, *, validation: float = 0.2, block: int = 1024, gap: int = 128,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation positions whose patches lie at least ``gap`` pixels apart in the scene.

    The scene is cut into ``block`` x ``block`` pixel blocks; blocks drawn at random (seeded) go to
    validation until it holds about ``validation`` of the patches (by upper-left corner). Training
    keeps the other patches except those whose footprint comes within ``gap`` pixels of a validation
    patch's footprint, along both axes: those are left out, so that no training patch overlaps or
    touches a validation one. Returns (train, validation) index arrays.
    """
    if not 0 < validation < 1:
        raise DataError(f"Got validation={validation}; give the share of patches for validation, between 0 and 1.")
    bx, by = patches.x // block, patches.y // block
    cells = np.unique(np.stack([bx, by], 1), axis=0)
    order = np.random.default_rng(seed).permutation(len(cells))
    cell_id = {tuple(c): i for i, c in enumerate(cells)}
    patch_cell = np.array([cell_id[(a, b)] for a, b in zip(bx, by)])
    counts = np.bincount(patch_cell, minlength=len(cells))
    chosen = order[: np.searchsorted(np.cumsum(counts[order]), validation * len(patches)) + 1]
    is_val = np.isin(patch_cell, chosen)
    val = np.flatnonzero(is_val)
    rest = np.flatnonzero(~is_val)
    too_close = _near(patches, rest, val, gap)
    return rest[~too_close], val


def _near(patches: Patches, a: np.ndarray, b: np.ndarray, gap: int) -> np.ndarray:
    """For each patch of ``a``: whether its footprint is less than ``gap`` pixels from one of ``b`` on both axes."""
    s = patches.size
    near = np.zeros(len(a), dtype=bool)
    for start in range(0, len(a), 2048):  # blocks of pairs keep the memory small
        i = a[start:start + 2048]
        dx = np.abs(patches.x[i, None] - patches.x[None, b]) - s  # the empty space between footprints
        dy = np.abs(patches.y[i, None] - patches.y[None, b]) - s
        near[start:start + 2048] = ((dx < gap) & (dy < gap)).any(axis=1)
    return near


def footprint_gap(patches: Patches, a: np.ndarray, b: np.ndarray) -> int:
    """The smallest axis-separated distance in pixels between a footprint of ``a`` and one of ``b``."""
    s = patches.size
    dx = np.abs(patches.x[a, None] - patches.x[None, b]) - s
    dy = np.abs(patches.y[a, None] - patches.y[None, b]) - s
    return int(np.maximum(dx, dy).min())
