"""The one store interface: the embedded store implements it now, the Spark store later.

Graphs are named by IRI strings; ``None`` is the default graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

QueryForm = Literal["SELECT", "ASK", "GRAPH"]  # GRAPH: CONSTRUCT and DESCRIBE


@dataclass(frozen=True)
class LoadReport:
    """What a load wrote."""

    files: tuple[str, ...]
    triples: int
    geometries: int
    seconds: float


class StoreSize(NamedTuple):
    """How much a store holds; cheap to get."""

    triples: int
    named_graphs: int


@dataclass(frozen=True)
class StoreStats:
    """Counts that describe a store's content."""

    triples: int
    named_graphs: int
    geometries: dict[str, int] = field(default_factory=dict)  # datatype IRI -> literal count
    classes: dict[str, int] = field(default_factory=dict)  # class IRI -> instances, largest first


class QueryResult(ABC):
    """The answer of a query, evaluated when it is serialised or read, once.

    Create, read and drop it in one thread: pyoxigraph's answers cannot move between threads
    (the HTTP service does all three in one worker-thread call, see ``api/concurrency.py``).
    """

    form: QueryForm

    @abstractmethod
    def serialize(self, format: str) -> bytes:
        """The whole answer in a result format (json, xml, csv, tsv) or an RDF format for GRAPH."""

    @abstractmethod
    def bindings(self) -> list[dict[str, object]]:
        """SELECT rows as dicts from variable name to RDF term (unbound variables left out)."""

    @abstractmethod
    def boolean(self) -> bool:
        """The answer of an ASK query."""

    @abstractmethod
    def triples(self) -> list[object]:
        """The triples of a CONSTRUCT or DESCRIBE query."""


class Store(ABC):
    """A GeoSPARQL store: load RDF, answer SPARQL 1.1 queries and updates with GeoSPARQL 1.1."""

    backend: str

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        default_graphs: Sequence[str | None] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Prepare a SPARQL query; raises QuerySyntaxError at once, evaluation errors on reading."""

    @abstractmethod
    def update(self, sparql: str, *, timeout: float | None = None) -> None:
        """Apply a SPARQL 1.1 Update atomically."""

    @abstractmethod
    def load(
        self,
        paths: Iterable[str | Path],
        *,
        format: str | None = None,
        graph: str | None = None,
        progress: Callable[[int], None] | None = None,
        validated: bool = False,
        on_loaded: Callable[[Path], None] | None = None,
    ) -> LoadReport:
        """Bulk-load RDF files; all of them or, if any is bad, none. ``progress`` gets byte counts.

        ``paths`` may be a generator: an on-disk store loads each file as it comes. ``validated``:
        the caller has already validated every geometry literal (the mapping stage does), so the
        files are not parsed a second time; a syntax error still undoes the whole load.
        ``on_loaded`` is called with each file once the store no longer needs it.
        """

    @abstractmethod
    def load_data(self, data: bytes, format: str, *, graph: str | None = None, replace: bool = False) -> LoadReport:
        """Add (or, with ``replace``, replace the graph's content with) RDF data, atomically."""

    @abstractmethod
    def dump(self, format: str, *, graph: str | None = None) -> bytes:
        """A graph serialised as RDF."""

    @abstractmethod
    def graph_exists(self, graph: str | None) -> bool:
        """Whether a named graph exists (the default graph always does)."""

    @abstractmethod
    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph, or empty the default graph."""

    @abstractmethod
    def size(self) -> StoreSize:
        """Triples (in all graphs) and named graphs; fast enough for a health check."""

    @abstractmethod
    def stats(self) -> StoreStats:
        """Counts describing the content, some needing a scan of the store."""

    def close(self) -> None:
        """Release files and locks."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
