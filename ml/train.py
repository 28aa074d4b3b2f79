"""Training recipes: the models of the two use cases, trained, evaluated and saved in the registry.

A :class:`Recipe` names an architecture, its options and how to train it; :data:`RECIPES` holds the
defaults (each trains in minutes on two CPU cores). :func:`train` runs one:

    card = train(RECIPES["sea-ice-cnn-binary"], Registry())

Sea ice: the patches of ``polar-patch/`` without the constant ones, split spatially
(:func:`ml.polar.spatial_split`), training patches flipped and turned at random every epoch.
Crop types: ``ucr-crop/Crop_TRAIN.tsv``, a stratified fifth held out for the reported metrics; the
LSTM trains in two phases (class-weighted loss, then the standard loss from the phase-one weights)
with RMSprop at 1e-3; :func:`grid_search` picks the LSTM's layers and cells on a validation part of
the remaining four fifths, so the held-out part is used once, for the chosen model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ml.augment import dihedral
from ml.data import hash_arrays
from ml.errors import MLError
from ml.metrics import classification_metrics
from ml.models import ARCHITECTURES
from ml.polar import CLASS_SETS, load_patches, spatial_split
from ml.registry import ModelCard, Registry
from ml.series import UCR_CROP_CODES, load_ucr_crop, stratified_split


@dataclass(frozen=True)
class Recipe:
    """How to train one model: architecture and options, classes, epochs, optimiser, data limits."""

    name: str                   # the model's name in the registry
    architecture: str           # a key of ml.models.ARCHITECTURES
    options: dict = field(default_factory=dict)
    classes: str = ""           # sea ice: "binary" (water, ice) or "three" (water, ice, land)
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"     # "adam" or "rmsprop"
    learning_rate: float = 1e-3
    two_phase: bool = False     # phase one with class weights, phase two with the standard loss
    phase_one_epochs: int = 0   # of ``epochs``, when two_phase (default: half)
    seed: int = 0
    limit: int | None = None    # use only this many examples (tests, quick tries): the first patches, series spread evenly

    @property
    def kind(self) -> str:
        return "sea-ice" if ARCHITECTURES[self.architecture][1] == "patches" else "crop-type"


RECIPES = {r.name: r for r in (
    Recipe("sea-ice-cnn-binary", "adhoc-cnn", classes="binary", epochs=8),
    Recipe("sea-ice-cnn-three", "adhoc-cnn", classes="three", epochs=8),
    Recipe("sea-ice-vgg-binary", "vgg16", {"pools": 3, "width": 0.25}, classes="binary", epochs=6),
    Recipe("sea-ice-vgg-three", "vgg16", {"pools": 3, "width": 0.25}, classes="three", epochs=6),
    # The small model shipped for the demo (ml/shipped/): the ad-hoc CNN with dense layers of 64 and 32
    # instead of 1024 and 512, so that its file is 1 MB and not 19 MB.
    Recipe("sea-ice-demo", "adhoc-cnn", {"dense": (64, 32)}, classes="three", epochs=10),
    Recipe("crop-lstm", "lstm", {"layers": 2, "cells": 200}, epochs=30, batch_size=64, optimizer="rmsprop",
           two_phase=True),
    Recipe("crop-tempcnn", "tempcnn", epochs=30, batch_size=64),
    Recipe("crop-starrnn", "starrnn", {"layers": 3, "cells": 128}, epochs=30, batch_size=64),
)}

Say = Callable[[str], None]


@dataclass
class Trained:
    """A trained model, its card (as saved when a registry was given) and its training history."""

    model: object
    card: ModelCard
    history: list[dict]


def train(recipe: Recipe, registry: Registry | None = None, *, data: str | Path | None = None,
          verbose: int = 0, say: Say = lambda _: None, notes: dict | None = None) -> Trained:
    """Train ``recipe`` on its data set (``data`` overrides the path), evaluate, save into ``registry``
    (``notes`` are added to the card's ``data``)."""
    if recipe.architecture not in ARCHITECTURES:
        raise MLError(f"Got architecture {recipe.architecture!r}; the architectures are {', '.join(ARCHITECTURES)}.")
    from ml._keras import keras

    keras().utils.set_random_seed(recipe.seed)
    x_train, y_train, x_val, y_val, classes, about = prepare_data(recipe, data, say)
    started = time.perf_counter()
    model, history = fit(recipe, x_train, y_train, x_val, y_val, len(classes), verbose=verbose, say=say)
    seconds = time.perf_counter() - started
    metrics = evaluate(model, x_val, y_val, classes)
    card = ModelCard(
        name=recipe.name, kind=recipe.kind, architecture=recipe.architecture, classes=tuple(classes),
        input_shape=tuple(int(n) for n in x_train.shape[1:]), metrics=metrics, config=_jsonable(asdict(recipe)),
        data_hash=hash_arrays(x_train, y_train, x_val, y_val), data={**about, "history": history, **(notes or {})},
        codes={c: UCR_CROP_CODES[c] for c in classes if c in UCR_CROP_CODES} if recipe.kind == "crop-type"
        else {c: c for c in classes},
        training_seconds=round(seconds, 1))
    if registry is not None:
        card = registry.save(model, card)
    say(f"{card.name} v{card.version or '-'}: validation accuracy {metrics['overall_accuracy']:.2%}, "
        f"median F1 {metrics['median_f1']:.3f}, trained in {seconds:.0f} s")
    return Trained(model, card, history)


def fit(recipe: Recipe, x_train, y_train, x_val, y_val, n_classes: int, *, verbose: int = 0,
        say: Say = lambda _: None, epochs: int | None = None):
    """Build and train the recipe's model; returns (model, history: one dict per phase)."""
    builder, kind = ARCHITECTURES[recipe.architecture]
    model = builder(x_train.shape[1:], n_classes, **recipe.options) if kind == "patches" \
        else builder(x_train, n_classes, **recipe.options)
    epochs = epochs or recipe.epochs
    train_data = _AugmentedPatches(x_train, y_train, recipe.batch_size, recipe.seed) if kind == "patches" else x_train
    fit_args = {"validation_data": (x_val, y_val), "verbose": verbose}
    if kind != "patches":
        fit_args |= {"y": y_train, "batch_size": recipe.batch_size, "shuffle": True}
    phases = []
    if recipe.two_phase:
        first = recipe.phase_one_epochs or max(1, epochs // 2)
        weights = class_weights(y_train, n_classes)
        say(f"phase one: {first} epochs, class-weighted loss")
        model.compile(optimizer=_optimizer(recipe), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        h1 = model.fit(train_data, epochs=first, class_weight=weights, **fit_args).history
        phases.append({"phase": 1, "objective": "class-weighted", "class_weight": [round(w, 4) for w in weights.values()],
                       **_rounded(h1), **_losses_at_switch(model, x_train, y_train, weights)})
        say(f"phase two: {epochs - first} epochs, standard loss from phase one's weights")
        model.compile(optimizer=_optimizer(recipe), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        h2 = model.fit(train_data, epochs=epochs - first, **fit_args).history if epochs > first else {}
        phases.append({"phase": 2, "objective": "standard", **_rounded(h2)})
    else:
        model.compile(optimizer=_optimizer(recipe), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        phases.append({"phase": 1, "objective": "standard", **_rounded(model.fit(train_data, epochs=epochs, **fit_args).history)})
    return model, phases


def class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Weights from the class frequencies, n / (classes x n_c): a rare class weighs more; absent ones 1.

    >>> class_weights(np.array([0, 0, 0, 1]), 2)
    {0: 0.6667, 1: 2.0}
    """
    counts = np.bincount(labels, minlength=n_classes)
    return {c: round(float(len(labels) / (n_classes * counts[c])) if counts[c] else 1.0, 4) for c in range(n_classes)}


def evaluate(model, x: np.ndarray, y: np.ndarray, classes) -> dict:
    """The classification metrics of ``model`` on (``x``, ``y``)."""
    predicted = model.predict(x, batch_size=256, verbose=0).argmax(axis=1)
    return classification_metrics(y, predicted, tuple(classes))


def grid_search(registry: Registry | None = None, *, layers=(2, 3, 4), cells=(100, 125, 200, 225, 300),
                epochs: int = 5, final_epochs: int | None = None, base: Recipe | None = None, data=None,
                verbose: int = 0, say: Say = lambda _: None) -> tuple[Trained, list[dict]]:
    """Two-phase LSTMs of every (layers, cells), each trained ``epochs`` epochs on four fifths of the
    kept series and scored on the last fifth; the best is trained again on all kept series for
    ``final_epochs`` (default: the base recipe's), evaluated on the held-out part and saved.
    Returns it and the table of scores."""
    base = base or RECIPES["crop-lstm"]
    x, y, _, _, classes, _ = _crop_data(base, data, say)
    inner, check = stratified_split(y, 0.2, seed=base.seed + 1)
    table = []
    for n_layers in layers:
        for n_cells in cells:
            recipe = replace(base, options={**base.options, "layers": n_layers, "cells": n_cells}, epochs=epochs)
            _keras().utils.set_random_seed(base.seed)
            started = time.perf_counter()
            model, _ = fit(recipe, x[inner], y[inner], x[check], y[check], len(classes), verbose=verbose)
            score = evaluate(model, x[check], y[check], classes)["overall_accuracy"]
            table.append({"layers": n_layers, "cells": n_cells, "validation_accuracy": score,
                          "seconds": round(time.perf_counter() - started, 1)})
            say(f"  {n_layers} layers x {n_cells} cells: validation accuracy {score:.2%}")
    best = max(table, key=lambda row: row["validation_accuracy"])
    chosen = replace(base, name=f"{base.name}-grid", epochs=final_epochs or base.epochs,
                     options={**base.options, "layers": best["layers"], "cells": best["cells"]})
    say(f"best: {best['layers']} layers x {best['cells']} cells; trained again on all kept series")
    trained = train(chosen, registry, data=data, verbose=verbose, say=say, notes={"grid": table})
    return trained, table


# --- data ------------------------------------------------------------------------------------


def prepare_data(recipe: Recipe, data=None, say: Say = lambda _: None):
    """(x_train, y_train, x_validation, y_validation, classes, about) of the recipe's data set, split
    as training splits it (the same seed gives the same split)."""
    return _sea_ice_data(recipe, data, say) if recipe.kind == "sea-ice" else _crop_data(recipe, data, say)



def _sea_ice_data(recipe: Recipe, root, say: Say):
    if recipe.classes not in CLASS_SETS:
        raise MLError(f"Got classes={recipe.classes!r}; a sea-ice recipe has classes 'binary' or 'three'.")
    patches = load_patches(root, limit=recipe.limit)
    say(f"polar patches: {patches.notes[0]}")
    train_at, val_at = spatial_split(patches, seed=recipe.seed)
    classes = CLASS_SETS[recipe.classes]
    (train_p, y_train), (val_p, y_val) = patches.take(train_at).of_classes(classes), patches.take(val_at).of_classes(classes)
    say(f"spatial split: {len(train_p):,} training and {len(val_p):,} validation patches "
        f"({len(patches) - len(train_at) - len(val_at):,} left out in the gap)")
    about = {"source": "polar-patch", "dropped_constant": patches.dropped, "train": len(train_p),
             "validation": len(val_p), "split": "spatial blocks of 1024 px, gap 128 px"}
    return train_p.images, y_train, val_p.images, y_val, classes, about


def _crop_data(recipe: Recipe, path, say: Say):
    series = load_ucr_crop(path)
    if recipe.limit:  # evenly spread: the file is sorted by class
        series = series.take(np.unique(np.linspace(0, len(series) - 1, min(recipe.limit, len(series))).astype(int)))
    kept, held = stratified_split(series.labels, 0.2, seed=recipe.seed)
    say(f"UCR Crop: {len(kept):,} series to train on, {len(held):,} held out, {len(series.classes)} classes")
    about = {"source": "ucr-crop/Crop_TRAIN.tsv", "train": len(kept), "held_out": len(held),
             "split": "stratified, a fifth of each class held out"}
    return (series.values[kept], series.labels[kept], series.values[held], series.labels[held],
            series.classes, about)


def _AugmentedPatches(images, labels, batch_size, seed):
    base = _keras().utils.PyDataset

    class AugmentedPatches(base):
        """Shuffled batches of the training patches, each flipped and turned at random."""

        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(images))

        def __len__(self):
            return int(np.ceil(len(images) / batch_size))

        def __getitem__(self, i):
            chosen = self.order[i * batch_size:(i + 1) * batch_size]
            return dihedral(images[chosen], self.rng), labels[chosen]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(images))

    return AugmentedPatches()


def _keras():
    from ml._keras import keras

    return keras()


def _optimizer(recipe: Recipe):
    k = _keras()
    if recipe.optimizer == "rmsprop":
        return k.optimizers.RMSprop(learning_rate=recipe.learning_rate)
    if recipe.optimizer == "adam":
        return k.optimizers.Adam(learning_rate=recipe.learning_rate)
    raise MLError(f"Got optimizer={recipe.optimizer!r}; use 'adam' or 'rmsprop'.")


def _losses_at_switch(model, x, y, weights: dict[int, float]) -> dict:
    """The training loss of phase one's final weights under both losses: where phase two starts."""
    k = _keras()
    p = model.predict(x, batch_size=256, verbose=0)
    per_example = np.asarray(k.losses.sparse_categorical_crossentropy(y, p))
    w = np.array([weights[int(c)] for c in y])
    return {"loss_at_switch_weighted": round(float((per_example * w).sum() / len(y)), 5),
            "loss_at_switch_standard": round(float(per_example.mean()), 5)}


def _rounded(history: dict) -> dict:
    return {key: [round(float(v), 5) for v in values] for key, values in history.items()}


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
