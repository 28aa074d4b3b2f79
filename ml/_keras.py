"""TensorFlow and Keras, imported on first use: the import takes 3-5 s that the rest of the CLI
and API should not pay."""

from __future__ import annotations

import os
from functools import cache


@cache
def keras():
    """The ``keras`` module (TensorFlow backend), quiet about CUDA and oneDNN."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no oneDNN notice, no "failed call to cuInit" on CPU machines
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras as k

    return k
