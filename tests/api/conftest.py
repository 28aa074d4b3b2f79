"""Fixtures: real uvicorn servers on 127.0.0.1 over in-memory stores with a few GeoSPARQL features."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_support import WRITER_KEY, Server, feature_store, make_settings, serve


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The shared server: open reads, one writer key, 64 KiB request limit. Tests that write use own graphs."""
    with serve(feature_store(), make_settings()) as running:
        yield running


@pytest.fixture
def scratch() -> Iterator[Server]:
    """A fresh server of its own, for tests that change the default graph."""
    with serve(feature_store(), make_settings()) as running:
        yield running


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="session")
def writer(server: Server) -> Iterator[httpx.Client]:
    """A client that sends the writer key."""
    with server.client(headers={"Authorization": f"Bearer {WRITER_KEY}"}) as c:
        yield c


