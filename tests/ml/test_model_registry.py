"""The registry: versions, cards, best by metric, export and import round trips, clear refusals."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ml.errors import RegistryError, UnknownModel
from ml.registry import SHIPPED, Registry


def test_models_round_trip_through_save_load_export_and_import(registry, patches, tmp_path):
    model, card = registry.load("tiny-sea-ice")
    assert card.version == "1" and card.created.endswith("Z")
    batch = patches.images[:8].astype("float32")
    expected = model.predict(batch, verbose=0)

    saved = registry.save(model, card)  # the same model again: the next version
    assert saved.version == "2" and [c.version for c in registry.cards("tiny-sea-ice")] == ["1", "2"]
    assert registry.card("tiny-sea-ice").version == "2"  # latest by default

    exported = registry.export("tiny-sea-ice", "1", tmp_path / "sea-ice.zip")
    assert sorted(zipfile.ZipFile(exported).namelist()) == ["card.json", "model.keras"]
    other = Registry(tmp_path / "elsewhere", shipped=None)
    imported = other.import_file(exported)
    assert (imported.name, imported.version, imported.data_hash) == ("tiny-sea-ice", "1", card.data_hash)
    assert imported.metrics == card.metrics and imported.config == card.config
    again, _ = other.load("tiny-sea-ice", "1")
    assert np.allclose(again.predict(batch, verbose=0), expected, atol=1e-6)
    with pytest.raises(RegistryError, match="already holds tiny-sea-ice version 1"):
        other.import_file(exported)
    assert other.import_file(exported, name="copy").name == "copy"


def test_best_model_by_metric(registry):
    best = registry.best("overall_accuracy")
    assert best.metrics["overall_accuracy"] == max(c.metrics["overall_accuracy"] for c in registry.cards())
    assert registry.best("median_f1", kind="crop-type").name == "tiny-crop"
    with pytest.raises(UnknownModel, match="metrics there: median_f1, overall_accuracy"):
        registry.best("kappa")


def test_unknown_models_and_bad_files_are_refused_clearly(registry, tmp_path):
    with pytest.raises(UnknownModel, match="no model named 'nope'. Models: tiny-crop, tiny-sea-ice"):
        registry.load("nope")
    with pytest.raises(UnknownModel, match="has no version '9'; its versions are 1"):
        registry.load("tiny-crop", "9")
    with pytest.raises(UnknownModel, match="no model named '../etc'"):
        registry.card("../etc")
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(RegistryError, match="is not an exported model"):
        registry.import_file(junk)


def test_the_shipped_demo_model_is_in_every_registry(tmp_path):
    card = Registry(tmp_path).card("sea-ice-demo")
    assert card.kind == "sea-ice" and card.classes == ("water", "ice", "land") and card.version == "1"
    assert (SHIPPED / "sea-ice-demo" / "1" / "model.keras").stat().st_size < 3_000_000  # small enough to ship
