"""Where the shared data sets live: ``../shared/data/`` beside the checkout, or ``$EEKG_DATA_DIR``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ml.errors import DataError

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The folder holding ``polar-patch/``, ``ucr-crop/`` and ``eo-learn-patch/``."""
    return Path(os.environ.get("EEKG_DATA_DIR") or PROJECT_ROOT.parent / "shared" / "data")


def data_path(name: str, given: str | Path | None = None) -> Path:
    """``given`` if set, else ``data_dir() / name``; an error naming the path when it is missing."""
    path = Path(given) if given is not None else data_dir() / name
    if not path.exists():
        raise DataError(f"{path} does not exist. Give the data set's path, or set EEKG_DATA_DIR to the folder "
                        f"holding {name}/ (by default ../shared/data beside the checkout).")
    return path


def hash_arrays(*arrays: np.ndarray) -> str:
    """A SHA-256 of the arrays' shapes, types and bytes: the data a model was trained on.

    >>> hash_arrays(np.zeros(3)) == hash_arrays(np.zeros(3)) != hash_arrays(np.ones(3))
    True
    """
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return "sha256:" + digest.hexdigest()
