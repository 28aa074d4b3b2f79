"""One GeoSPARQL endpoint over several sources: the federation as a (read-only) store.

A query is answered in three steps: the sources are chosen and sent CONSTRUCT sub-queries
(``federation.decompose``, ``federation.selection``), all at once; their replies are loaded, as
they arrive, into a scratch in-memory ``EmbeddedStore`` (every geometry literal checked, the spatial
index built as for any load); the query itself is then evaluated there by our own engine, so
GeoSPARQL functions, the spatial planner and joins across sources work as on one store. The answer
is the answer over the union of the sources' default graphs (for blank nodes see docs/federation.md).

>>> from kg.embedded import EmbeddedStore
>>> from federation.sources import StoreSource
>>> a, b = EmbeddedStore(), EmbeddedStore()
>>> a.update('INSERT DATA { <http://ex.org/f> <http://ex.org/name> "field" }')
>>> b.update('INSERT DATA { <http://ex.org/f> geo:asWKT "POINT(16 48)"^^geo:wktLiteral }')
>>> federation = Federation([StoreSource("a", a), StoreSource("b", b)])
>>> answer = federation.query('SELECT ?n { ?f <http://ex.org/name> ?n ; geo:asWKT ?g '
...                           'FILTER(geof:sfWithin(?g, "POLYGON((15 47, 17 47, 17 49, 15 49, 15 47))"^^geo:wktLiteral)) }')
>>> [row["n"].value for row in answer.bindings()], sorted({f.source for f in answer.report.fetched})
(['field'], ['a', 'b'])
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dataclasses import dataclass, field

import pyoxigraph as ox

from federation.decompose import decompose
from federation.description import Description, describe
from federation.errors import FederationError, SourceTimeout, UnknownSource
from federation.gather import Failed, Gathered, Gatherer
from federation.selection import SERVICE_GRAPH, ScopePlan, SubQuery, select_sources
from federation.sources import NTRIPLES, Source
from kg.embedded import EmbeddedStore
from kg.geosparql.rewrite import expand_topology
from kg.errors import GeoKGError, InvalidGeometry, QueryTimeout, UnsupportedFeature, without_frames
from kg.geosparql.literals import check_literals
from kg.geosparql.vocab import GEOMETRY_DATATYPES, PREFIXES
from kg.formats import rdf_format, result_format
from kg.sparql_text import typed_literals
from kg.store import QueryResult, Store, StoreSize, StoreStats

_BACKEND = "federation"
_READ_ONLY = "Send writes to the source's own endpoint; the federation only reads."


@dataclass
class Report:
    """How a federated query was answered: the sub-queries sent, the sources that failed (partial answer), times."""

    fetched: list[Gathered] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    gather_seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.fetched)

    @property
    def triples(self) -> int:
        return sum(f.triples for f in self.fetched)

    @property
    def partial(self) -> bool:
        """Whether a source failed and the configuration let the query go on without it."""
        return bool(self.failed)


class FederatedResult(QueryResult):
    """The answer, evaluated and read at once (SPARQL JSON, N-Triples or a boolean), with the report.

    No pyoxigraph answer outlives ``Federation.query``: they cannot be dropped on another thread,
    and an answer kept by an exception's frames is dropped wherever the garbage collector runs.
    """

    def __init__(self, form: str, payload: bytes | bool, report: Report):
        self.form, self._payload, self.report = form, payload, report

    @property
    def partial(self) -> bool:
        return self.report.partial

    def serialize(self, format: str) -> bytes:
        if self.form == "ASK":
            return _converted_boolean(self._payload, format)
        if self.form == "SELECT":
            return self._payload if format == "json" else _converted_results(self._payload, format)
        return _converted_graph(self._payload, format)

    def bindings(self) -> list[dict[str, object]]:
        return _parsed_bindings(self._payload)

    def boolean(self) -> bool:
        return bool(self._payload)

    def triples(self) -> list[object]:
        return list(ox.parse(self._payload, format=ox.RdfFormat.N_TRIPLES))


def _converted_results(payload: bytes, format: str) -> bytes:
    chosen = result_format(format)
    return ox.parse_query_results(payload, ox.QueryResultsFormat.JSON).serialize(format=chosen)


def _converted_boolean(answer: bool, format: str) -> bytes:
    chosen = result_format(format)
    if chosen == ox.QueryResultsFormat.JSON:
        return b'{"head":{},"boolean":%s}' % (b"true" if answer else b"false")
    return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if answer else b"false"),
                                  ox.QueryResultsFormat.JSON).serialize(format=chosen)


def _converted_graph(payload: bytes, format: str) -> bytes:
    return ox.serialize(ox.parse(payload, format=ox.RdfFormat.N_TRIPLES), format=rdf_format(format))


def _parsed_bindings(payload: bytes) -> list[dict[str, object]]:
    solutions = ox.parse_query_results(payload, ox.QueryResultsFormat.JSON)
    names = [v.value for v in solutions.variables]
    return [{n: v for n, v in zip(names, row) if v is not None} for row in solutions]


def _evaluated(scratch: EmbeddedStore, sparql: str, timeout: float | None) -> tuple[str, bytes | bool]:
    """The query's answer on the scratch store, read whole: made, read and dropped in this one call."""
    failure = None
    try:
        result = scratch.query(sparql, timeout=timeout)
        try:
            form = result.form
            payload = result.boolean() if form == "ASK" else result.serialize("json" if form == "SELECT" else "ntriples")
        finally:
            del result
    except GeoKGError as error:
        failure = without_frames(error)  # its frames hold the answer
    if failure is not None:
        raise failure
    return form, payload


class Federation(Store):
    """Sources answering as one store; ``descriptions`` are made at first need when not given."""

    backend = _BACKEND

    def __init__(self, sources: Sequence[Source], descriptions: dict[str, Description] | None = None, *,
                 workers: int = 8, timeout: float = 60.0):
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise GeoKGError(f"Source names must be unique; got {names}.")
        self.sources = {s.name: s for s in sources}
        self.timeout, self._workers = timeout, workers
        self._descriptions = dict(descriptions or {})
        self.undescribed: dict[str, str] = {}  # partial sources that failed when asked to describe themselves
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # --- descriptions ---------------------------------------------------------------------------

    def descriptions(self) -> dict[str, Description]:
        """Every source's description, asking the sources not yet described. A source configured as
        partial that cannot be described is left out (and asked again next time): see ``undescribed``."""
        with self._lock:
            missing = [s for name, s in self.sources.items() if name not in self._descriptions]
            if missing:
                with ThreadPoolExecutor(max_workers=min(self._workers, len(missing))) as pool:
                    for source, (description, failure) in zip(missing, pool.map(self._describe, missing)):
                        if failure is None:
                            self._descriptions[source.name] = description
                            self.undescribed.pop(source.name, None)
                        elif source.partial:
                            self.undescribed[source.name] = failure.message
                        else:
                            raise failure
            return {name: self._descriptions[name] for name in self.sources if name in self._descriptions}

    def _describe(self, source: Source) -> tuple[Description | None, FederationError | None]:
        try:
            return describe(source, self.timeout), None
        except FederationError as error:
            return None, without_frames(error)  # nothing of the pool thread's frames crosses over

    def refresh(self, names: Sequence[str] | None = None) -> dict[str, Description]:
        """Describe the named sources (all when None) again, after their data changed."""
        with self._lock:
            for name in self.chosen(names):
                self._descriptions.pop(name, None)
        return self.descriptions()

    def chosen(self, names: Sequence[str] | None) -> list[str]:
        """The names given, checked against the configuration (all sources when None)."""
        if not names:
            return list(self.sources)
        unknown = [n for n in names if n not in self.sources]
        if unknown:
            raise UnknownSource(f"No source is named {unknown[0]!r}; the federation's sources are {sorted(self.sources)}.")
        return list(names)

    # --- queries --------------------------------------------------------------------------------

    def plan(self, sparql: str, sources: Sequence[str] | None = None) -> list[ScopePlan]:
        """The steps a query would gather, scope by scope, before any ordering (the federation's EXPLAIN)."""
        return self._prepared(sparql, sources)[1]

    def _prepared(self, sparql: str, sources: Sequence[str] | None) -> tuple[str, list[ScopePlan]]:
        """The query as the scratch store evaluates it (SERVICE blocks read their source's graph) and its plans.
        Every check runs before any source is asked."""
        try:
            _evaluated(EmbeddedStore(), sparql, None)  # pyoxigraph's syntax check, with line and column
        except UnsupportedFeature as error:
            if "SERVICE" not in error.message:  # SERVICE is checked below, against the configured sources
                raise
        # topology properties become geometry patterns first, as the scratch store will evaluate them
        decomposed = decompose(expand_topology(sparql))
        services = {iri: self._service_source(iri) for iri in decomposed.services}
        local = _service_as_graph(sparql, services)
        problems = check_literals(typed_literals(sparql, GEOMETRY_DATATYPES, PREFIXES))
        if problems:  # before a source sees it in a sub-query
            raise InvalidGeometry(f"The query has an invalid geometry: {problems[0][1]}")
        descriptions = self.descriptions()
        chosen = {n: descriptions[n] for n in self.chosen(sources) if n in descriptions}
        chosen.update({n: descriptions.get(n, Description(n, 0)) for n in services.values()})
        return local, select_sources(decomposed.scopes, chosen, services)

    def _service_source(self, iri: str) -> str:
        """The configured source a SERVICE IRI names; any other IRI is refused before anything is sent."""
        for source in self.sources.values():
            if iri in (getattr(source, "url", None), f"{SOURCE_IRI}{source.name}"):
                return source.name
        endpoints = sorted(getattr(s, "url", None) or f"{SOURCE_IRI}{s.name}" for s in self.sources.values())
        raise UnknownSource(f"SERVICE <{iri}> is not one of the federation's sources, and the federation contacts no other "
                            f"server. Use one of {endpoints}, or leave SERVICE out and let the federation choose.")

    def query(self, sparql, *, timeout=None, default_graphs=None, named_graphs=None, sources=None) -> FederatedResult:
        """Answer a query over the union of the sources (all, or those named by ``sources``)."""
        if default_graphs is not None or named_graphs is not None:
            raise UnsupportedFeature("default-graph-uri and named-graph-uri", _BACKEND,
                                     "The federation's default graph is the union of the sources' default graphs.")
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        local, plans = self._prepared(sparql, sources)
        report = Report()
        undescribed = [Failed(n, m) for n, m in self.undescribed.items() if n in self.chosen(sources)]
        scratch = EmbeddedStore()
        started = time.perf_counter()
        partial = {n for n, s in self.sources.items() if getattr(s, "partial", False)}
        gatherer = Gatherer(self._fetch_for(deadline), self.descriptions(), scratch, self._pool(), deadline, partial)
        try:
            gatherer.run(plans)
        except TimeoutError:
            raise SourceTimeout(", ".join(sorted({sub.source for p in plans for st in p.steps for sub in st.subs})),
                                "did not answer before the query's deadline; narrow the query or raise the timeout.") from None
        finally:
            report.fetched, report.failed = gatherer.gathered, undescribed + gatherer.failed
            report.gather_seconds = time.perf_counter() - started
        left = deadline - time.monotonic()
        if left <= 0:
            raise QueryTimeout(f"The query ran past its {limit:g} s while gathering data from the sources; narrow it.")
        form, payload = _evaluated(scratch, local, left)
        return FederatedResult(form, payload, report)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="federation")
            return self._executor

    def _fetch_for(self, deadline: float):
        def fetch(sub: SubQuery) -> bytes:
            return self.sources[sub.source].request(sub.sparql, NTRIPLES, timeout=max(deadline - time.monotonic(), 0.001))
        return fetch

    # --- the rest of the store interface: the federation only reads --------------------------------

    def update(self, sparql, *, timeout=None) -> None:
        raise UnsupportedFeature("SPARQL Update", _BACKEND, _READ_ONLY)

    def load(self, paths, *, format=None, graph=None, progress=None, validated=False, on_loaded=None):
        raise UnsupportedFeature("Loading files", _BACKEND, _READ_ONLY)

    def load_data(self, data, format, *, graph=None, replace=False):
        raise UnsupportedFeature("Graph Store writes", _BACKEND, _READ_ONLY)

    def dump(self, format, *, graph=None) -> bytes:
        raise UnsupportedFeature("Reading whole graphs", _BACKEND, "Send a CONSTRUCT query instead.")

    def graph_exists(self, graph) -> bool:
        return graph is None

    def drop_graph(self, graph) -> None:
        raise UnsupportedFeature("Dropping graphs", _BACKEND, _READ_ONLY)

    def size(self) -> StoreSize:
        return StoreSize(sum(d.triples for d in self.descriptions().values()), 0)

    def stats(self) -> StoreStats:
        classes: dict[str, int] = {}
        for description in self.descriptions().values():
            for iri, n in description.classes.items():
                classes[iri] = classes.get(iri, 0) + n
        top = dict(sorted(classes.items(), key=lambda item: -item[1])[:20])
        return StoreStats(*self.size(), {}, top)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        for source in self.sources.values():
            source.close()


SOURCE_IRI = "urn:eekg:source:"  # SERVICE <urn:eekg:source:NAME> names a configured source that has no URL
_SERVICE_KEYWORD = re.compile(r"\bSERVICE(\s+SILENT)?\s+(<[^<>\s]*>|[A-Za-z][\w.-]*:[\w.-]*)", re.IGNORECASE)


def _service_as_graph(sparql: str, services: dict[str, str]) -> str:
    """The query with each ``SERVICE <iri>`` replaced by ``GRAPH <its source's scratch graph>``, where
    its triples are gathered. IRIs written as prefixed names are resolved with the query's prefixes."""
    if not services:
        return sparql
    prefixes = dict(PREFIXES)
    prefixes.update({m.group(1): m.group(2) for m in re.finditer(r"PREFIX\s+([\w.-]*):\s*<([^>]*)>", sparql, re.IGNORECASE)})

    def graph(match: re.Match) -> str:
        name = match.group(2)
        iri = name[1:-1] if name.startswith("<") else prefixes.get(name.split(":", 1)[0], "") + name.split(":", 1)[1]
        if iri not in services:
            return match.group(0)
        return f"GRAPH <{SERVICE_GRAPH}{services[iri]}>"

    return _SERVICE_KEYWORD.sub(graph, sparql)
