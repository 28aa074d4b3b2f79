"""The demo knowledge graph that the README's first command builds and serves."""

from __future__ import annotations

import shutil
from pathlib import Path

from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError
from kg.store import LoadReport

DEMO_FILES = (Path(__file__).parent / "demo_data" / "demo.ttl",)
_MARKER = ".eekg-demo"  # only a directory carrying this marker is ever wiped


def build_demo(store_dir: Path) -> tuple[EmbeddedStore, LoadReport]:
    """(Re)build the demo store in ``store_dir`` and return it open, with what was loaded."""
    store_dir = Path(store_dir)
    if store_dir.exists() and any(store_dir.iterdir()):
        if not (store_dir / _MARKER).exists():
            raise GeoKGError(f"{store_dir} exists and is not a demo store; choose an empty or new directory with --store.")
        shutil.rmtree(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    (store_dir / _MARKER).touch()
    store = EmbeddedStore(store_dir)
    return store, store.load(DEMO_FILES)
