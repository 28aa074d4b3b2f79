"""Fixtures: the real Oxigraph server, our own server and an in-process store, holding the test data."""

from __future__ import annotations

import pytest
from federation_support import READER_KEY, eekg_server, oxigraph_server, store_of, sample_data, union_store

from federation import EndpointSource, Federation, StoreSource


@pytest.fixture(scope="session")
def data() -> dict[str, bytes]:
    return sample_data()


@pytest.fixture(scope="session")
def reference(data):
    """One store holding the union of the sources' data: what the federation must answer like."""
    return union_store(data)


@pytest.fixture(scope="session")
def oxigraph_url(data):
    with oxigraph_server(data["oxigraph"]) as url:
        yield url


@pytest.fixture(scope="session")
def eekg_url(data):
    with eekg_server(store_of(data["eekg"]), reader_keys=[READER_KEY]) as url:
        yield url


@pytest.fixture(scope="session")
def federation(data, oxigraph_url, eekg_url):
    sources = [
        EndpointSource("oxigraph", oxigraph_url),
        EndpointSource("eekg", eekg_url, api_key=READER_KEY),
        StoreSource("local", store_of(data["local"])),
    ]
    with Federation(sources) as running:
        yield running
