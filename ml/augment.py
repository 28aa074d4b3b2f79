"""Augmentation of SAR patches: the eight flips and 90-degree rotations (the dihedral group of the square).

Sea ice has no preferred orientation in a patch, so every flip and rotation of a training patch is
another valid example; the patches' pixels are kept as they are (no interpolation).
"""

from __future__ import annotations

import numpy as np


def dihedral(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image of ``images`` (n, h, w, c), square, turned by a random multiple of 90 degrees and
    flipped left-right at random.

    >>> image = np.arange(4).reshape(1, 2, 2, 1)
    >>> seen = {dihedral(image, np.random.default_rng(s))[0, ..., 0].tobytes() for s in range(200)}
    >>> len(seen)  # all eight orientations of a square with four different corners
    8
    """
    turns = rng.integers(0, 4, len(images))
    flips = rng.random(len(images)) < 0.5
    out = np.empty_like(images)
    for k in range(4):
        for flip in (False, True):
            chosen = (turns == k) & (flips == flip)
            turned = np.rot90(images[chosen], k, axes=(1, 2))
            out[chosen] = turned[:, :, ::-1] if flip else turned
    return out
