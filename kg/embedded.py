"""The embedded store: pyoxigraph on disk (or in memory), with GeoSPARQL 1.1 functions.

Loads are all-or-nothing without giving up bulk-load speed: each file is parsed in a streaming
check (syntax errors name the file and line; every geometry literal is validated) while
pyoxigraph bulk-loads it; if anything fails, the store goes back to a checkpoint taken before the
load. In memory, where there are no checkpoints, every file is checked before any is loaded.
"""

from __future__ import annotations

import difflib
import gzip
import io
import os
import re
import shutil
import time
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.errors import GeoKGError, InvalidGeometry, LoadError, QuerySyntaxError
from kg.formats import rdf_format, rdf_format_of_file, result_format
from kg.geosparql.context import EvaluationContext
from kg.geosparql.literals import check_literals
from kg.geosparql.registry import AGGREGATES, FUNCTIONS, custom_aggregates, custom_functions
from kg.geosparql.vocab import GEOF, GEOMETRY_DATATYPES, PREFIXES
from kg.sparql_text import names_in_namespace, refuse_remote_access, syntax_error, typed_literals
from kg.store import LoadReport, QueryResult, Store, StoreSize, StoreStats

_GEOMETRY_DATATYPES = frozenset(ox.NamedNode(iri) for iri in GEOMETRY_DATATYPES)
_GEOMETRY_MARKERS = tuple(f"^^<{iri}>".encode() for iri in GEOMETRY_DATATYPES)
_GEOF_NAMES = frozenset(iri.removeprefix(GEOF) for iri in (*FUNCTIONS, *AGGREGATES))
_DATASET_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
_CHECK_CHUNK = 20_000  # geometry literals checked together


class EmbeddedStore(Store):
    """A GeoSPARQL store in a directory, or in memory when no directory is given.

    >>> store = EmbeddedStore()
    >>> _ = store.load_data(b'<http://ex.org/a> <http://www.opengis.net/ont/geosparql#asWKT> '
    ...     b'"POINT(1 2)"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .', "ntriples")
    >>> store.query("SELECT (geof:getSRID(?g) AS ?crs) { ?a geo:asWKT ?g }").bindings()[0]["crs"].value
    'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
    """

    backend = "embedded store"

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self._store = ox.Store()
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(self.path))
        except OSError as error:
            if "lock" in str(error).lower():
                raise GeoKGError(
                    f"The store {self.path} is in use by another process (a running `eekg serve`?). "
                    "Stop that process, or send the data to its HTTP endpoint instead."
                ) from None
            raise GeoKGError(f"Cannot open the store {self.path}: {error}") from None

    # --- queries and updates -------------------------------------------------------------

    def query(self, sparql, *, timeout=None, default_graphs=None, named_graphs=None) -> QueryResult:
        refuse_remote_access(sparql, update=False)
        _refuse_unknown_functions(sparql)
        context = EvaluationContext(timeout)
        options = {}
        if default_graphs is not None:
            options["default_graph"] = [_graph_node(g) for g in default_graphs]
        if named_graphs is not None:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        try:
            answer = self._store.query(
                sparql,
                prefixes=PREFIXES,
                custom_functions=custom_functions(context),
                custom_aggregate_functions=custom_aggregates(context),
                **options,
            )
        except SyntaxError as error:
            raise syntax_error(error) from None
        except (OSError, ValueError) as error:
            raise GeoKGError(f"The query could not be evaluated: {error}") from None
        return EmbeddedResult(answer, context)

    def update(self, sparql, *, timeout=None) -> None:
        # An update is one transaction that a custom function cannot abort, so cutting it short
        # at a deadline would commit part of it: updates run to completion (`timeout` is ignored).
        refuse_remote_access(sparql, update=True)
        _refuse_unknown_functions(sparql)
        _check_update_literals(sparql)
        context = EvaluationContext(None)
        try:
            self._store.update(sparql, prefixes=PREFIXES, custom_functions=custom_functions(context))
        except SyntaxError as error:
            raise syntax_error(error) from None
        except (OSError, ValueError) as error:
            raise GeoKGError(f"The update failed and changed nothing: {error}") from None
        context.raise_if_failed()

    # --- loading --------------------------------------------------------------------------

    def load(self, paths, *, format=None, graph=None, progress=None, validated=False, on_loaded=None) -> LoadReport:
        started = time.perf_counter()
        loaded, counts = [], []
        check = _count_lines if validated else _check_file
        if self.path is None:  # in memory there are no checkpoints: check every file, then load
            files = [(f, _file_format(Path(f), format, graph)) for f in paths]
            counts = [check(Path(f), rdf) for f, rdf in files]
            for file, rdf in files:
                self._bulk_load(Path(file), rdf, graph, progress)
                loaded.append(str(file))
            if on_loaded is not None:
                for file, _ in files:
                    on_loaded(Path(file))
        else:  # on disk: check while loading, file by file as they come, back to a checkpoint on failure
            with self._checkpoint():
                for file in map(Path, paths):
                    rdf = _file_format(file, format, graph)
                    counts.append(self._check_while_loading(file, rdf, graph, progress, check))
                    loaded.append(str(file))
                    if on_loaded is not None:
                        on_loaded(file)
            self._store.flush()
        triples, geometries = sum(c[0] for c in counts), sum(c[1] for c in counts)
        return LoadReport(tuple(loaded), triples, geometries, time.perf_counter() - started)

    def _check_while_loading(self, file: Path, rdf, graph, progress, check) -> tuple[int, int]:
        # The check is mostly Python and the bulk load releases the GIL: together they take
        # little longer than the load alone (benchmarks/load.py).
        with ThreadPoolExecutor(max_workers=1) as pool:
            check = pool.submit(check, file, rdf)
            try:
                self._bulk_load(file, rdf, graph, progress)
            except GeoKGError:
                check.result()  # a syntax error: the check's message names the line
                raise
            return check.result()

    def _bulk_load(self, file: Path, rdf, graph, progress) -> None:
        target = _graph_node(graph) if graph else None
        try:
            if progress is None and file.suffix.lower() != ".gz":  # Rust reads the file: no GIL taken
                self._store.bulk_load(path=str(file), format=rdf, to_graph=target)
                return
            with _open(file, progress) as stream:
                self._store.bulk_load(stream, rdf, to_graph=target)
        except (SyntaxError, OSError) as error:
            raise LoadError(f"loading failed: {error}", str(file)) from None

    @contextmanager
    def _checkpoint(self):
        """Undo everything written inside the block if it raises, from a RocksDB checkpoint.

        A checkpoint hard-links the store's immutable files, so it costs milliseconds whatever
        the store's size; restoring swaps the directories and reopens the store.
        """
        checkpoint = self.path.with_name(f".{self.path.name}.checkpoint")
        shutil.rmtree(checkpoint, ignore_errors=True)
        self._store.backup(str(checkpoint))
        try:
            yield
        except BaseException:
            del self._store  # releases the RocksDB lock
            failed = self.path.with_name(f".{self.path.name}.failed")
            os.replace(self.path, failed)
            os.replace(checkpoint, self.path)
            shutil.rmtree(failed)
            self._store = ox.Store(str(self.path))
            raise
        finally:
            shutil.rmtree(checkpoint, ignore_errors=True)

    def load_data(self, data, format, *, graph=None, replace=False) -> LoadReport:
        started = time.perf_counter()
        rdf = rdf_format(format)
        if graph is not None and rdf in _DATASET_FORMATS:
            raise GeoKGError(f"{rdf.name} data names its own graphs; send it without a target graph.")
        quads, geometries = _parse_checked(io.BytesIO(data), rdf, "the request body")
        target = _graph_node(graph)
        if replace:
            # One update is one transaction: the graph's old content goes only if the new one arrives.
            body = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
            where = f"GRAPH <{graph}>" if graph else "DEFAULT"
            insert = f"GRAPH <{graph}> {{ {body.decode()} }}" if graph else body.decode()
            self._store.update(f"DROP SILENT {where} ; INSERT DATA {{ {insert} }}")
            if graph and not quads:
                self._store.add_graph(target)
        else:
            self._store.extend([ox.Quad(q.subject, q.predicate, q.object, target if graph else q.graph_name) for q in quads])
            if graph and not quads:
                self._store.add_graph(target)
        return LoadReport(("request body",), len(quads), geometries, time.perf_counter() - started)

    # --- graphs and statistics ------------------------------------------------------------

    def dump(self, format, *, graph=None) -> bytes:
        rdf = rdf_format(format)
        if rdf in _DATASET_FORMATS:
            return self._store.dump(format=rdf)
        return self._store.dump(format=rdf, from_graph=_graph_node(graph))

    def graph_exists(self, graph) -> bool:
        return graph is None or self._store.contains_named_graph(ox.NamedNode(graph))

    def drop_graph(self, graph) -> None:
        if graph is None:
            self._store.clear_graph(ox.DefaultGraph())
        else:
            self._store.remove_graph(ox.NamedNode(graph))

    def size(self) -> StoreSize:
        return StoreSize(len(self._store), sum(1 for _ in self._store.named_graphs()))

    def stats(self) -> StoreStats:
        count = lambda q: {r["k"].value: int(r["n"].value) for r in self.query(q).bindings()}  # noqa: E731
        geometries = count(
            "SELECT ?k (COUNT(*) AS ?n) { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } "
            f"BIND(DATATYPE(?o) AS ?k) FILTER(?k IN ({', '.join(f'<{d}>' for d in GEOMETRY_DATATYPES)})) }} GROUP BY ?k"
        )
        classes = count(
            "SELECT ?k (COUNT(DISTINCT ?s) AS ?n) { { ?s a ?k } UNION { GRAPH ?g { ?s a ?k } } } "
            "GROUP BY ?k ORDER BY DESC(?n) LIMIT 20"
        )
        return StoreStats(*self.size(), geometries, classes)

    def close(self) -> None:
        store = self.__dict__.pop("_store", None)  # releases the directory's lock; closing twice is fine
        if store is not None and self.path is not None:
            store.flush()


class EmbeddedResult(QueryResult):
    """A pyoxigraph answer; evaluation happens while it is read, under the query's deadline."""

    def __init__(self, answer, context: EvaluationContext):
        self._answer, self._context = answer, context
        if isinstance(answer, ox.QueryBoolean):
            self.form = "ASK"
        elif isinstance(answer, ox.QuerySolutions):
            self.form = "SELECT"
        else:
            self.form = "GRAPH"

    def serialize(self, format: str) -> bytes:
        if self.form == "GRAPH":
            chosen = rdf_format(format)
        else:
            try:
                chosen = result_format(format)
            except GeoKGError:
                raise GeoKGError(f"A {self.form} answer comes as json, xml, csv or tsv, not {format!r}.") from None
        out = _DeadlineBuffer(self._context)
        try:
            self._answer.serialize(out, chosen)
        except _Expired:
            pass
        except (OSError, ValueError) as error:
            raise GeoKGError(f"The query could not be evaluated: {error}") from None
        self._context.raise_if_failed()
        return out.getvalue()

    def bindings(self) -> list[dict[str, object]]:
        names = [v.value for v in self._answer.variables]
        rows = []
        for solution in self._answer:
            if self._context.expired():
                break
            rows.append({name: solution[name] for name in names if solution[name] is not None})
        self._context.raise_if_failed()
        return rows

    def boolean(self) -> bool:
        answer = bool(self._answer)  # evaluates the ASK, so check the context after
        self._context.raise_if_failed()
        return answer

    def triples(self) -> list[object]:
        triples = []
        for triple in self._answer:
            if self._context.expired():
                break
            triples.append(triple)
        self._context.raise_if_failed()
        return triples


class _Expired(Exception):
    """Raised from the output stream to stop pyoxigraph once the deadline has passed."""


class _DeadlineBuffer(io.BytesIO):
    """pyoxigraph writes results in 8 KiB chunks; each write is a chance to stop a slow query."""

    def __init__(self, context: EvaluationContext):
        super().__init__()
        self._context = context

    def write(self, chunk) -> int:
        if self._context.expired():
            raise _Expired
        return super().write(chunk)


class _CountingReader(io.RawIOBase):
    """A file that reports how many bytes were read, for progress bars."""

    def __init__(self, raw, progress: Callable[[int], None]):
        self._raw, self._progress = raw, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        self._progress(n or 0)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open(path: Path, progress: Callable[[int], None] | None):
    """A binary stream of the file's RDF, unzipped if it ends in .gz, counting compressed bytes."""
    raw = open(path, "rb")
    if progress is not None:
        raw = io.BufferedReader(_CountingReader(raw, progress), buffer_size=1 << 16)
    return gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix.lower() == ".gz" else raw


def _file_format(path: Path, format: str | None, graph: str | None) -> ox.RdfFormat:
    if not path.is_file():
        raise LoadError("no such file", str(path))
    rdf = rdf_format(format) if format else rdf_format_of_file(path)
    if graph is not None and rdf in _DATASET_FORMATS:
        raise LoadError(f"{rdf.name} files name their own graphs, so --graph cannot apply to them", str(path))
    return rdf


def _check_file(path: Path, rdf: ox.RdfFormat) -> tuple[int, int]:
    """Parse a whole file without storing it: (triples, geometries), or LoadError."""
    with _open(path, None) as stream:
        return _parse_checked(stream, rdf, str(path), keep=False)


def _count_lines(path: Path, rdf: ox.RdfFormat) -> tuple[int, int]:
    """For validated N-Triples: triples and geometry literals counted by line, without parsing."""
    if rdf != ox.RdfFormat.N_TRIPLES:
        return _check_file(path, rdf)
    triples = geometries = 0
    with _open(path, None) as stream:
        for line in stream:
            if line.strip() and not line.lstrip().startswith(b"#"):
                triples += 1
                geometries += any(marker in line for marker in _GEOMETRY_MARKERS)
    return triples, geometries


def _parse_checked(stream, rdf: ox.RdfFormat, name: str, keep: bool = True):
    """Parse RDF, validating every geometry literal; (quads or their count, geometry count).

    Geometry literals are checked in chunks on a worker thread while parsing goes on: GEOS
    releases the GIL, so the check costs little more than the parse.
    """
    kept, literals, subjects, checks, count = [], [], [], [], 0
    with ThreadPoolExecutor(max_workers=1) as worker:
        try:
            for quad in ox.parse(stream, rdf):
                count += 1
                if keep:
                    kept.append(quad)
                obj = quad.object
                if type(obj) is ox.Literal and obj.datatype in _GEOMETRY_DATATYPES:
                    literals.append(obj)
                    subjects.append(quad.subject)
                    if len(literals) % _CHECK_CHUNK == 0:
                        checks.append(worker.submit(check_literals, literals[-_CHECK_CHUNK:]))
        except SyntaxError as error:
            raise LoadError(_without_position(error.msg), name, error.lineno, error.offset) from None
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise LoadError(f"cannot be read: {error}", name) from None
        checks.append(worker.submit(check_literals, literals[len(checks) * _CHECK_CHUNK:]))
        for chunk, check in enumerate(checks):
            problems = check.result()
            if problems:
                index, message = problems[0]
                subject = subjects[chunk * _CHECK_CHUNK + index]
                raise LoadError(f"the geometry of {subject} is invalid: {message}", name)
    return (kept if keep else count), len(literals)


def _without_position(message: str) -> str:
    """pyoxigraph's message without the position, which LoadError states once."""
    return re.sub(r"^Parser error (at|between) line \d+ column \d+( and line \d+ column \d+)?: ", "", message).strip()


def _check_update_literals(sparql: str) -> None:
    """Geometry literals written by an update are checked like loaded ones, before it runs."""
    problems = check_literals(typed_literals(sparql, GEOMETRY_DATATYPES, PREFIXES))
    if problems:
        raise InvalidGeometry(f"The update was not applied: {problems[0][1]}")


def _refuse_unknown_functions(sparql: str) -> None:
    """A misspelt geof: function would make every call unbound, silently: name it instead."""
    unknown = names_in_namespace(sparql, GEOF, PREFIXES) - _GEOF_NAMES
    if unknown:
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, _GEOF_NAMES, n=3)
        hint = f"; did you mean {', '.join('geof:' + c for c in close)}?" if close else "; see docs/geosparql.md for the list."
        raise QuerySyntaxError(f"geof:{name} is not a GeoSPARQL 1.1 function{hint}")


def _graph_node(graph: str | None):
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
