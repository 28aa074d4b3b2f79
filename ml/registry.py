"""The model registry: every trained model with its version, metrics, training configuration and data hash.

A registry is a folder, ``NAME/VERSION/model.keras`` (Keras 3 format) beside ``NAME/VERSION/card.json``;
versions are 1, 2, 3 ... per name. The default folder is ``$EEKG_MODEL_DIR`` or ``.eekg/models`` in the
working directory. The models shipped with the code (``ml/shipped/``, the demo's) are a second,
read-only folder that every registry also reads.

    registry = Registry()
    card = registry.save(model, ModelCard(name="sea-ice-cnn", kind="sea-ice", ...))
    registry.best("overall_accuracy", kind="sea-ice")       # the card of the best model
    registry.export("sea-ice-cnn", "1", "cnn.zip")          # one file: model.keras + card.json
    Registry("/elsewhere").import_file("cnn.zip")
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from ml.errors import RegistryError, UnknownModel

SHIPPED = Path(__file__).resolve().parent / "shipped"
KINDS = ("sea-ice", "crop-type")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


@dataclass(frozen=True)
class ModelCard:
    """What the registry knows of a model besides its weights."""

    name: str
    kind: str                       # "sea-ice" (patches) or "crop-type" (series)
    architecture: str               # a key of ml.models.ARCHITECTURES
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]    # one example: (rows, cols, channels) or (steps, bands)
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)   # the recipe and options it was trained with
    data_hash: str = ""             # ml.data.hash_arrays of the training data
    data: dict = field(default_factory=dict)     # where the data came from, sizes, split
    codes: dict = field(default_factory=dict)    # class -> code-list concept (local name) for the maps
    version: str = ""
    created: str = ""
    training_seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        values = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        values["classes"], values["input_shape"] = tuple(values["classes"]), tuple(values["input_shape"])
        return cls(**values)


class Registry:
    """Models on disk by name and version; ``root`` is written, the shipped folder only read."""

    def __init__(self, root: str | Path | None = None, *, shipped: Path | None = SHIPPED):
        self.root = Path(root or os.environ.get("EEKG_MODEL_DIR") or ".eekg/models")
        self.folders = [self.root] + ([shipped] if shipped is not None and shipped != self.root else [])
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[float, object]] = {}

    # --- reading ------------------------------------------------------------------------------

    def cards(self, name: str | None = None) -> list[ModelCard]:
        """Every model's card (of ``name`` only when given), by name and version."""
        found = {}
        for folder in reversed(self.folders):  # the writable folder wins over the shipped one
            for card_file in folder.glob(f"{name or '*'}/*/card.json"):
                card = ModelCard.from_json(card_file.read_text())
                found[(card.name, card.version)] = card
        return sorted(found.values(), key=lambda c: (c.name, int(c.version) if c.version.isdigit() else 0))

    def card(self, name: str, version: str | None = None) -> ModelCard:
        """The card of ``name`` at ``version`` (default: its latest version)."""
        return ModelCard.from_json((self._folder(name, version) / "card.json").read_text())

    def load(self, name: str, version: str | None = None):
        """(Keras model, card) of ``name`` at ``version`` (default latest); loaded once and kept."""
        from ml._keras import keras
        from ml.models import custom_objects

        folder = self._folder(name, version)
        path = folder / "model.keras"
        with self._lock:
            stamp = path.stat().st_mtime
            cached = self._loaded.get(path)
            if cached is None or cached[0] != stamp:
                model = keras().models.load_model(path, custom_objects=custom_objects(), compile=False)
                cached = self._loaded[path] = (stamp, model)
        return cached[1], ModelCard.from_json((folder / "card.json").read_text())  # the folder found above

    def best(self, metric: str = "overall_accuracy", *, kind: str | None = None, name: str | None = None) -> ModelCard:
        """The card with the highest ``metric`` (a key of the cards' metrics), among ``kind`` or ``name``."""
        cards = [c for c in self.cards(name) if kind is None or c.kind == kind]
        scored = [c for c in cards if isinstance(c.metrics.get(metric), (int, float))]
        if not scored:
            where = " ".join(filter(None, [f"of kind {kind}" if kind else "", f"named {name}" if name else ""]))
            known = sorted({k for c in cards for k, v in c.metrics.items() if isinstance(v, (int, float))})
            raise UnknownModel(f"No model {where or 'in the registry'} has the metric {metric!r}"
                               + (f"; metrics there: {', '.join(known)}." if known else "; train one with 'eekg ml train'."))
        return max(scored, key=lambda c: (c.metrics[metric], int(c.version) if c.version.isdigit() else 0))

    def _folder(self, name: str, version: str | None) -> Path:
        versions = [c.version for c in self.cards(name)] if _NAME.fullmatch(name or "") else []
        if not versions:
            known = sorted({c.name for c in self.cards()})
            raise UnknownModel(f"There is no model named {name!r}. Models: {', '.join(known) or 'none yet'}; "
                               "'eekg ml list' shows them, 'eekg ml train' makes one.")
        version = str(version) if version is not None else versions[-1]
        for folder in self.folders:
            if (folder / name / version / "card.json").is_file():
                return folder / name / version
        raise UnknownModel(f"Model {name!r} has no version {version!r}; its versions are {', '.join(versions)}.")

    # --- writing ------------------------------------------------------------------------------

    def save(self, model, card: ModelCard) -> ModelCard:
        """Store ``model`` under ``card.name`` with the next version; returns the card as saved."""
        if card.kind not in KINDS:
            raise RegistryError(f"Got kind={card.kind!r}; a model's kind is one of {', '.join(KINDS)}.")
        _check_name(card.name)
        with self._lock:
            taken = [int(c.version) for c in self.cards(card.name) if c.version.isdigit()]
            version = str(max(taken, default=0) + 1)
            card = _with(card, version=version, created=card.created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            folder = self.root / card.name / version
            partial = Path(tempfile.mkdtemp(prefix=".saving-", dir=_made(self.root)))
            try:
                _without_optimizer(model).save(partial / "model.keras")
                (partial / "card.json").write_text(card.to_json() + "\n")
                _made(folder.parent)
                partial.chmod(0o755)  # mkdtemp makes it private; a registry is shared like any folder
                partial.rename(folder)  # a version appears whole or not at all
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        return card

    def export(self, name: str, version: str | None, path: str | Path) -> Path:
        """Write model ``name`` at ``version`` (default latest) as one file: a zip of model.keras and card.json."""
        folder = self._folder(name, version)
        path = Path(path)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(folder / "model.keras", "model.keras")
            archive.write(folder / "card.json", "card.json")
        return path

    def import_file(self, path: str | Path, *, name: str | None = None) -> ModelCard:
        """Add the model of an exported file, keeping its version (under ``name`` if given)."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as archive:
                card = ModelCard.from_json(archive.read("card.json").decode())
                weights = archive.read("model.keras")
        except (OSError, KeyError, zipfile.BadZipFile, ValueError, TypeError) as error:
            raise RegistryError(f"{path} is not an exported model (a zip of model.keras and card.json: {error}). "
                                "Make one with 'eekg ml export'.") from None
        card = _with(card, name=_check_name(name or card.name))
        if any(c.version == card.version for c in self.cards(card.name)):
            raise RegistryError(f"The registry already holds {card.name} version {card.version}; "
                                "import it under another name (--name).")
        folder = _made(self.root / card.name) / card.version
        partial = Path(tempfile.mkdtemp(prefix=".importing-", dir=self.root))
        (partial / "model.keras").write_bytes(weights)
        (partial / "card.json").write_text(card.to_json() + "\n")
        partial.chmod(0o755)
        partial.rename(folder)
        return card


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise RegistryError(f"Got model name {name!r}; use letters, digits, '.', '_' and '-' (at most 80), "
                            "starting with a letter or digit.")
    return name


def _without_optimizer(model):
    """The model with its weights but not its optimiser's state (a third of the file, of no use for serving)."""
    if getattr(model, "optimizer", None) is None:
        return model
    copy = type(model).from_config(model.get_config())  # clone_model would keep the compiled optimiser
    copy.set_weights(model.get_weights())
    return copy


def _with(card: ModelCard, **changes) -> ModelCard:
    return ModelCard(**{**asdict(card), **changes})


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
