"""Loading the Sentinel-1 patches: constant ones dropped and counted; the split is spatially disjoint."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import shapely
from PIL import Image

from ml.data import data_dir
from ml.errors import DataError
from ml.polar import footprint_gap, load_patches, spatial_split


def test_constant_patches_are_dropped_and_counted(patches):
    root = data_dir() / "polar-patch"
    rows = list(csv.DictReader((root / "meta.csv").open(), delimiter=" "))[:600]
    flat = []  # counted independently: a channel's spread (max - min) of zero in all three channels
    for r in rows:
        image = np.asarray(Image.open(root / "images" / f"{r['patch']}.png"))
        if (np.ptp(image.reshape(-1, 3), axis=0) == 0).all():
            flat.append(int(r["patch"]))
    assert 50 < len(flat) < 300  # about one in five, as the data's README says
    assert patches.dropped == len(flat) and len(patches) == 600 - len(flat)
    assert not set(flat) & set(patches.ids.tolist())
    assert patches.notes == [f"dropped {len(flat)} constant (no-data) patches of 600; {600 - len(flat)} remain"]
    assert patches.images.shape[1:] == (64, 64, 3) and patches.images.dtype == np.uint8


def test_split_is_spatially_disjoint_with_a_gap(patches):
    train, val = spatial_split(patches, validation=0.2, gap=128, seed=3)
    assert not set(train) & set(val)
    assert footprint_gap(patches, train, val) >= 128  # no training footprint within 128 px of a validation one
    # the same, counted independently: validation footprints grown by the gap meet no training footprint's inside
    s = patches.size
    grown = shapely.union_all(shapely.box(patches.x[val] - 128, patches.y[val] - 128,
                                          patches.x[val] + s + 128, patches.y[val] + s + 128))
    kept = shapely.box(patches.x[train], patches.y[train], patches.x[train] + s, patches.y[train] + s)
    assert shapely.area(shapely.intersection(kept, grown)).max() == 0
    # and the gap is real: some patches lie in it, in neither part
    assert len(train) + len(val) < len(patches)
    assert 0.1 < len(val) / len(patches) < 0.35 and len(train) > len(patches) / 2
    again = spatial_split(patches, validation=0.2, gap=128, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val)))  # seeded


def test_a_larger_gap_leaves_more_patches_out(patches):
    near, _ = spatial_split(patches, gap=0, seed=1)
    far, val = spatial_split(patches, gap=512, seed=1)
    assert len(far) < len(near) and footprint_gap(patches, far, val) >= 512


def test_bad_data_folders_are_refused_clearly(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_patches(tmp_path / "nowhere")
    with pytest.raises(DataError, match="has no meta.csv"):
        load_patches(tmp_path)
    with pytest.raises(DataError, match="between 0 and 1"):
        spatial_split(load_patches(limit=20), validation=1.5)
