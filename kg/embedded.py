"""The embedded store: pyoxigraph on disk (or in memory), with GeoSPARQL 1.1 functions.

Loads are all-or-nothing without giving up bulk-load speed: each file is parsed in a streaming
check (syntax errors name the file and line; every geometry literal is validated) while
pyoxigraph bulk-loads it; if anything fails, the store goes back to a checkpoint taken before the
load. In memory, where there are no checkpoints, every file is checked before any is loaded.
"""

from __future__ import annotations

import difflib
import functools
import gzip
import io
import json
import os
import re
import shutil
import threading
import time
import warnings
import weakref
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.errors import GeoKGError, InvalidGeometry, LoadError, QuerySyntaxError
from kg.formats import rdf_format, rdf_format_of_file, result_format
from kg.geosparql.context import EvaluationContext, guarded
from kg.geosparql.index import SpatialIndex, Staged, stage
from kg.geosparql.literals import check_literals
from kg.geosparql.planner import Planned, plan
from kg.geosparql.rewrite import expand_topology
from kg.geosparql.registry import AGGREGATES, FUNCTIONS, custom_aggregates, custom_functions
from kg.geosparql.vocab import GEOF, GEOMETRY_DATATYPES, PREFIXES
from kg.sparql_text import keywords_present, names_in_namespace, refuse_remote_access, syntax_error, typed_literals
from kg.store import LoadReport, QueryResult, Store, StoreSize, StoreStats

_GEOMETRY_DATATYPES = frozenset(ox.NamedNode(iri) for iri in GEOMETRY_DATATYPES)
_GEOMETRY_MARKERS = tuple(f"^^<{iri}>".encode() for iri in GEOMETRY_DATATYPES)
_GEOF_NAMES = frozenset(iri.removeprefix(GEOF) for iri in (*FUNCTIONS, *AGGREGATES))
_DATASET_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
_CHECK_CHUNK = 20_000  # geometry literals checked together
# The saved spatial index and its stamp, in the store's directory (RocksDB leaves files it does not know alone).
_INDEX_FILE, _INDEX_STAMP = "spatial-index.npz", "spatial-index.json"
_INDEX_FILES = "spatial-index."
_ESCAPED_IRI = re.compile(r"<[^<>\s]*\\[uU]")
# BIND first: pyoxigraph then evaluates DATATYPE once per triple, not once per IRI (3x faster)
_GEOMETRY_FILTER = f"BIND(DATATYPE(?o) AS ?d) FILTER(?d IN ({', '.join(f'<{iri}>' for iri in GEOMETRY_DATATYPES)}))"
# geof: functions and SPARQL builtins that can make a geometry literal the store did not hold before
_CONSTRUCTORS = frozenset(
    ("buffer", "metricBuffer", "boundary", "boundingCircle", "centroid", "envelope", "convexHull", "concaveHull",
     "intersection", "union", "difference", "symDifference", "transform", "geometryN", "asWKT", "asGeoJSON",
     "asGML", "asKML", "aggBoundingBox", "aggBoundingCircle", "aggCentroid", "aggConcaveHull", "aggConvexHull",
     "aggUnion")
)


def _one_write_at_a_time(method):
    """A write and the spatial index's tracking of it are one step: two writes at once could interleave
    them (the HTTP service writes from a thread pool), and a load's rollback would undo the other."""

    @functools.wraps(method)
    def write(self, *args, **kwargs):
        with self._write_lock:
            return method(self, *args, **kwargs)

    return write


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
        self._index_lock, self._write_lock = threading.Lock(), threading.RLock()
        if self.path is None:
            self._store = ox.Store()
            self._index, self._index_file, self._index_saved = SpatialIndex(_holds_in(weakref.ref(self))), None, False
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._find_saved_index()  # before RocksDB opens the store, which rewrites some of its files
            self._store = ox.Store(str(self.path))
            if not self._index_saved:
                self._forget_saved_index()
        except OSError as error:
            if "lock" in str(error).lower():
                raise GeoKGError(
                    f"The store {self.path} is in use by another process (a running `eekg serve`?). "
                    "Stop that process, or send the data to its HTTP endpoint instead."
                ) from None
            raise GeoKGError(f"Cannot open the store {self.path}: {error}") from None

    # --- the spatial index ----------------------------------------------------------------

    def spatial_index(self) -> SpatialIndex:
        """The index of every geometry literal in the store, in step with every write (docs/store.md).

        >>> store = EmbeddedStore()
        >>> store.update('INSERT DATA { <http://ex.org/a> geo:asWKT "POINT(1 2)"^^geo:wktLiteral }')
        >>> [literal.value for literal in store.spatial_index().literals()]
        ['POINT(1 2)']
        """
        with self._index_lock:
            index = self._loaded_index()
            if not index.stale:
                return index
        with self._write_lock, self._index_lock:  # no write may slip between the scan and the rebuild
            if index.stale:
                index.rebuild(self._geometry_literals())
            return index

    def _find_saved_index(self) -> None:
        """Keep the saved index only if the store's files are exactly as they were when it was saved
        (closed cleanly, nothing written since); otherwise the index is rebuilt on first use. Called
        before RocksDB opens the store, which rewrites some of its files."""
        self._index = None
        self._index_file, self._index_stamp = self.path / _INDEX_FILE, self.path / _INDEX_STAMP
        try:
            self._index_saved = self._index_file.is_file() and json.loads(self._index_stamp.read_text()) == _files_of(self.path)
        except (OSError, ValueError):
            self._index_saved = False

    def _forget_saved_index(self) -> None:
        """Delete the saved index: it no longer describes the store (or never did)."""
        self._index_stamp.unlink(missing_ok=True)  # first: a file without its stamp is never read
        self._index_file.unlink(missing_ok=True)
        self._index_saved = False

    def _loaded_index(self) -> SpatialIndex:
        """The index, read from the saved file at first need (a store opened only to load or to
        dump never reads it); without a usable file, rebuilt from the store. Needs ``_index_lock``."""
        if self._index is None:
            exists = _holds_in(weakref.ref(self))
            try:
                self._index = SpatialIndex.open(self._index_file, exists) if self._index_saved else None
            except GeoKGError:
                self._forget_saved_index()
            if self._index is None:
                self._index = SpatialIndex(exists)
                self._index.stale = next(iter(self._store.quads_for_pattern(None, None, None, None)), None) is not None
        return self._index

    def _writing(self) -> SpatialIndex:
        """Called before every write: the saved index no longer describes the store (a crash then
        means a rebuild); the index to keep in step with the write."""
        with self._index_lock:
            index = self._loaded_index()
            if self._index_saved:
                self._forget_saved_index()
            return index

    def _save_index(self) -> None:
        """At close, once RocksDB has closed the store: the index (unless the saved one still holds)
        and then its stamp, the list of the store's files it describes."""
        with self._index_lock:
            try:
                if not self._index_saved:
                    if self._index is None or self._index.stale:
                        return  # nothing to save: rebuilt at the next use
                    self._index.save(self._index_file)
                partial = self._index_stamp.with_name(self._index_stamp.name + ".partial")
                partial.write_text(json.dumps(_files_of(self.path)))
                partial.replace(self._index_stamp)
                self._index_saved = True
            except (OSError, ValueError) as error:
                self._forget_saved_index()
                warnings.warn(f"The spatial index could not be saved ({error}); it is rebuilt at the next use.", stacklevel=3)

    def _holds(self, literal) -> bool:
        return next(iter(self._store.quads_for_pattern(None, None, literal, None)), None) is not None

    def _geometry_literals(self, graph=None) -> list:
        """The distinct geometry literals in one graph (``graph``: a node) or, with None, in all of
        them; filtered by the engine, so only geometry literals become Python objects."""
        pattern = "?s ?p ?o" if graph is None or graph == ox.DefaultGraph() else f"GRAPH {graph} {{ ?s ?p ?o }}"
        answer = self._store.query(f"SELECT DISTINCT ?o {{ {pattern} {_GEOMETRY_FILTER} }}", use_default_graph_as_union=graph is None)
        return [solution[0] for solution in answer]

    # --- queries and updates -------------------------------------------------------------

    def query(self, sparql, *, timeout=None, default_graphs=None, named_graphs=None, naive=False) -> QueryResult:
        """See :meth:`Store.query`. Spatial selections and joins are planned with the spatial index
        (``kg.geosparql.planner``); ``naive=True`` evaluates every spatial filter row by row instead,
        the reference the planner's answers are tested against."""
        refuse_remote_access(sparql, update=False)
        _refuse_unknown_functions(sparql)
        context = EvaluationContext(timeout)
        options = {}
        if default_graphs is not None:
            options["default_graph"] = [_graph_node(g) for g in default_graphs]
        if named_graphs is not None:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        sparql = expand_topology(sparql)
        planned = Planned(sparql) if naive else plan(sparql, self.spatial_index, lambda text: self._rows(text, options))
        functions = custom_functions(context)
        functions.update({name: guarded(f, name.value, context) for name, f in planned.functions.items()})
        try:
            answer = self._store.query(
                planned.sparql,
                prefixes=PREFIXES,
                custom_functions=functions,
                custom_aggregate_functions=custom_aggregates(context),
                **options,
            )
        except SyntaxError as error:
            raise syntax_error(error, sparql) from None
        except (OSError, ValueError) as error:
            raise GeoKGError(f"The query could not be evaluated: {error}") from None
        return EmbeddedResult(answer, context)

    def _rows(self, sparql: str, options: dict) -> list[tuple]:
        """The rows of a plain SELECT (the planner's thematic side reads)."""
        return [tuple(solution) for solution in self._store.query(sparql, prefixes=PREFIXES, **options)]

    @_one_write_at_a_time
    def update(self, sparql, *, timeout=None) -> None:
        # An update is one transaction that a custom function cannot abort, so cutting it short
        # at a deadline would commit part of it: updates run to completion (`timeout` is ignored).
        refuse_remote_access(sparql, update=True)
        _refuse_unknown_functions(sparql)
        written = _check_update_literals(sparql)
        context = EvaluationContext(None)
        index = self._writing()
        try:
            self._store.update(sparql, prefixes=PREFIXES, custom_functions=custom_functions(context))
        except SyntaxError as error:
            raise syntax_error(error, sparql) from None
        except (OSError, ValueError) as error:
            raise GeoKGError(f"The update failed and changed nothing: {error}") from None
        finally:
            self._track_update(index, sparql, written)
        context.raise_if_failed()

    def _track_update(self, index: SpatialIndex, sparql: str, written: list) -> None:
        """Keep the index in step with an update, from its text (see "Spatial index" in docs/store.md).

        Literals written in the text are added if the store now holds them and removed if not. An
        update that may insert geometry literals not written as such (STRDT or a geof: constructor in
        a WHERE, or literals we may have read otherwise than the engine) makes the index stale
        (rebuilt on next use); one that may delete literals it does not write (DELETE ... WHERE,
        CLEAR, DROP, MOVE, COPY) has each row checked before it is next answered. INSERT DATA and
        DELETE DATA write all their literals, so they need neither.
        """
        index.add([literal for literal in written if self._holds(literal)])
        index.discard(written)
        misread = (  # a datatype IRI resolved against BASE, or \u escapes, which the engine decodes and we do not
            keywords_present(sparql, "BASE")
            or _ESCAPED_IRI.search(sparql)
            or any("\\u" in literal.value.lower() for literal in written)
        )
        computed = keywords_present(sparql, "WHERE") and (
            keywords_present(sparql, "STRDT") or names_in_namespace(sparql, GEOF, PREFIXES) & _CONSTRUCTORS
        )
        unnamed = keywords_present(sparql, "CLEAR", "DROP", "MOVE", "COPY") or (
            keywords_present(sparql, "DELETE") and keywords_present(sparql, "WHERE")
        )
        if (misread or computed) and keywords_present(sparql, "INSERT"):
            index.stale = True
        elif misread or unnamed:
            index.may_have_removed()

    # --- loading --------------------------------------------------------------------------

    @_one_write_at_a_time
    def load(self, paths, *, format=None, graph=None, progress=None, validated=False, on_loaded=None) -> LoadReport:
        started = time.perf_counter()
        loaded, counts = [], []
        check = _count_lines if validated else _check_file
        index = self._writing()
        if self.path is None:  # in memory there are no checkpoints: check every file, then load
            files = [(f, _file_format(Path(f), format, graph)) for f in paths]
            counts = [check(Path(f), rdf) for f, rdf in files]
            try:
                for file, rdf in files:
                    self._bulk_load(Path(file), rdf, graph, progress)
                    loaded.append(str(file))
            except BaseException:
                index.stale = True  # in memory a failed bulk load may have written part of a file
                raise
            _index_loaded(index, counts)
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
            _index_loaded(index, counts)  # only now: a load rolled back leaves the index as it was
        triples, geometries = sum(c[0] for c in counts), sum(c[1] for c in counts)
        return LoadReport(tuple(loaded), triples, geometries, time.perf_counter() - started)

    def _check_while_loading(self, file: Path, rdf, graph, progress, check) -> tuple[int, int, list]:
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

    @_one_write_at_a_time
    def load_data(self, data, format, *, graph=None, replace=False) -> LoadReport:
        started = time.perf_counter()
        rdf = rdf_format(format)
        if graph is not None and rdf in _DATASET_FORMATS:
            raise GeoKGError(f"{rdf.name} data names its own graphs; send it without a target graph.")
        quads, geometries, staged = _parse_checked(io.BytesIO(data), rdf, "the request body")
        target = _graph_node(graph)
        index = self._writing()
        old = self._geometry_literals(target) if replace else []
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
        for chunk in staged:
            index.add(chunk)
        index.discard(old)  # the replaced graph's literals that no graph holds any more
        return LoadReport(("request body",), len(quads), geometries, time.perf_counter() - started)

    # --- graphs and statistics ------------------------------------------------------------

    def dump(self, format, *, graph=None) -> bytes:
        rdf = rdf_format(format)
        if rdf in _DATASET_FORMATS:
            return self._store.dump(format=rdf)
        return self._store.dump(format=rdf, from_graph=_graph_node(graph))

    def graph_exists(self, graph) -> bool:
        return graph is None or self._store.contains_named_graph(ox.NamedNode(graph))

    @_one_write_at_a_time
    def drop_graph(self, graph) -> None:
        index = self._writing()
        old = self._geometry_literals(_graph_node(graph))
        if graph is None:
            self._store.clear_graph(ox.DefaultGraph())
        else:
            self._store.remove_graph(ox.NamedNode(graph))
        index.discard(old)  # a literal still held by another graph stays

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
            del store  # RocksDB closes the store here, before the index is saved (see _find_saved_index)
            self._save_index()


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
            # the values in order: a third of the time of lookups by name
            rows.append({name: value for name, value in zip(names, solution) if value is not None})
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


def _index_loaded(index: SpatialIndex, counts: list) -> None:
    """Hand the geometry literals a load's check staged to the index."""
    for _, _, staged in counts:
        for chunk in staged:
            index.add(chunk)


def _check_file(path: Path, rdf: ox.RdfFormat) -> tuple[int, int, list]:
    """Parse a whole file without storing it: (triples, geometries, geometry literals), or LoadError."""
    with _open(path, None) as stream:
        return _parse_checked(stream, rdf, str(path), keep=False)


def _count_lines(path: Path, rdf: ox.RdfFormat) -> tuple[int, int, list]:
    """For validated N-Triples: triples and geometry literals counted by line, without parsing,
    except the lines with a geometry literal, which are staged for the spatial index (unchecked)."""
    if rdf != ox.RdfFormat.N_TRIPLES:
        return _check_file(path, rdf)
    triples = geometries = 0
    lines, staged = [], []
    with _open(path, None) as stream:
        for line in stream:
            if line.strip() and not line.lstrip().startswith(b"#"):
                triples += 1
                if any(marker in line for marker in _GEOMETRY_MARKERS):
                    geometries += 1
                    lines.append(line)
                    if len(lines) == _CHECK_CHUNK:
                        staged.append(_stage_lines(lines))
                        lines = []
    staged.append(_stage_lines(lines))
    return triples, geometries, staged


def _stage_lines(lines: list[bytes]) -> Staged:
    """The geometry literals of some N-Triples lines, staged for the spatial index. A syntax error
    stages nothing: the bulk load reports it, and the whole load is undone."""
    try:
        quads = list(ox.parse(b"".join(lines), ox.RdfFormat.N_TRIPLES))
    except SyntaxError:
        quads = []
    return stage(q.object for q in quads if type(q.object) is ox.Literal and q.object.datatype in _GEOMETRY_DATATYPES)


def _parse_checked(stream, rdf: ox.RdfFormat, name: str, keep: bool = True):
    """Parse RDF, validating every geometry literal; (quads or their count, geometry count,
    the geometry literals staged for the spatial index).

    Geometry literals are checked (and staged for the index, reusing the check's shapes) in chunks
    on a worker thread while parsing goes on: GEOS releases the GIL, so the check costs little more
    than the parse.
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
                        checks.append(worker.submit(_check_and_stage, literals[-_CHECK_CHUNK:]))
        except SyntaxError as error:
            raise LoadError(_without_position(error.msg), name, error.lineno, error.offset) from None
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise LoadError(f"cannot be read: {error}", name) from None
        checks.append(worker.submit(_check_and_stage, literals[len(checks) * _CHECK_CHUNK:]))
        staged = []
        for chunk, check in enumerate(checks):
            problems, ready = check.result()
            staged.append(ready)
            if problems:
                index, message = problems[0]
                subject = subjects[chunk * _CHECK_CHUNK + index]
                raise LoadError(f"the geometry of {subject} is invalid: {message}", name)
    return (kept if keep else count), len(literals), staged


def _check_and_stage(literals: list) -> tuple[list, Staged | None]:
    """Problems of a chunk of geometry literals and, if none, the chunk staged for the spatial index
    from the shapes the check parsed: the work is done here, alongside the bulk load."""
    shapes: list = []
    problems = check_literals(literals, shapes)
    return problems, None if problems else stage(literals, shapes)


def _without_position(message: str) -> str:
    """pyoxigraph's message without the position, which LoadError states once."""
    return re.sub(r"^Parser error (at|between) line \d+ column \d+( and line \d+ column \d+)?: ", "", message).strip()


def _check_update_literals(sparql: str) -> list:
    """Geometry literals written by an update are checked like loaded ones, before it runs."""
    literals = typed_literals(sparql, GEOMETRY_DATATYPES, PREFIXES)
    problems = check_literals(literals)
    if problems:
        raise InvalidGeometry(f"The update was not applied: {problems[0][1]}")
    return literals


def _refuse_unknown_functions(sparql: str) -> None:
    """A misspelt geof: function would make every call unbound, silently: name it instead."""
    unknown = names_in_namespace(sparql, GEOF, PREFIXES) - _GEOF_NAMES
    if unknown:
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, _GEOF_NAMES, n=3)
        hint = f"; did you mean {', '.join('geof:' + c for c in close)}?" if close else "; see docs/geosparql.md for the list."
        raise QuerySyntaxError(f"geof:{name} is not a GeoSPARQL 1.1 function{hint}")


def _files_of(directory: Path) -> dict[str, list[int]]:
    """Name, size and modification time of each RocksDB file of a store: any write changes them."""
    return {
        entry.name: [entry.stat().st_size, entry.stat().st_mtime_ns]
        for entry in os.scandir(directory)
        if entry.is_file() and not entry.name.startswith(_INDEX_FILES)
    }


def _holds_in(store: weakref.ref):
    """The index's check that the store holds a literal; weak, so that dropping the store closes it."""
    return lambda literal: store()._holds(literal)


def _graph_node(graph: str | None):
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
