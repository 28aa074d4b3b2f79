"""Errors of the federation; each names the source and says what to do. The API maps them by status."""

from __future__ import annotations

from kg.errors import GeoKGError


class FederationError(GeoKGError):
    """A source could not answer (down, refused us, replied with something unreadable): 502."""

    status = 502

    def __init__(self, source: str, message: str):
        super().__init__(f"The source {source!r} {message}")
        self.source = source


class SourceTimeout(FederationError):
    """A source did not answer within the federation's timeout: 504."""

    status = 504


class ReplyTooLarge(FederationError):
    """A source's reply to one sub-query was over the configured limit: 502, saying how to narrow it."""


class UnknownSource(GeoKGError):
    """A source name that the federation's configuration does not list: 400."""


class ConfigurationError(GeoKGError):
    """A federation configuration file that cannot be used (names the file and the entry)."""
