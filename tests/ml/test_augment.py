"""Augmentation gives only flips and 90-degree turns of each patch, all eight of them."""

from __future__ import annotations

import numpy as np

from ml.augment import dihedral


def _orientations(image):
    turns = [np.rot90(image, k) for k in range(4)]
    return [t.tobytes() for t in turns + [t[:, ::-1] for t in turns]]


def test_every_output_is_a_flip_or_turn_of_its_input(patches):
    batch = patches.images[:64]
    out = dihedral(batch, np.random.default_rng(0))
    seen = set()
    for before, after in zip(batch, out):
        allowed = _orientations(before)
        assert after.tobytes() in allowed
        seen.add(allowed.index(after.tobytes()))
    assert seen == set(range(8))
