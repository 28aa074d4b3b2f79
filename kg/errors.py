"""One exception root for everything a user can get wrong; the API maps each to an HTTP status.

Every message says what was wrong and what to do about it.
"""

from __future__ import annotations

from mappings.errors import MappingError
from ml.errors import MLError


class GeoKGError(Exception):
    """Root of the errors a user can cause; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QuerySyntaxError(GeoKGError):
    """A SPARQL query or update that does not parse; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f" at line {line}, column {column}" if line else ""
        super().__init__(f"SPARQL syntax error{where}: {message}")
        self.line, self.column = line, column


class InvalidGeometry(GeoKGError):
    """A geometry literal that cannot be parsed, or a geometry a function cannot work on."""


class UnknownCRS(InvalidGeometry):
    """A geometry literal whose CRS IRI names no coordinate reference system we know."""


class UnsupportedFeature(GeoKGError):
    """Something a store or function cannot do; names the feature and the backend."""

    status = 501

    def __init__(self, feature: str, backend: str = "embedded store", hint: str = ""):
        super().__init__(f"{feature} is not supported by the {backend}." + (f" {hint}" if hint else ""))
        self.feature, self.backend = feature, backend


class LoadError(GeoKGError):
    """An RDF file that cannot be loaded; nothing of the load was written."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, column: int | None = None):
        where = file or "input"
        if line:
            where += f", line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message.rstrip('.')}. Nothing was loaded; correct the data and load it again.")
        self.file, self.line = file, line


class QueryTimeout(GeoKGError):
    """A query or update that ran longer than the configured timeout; it was stopped."""

    status = 503


class NotFound(GeoKGError):
    """A named graph or resource that does not exist."""

    status = 404


def without_frames(error: BaseException) -> BaseException:
    """The exception without its traceback and chained exceptions, which hold frames (and what
    they reference: answers, stores) when it is handed from a worker thread or kept."""
    error.__traceback__ = None
    error.__context__ = error.__cause__ = None
    return error


# What the CLI and the API report as the user's error (message, no traceback).
USER_ERRORS = (GeoKGError, MappingError, MLError)
