"""The errors of ``ml/``: bad data, bad model input, unknown models; each says what and what to do.

``ml/`` sits beside the store (it imports nothing of ``kg/``), so it has its own root;
``kg.errors.USER_ERRORS`` names it with the others, so the API answers each with its ``status`` and
``eekg`` prints its message, as for the store's errors.
"""

from __future__ import annotations


class MLError(Exception):
    """Root of the errors a user of ``ml/`` can cause; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DataError(MLError):
    """A data set that is missing or not in the layout expected."""


class InvalidModelInput(MLError):
    """Input of the wrong shape, type or values (NaN) for a model."""


class UnknownModel(MLError):
    """A model name or version the registry does not hold."""

    status = 404


class RegistryError(MLError):
    """A model file that cannot be imported, or a registry entry that cannot be written."""
