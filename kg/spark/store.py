"""The Spark store: ``kg.store.Store`` over a warehouse of Parquet tables, queried with Spark SQL.

Read-only: the warehouse is built by ``eekg spark load`` (``kg.spark.warehouse``); every write
method raises :class:`~kg.errors.UnsupportedFeature` saying so. Queries are checked with the
same parser as the embedded store (same syntax errors), translated from rdflib's SPARQL algebra
(``kg.spark.translate``) and run on the process's long-lived SparkSession
(``mappings.spark.spark_session``: ``local[*]``, ``spark://``, ``yarn`` or ``k8s://``).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from pathlib import Path

import pyoxigraph as ox

from kg.embedded import _refuse_unknown_functions
from kg.errors import GeoKGError, QuerySyntaxError, QueryTimeout, UnsupportedFeature
from kg.formats import rdf_format, result_format
from kg.geosparql.context import EvaluationContext
from kg.geosparql.registry import custom_aggregates, custom_functions
from kg.geosparql.rewrite import expand_topology
from kg.geosparql.vocab import PREFIXES
from kg.spark import functions
from kg.spark.aggregates import tag_aggregates
from kg.spark.terms import parse_terms
from kg.spark.translate import BACKEND, Tables, Translation, translate
from kg.spark.warehouse import Manifest
from kg.sparql_text import refuse_remote_access, syntax_error
from kg.store import LoadReport, QueryResult, Store, StoreSize, StoreStats

_READ_ONLY = "Build the warehouse again with `eekg spark load FILE... --warehouse DIR --replace`."


class SparkStore(Store):
    """A read-only GeoSPARQL store over a warehouse directory, evaluated by Spark.

    ``master``: a Spark master URL (default ``$EEKG_SPARK_MASTER``, else ``local[*]``);
    ``partitions``: shuffle partitions of joins and aggregations (default two per core).
    """

    backend = BACKEND

    def __init__(self, warehouse: str | Path, *, master: str | None = None, partitions: int | None = None):
        from mappings.spark import spark_session

        self.warehouse = Path(warehouse)
        self.manifest = Manifest.read(self.warehouse)
        self.spark = spark_session(master)
        # Spark's default of 200 shuffle partitions makes every join of a small answer cost seconds;
        # a few per core is enough here, and adaptive execution splits skewed ones further.
        cores = self.spark.sparkContext.defaultParallelism
        self.spark.conf.set("spark.sql.shuffle.partitions", str(partitions or max(4, 2 * cores)))
        functions.register(self.spark)
        self._frames: dict[str, object] = {}
        self._lock = threading.Lock()

    # --- tables ---------------------------------------------------------------------------

    def _read(self, name: str):
        with self._lock:
            if name not in self._frames:
                self._frames[name] = self.spark.read.parquet(str((self.warehouse / name).absolute()))
            return self._frames[name]

    def _scan(self, predicate: str):
        table = self.manifest.tables.get(predicate)
        return None if table is None else self._read(f"tables/{table['table']}")

    def _all_triples(self):
        from pyspark.sql import functions as F

        frames = [self._scan(p).select("s", F.lit(p).alias("p"), "o", "g") for p in self.manifest.tables]
        if not frames:
            return self.spark.createDataFrame([], "s string, p string, o string, g string")
        out = frames[0]
        for frame in frames[1:]:
            out = out.unionByName(frame)
        return out

    def tables(self, default_graphs=None, named_graphs=None) -> Tables:
        return Tables(self.spark, self.manifest, self._scan, self._all_triples, lambda: self._read("geometries"),
                      lambda: self._read("cells"), default_graphs, named_graphs)

    # --- queries --------------------------------------------------------------------------

    def query(self, sparql, *, timeout=None, default_graphs=None, named_graphs=None) -> QueryResult:
        refuse_remote_access(sparql, update=False)
        _refuse_unknown_functions(sparql)
        try:
            # the embedded store's parser, so the same syntax errors (nothing is evaluated: answers are lazy)
            context = EvaluationContext(None)
            ox.Store().query(sparql, prefixes=PREFIXES, custom_functions=custom_functions(context),
                             custom_aggregate_functions=custom_aggregates(context))
        except SyntaxError as error:
            raise syntax_error(error, sparql) from None
        parsed = _rdflib_query(sparql)
        translation = translate(parsed, self.tables(default_graphs, named_graphs))
        return SparkResult(self.spark, translation, timeout)

    def explain(self, sparql: str) -> str:
        """Spark's physical plan for a query (for docs and debugging)."""
        translation = translate(_rdflib_query(sparql), self.tables())
        return translation.frame._jdf.queryExecution().executedPlan().toString()

    # --- writes are refused -----------------------------------------------------------------

    def update(self, sparql, *, timeout=None) -> None:
        raise UnsupportedFeature("SPARQL Update", BACKEND, _READ_ONLY)

    def load(self, paths, *, format=None, graph=None, progress=None, validated=False, on_loaded=None) -> LoadReport:
        raise UnsupportedFeature("Loading into a running store", BACKEND, _READ_ONLY)

    def load_data(self, data, format, *, graph=None, replace=False) -> LoadReport:
        raise UnsupportedFeature("Writing graphs", BACKEND, _READ_ONLY)

    def drop_graph(self, graph) -> None:
        raise UnsupportedFeature("Dropping graphs", BACKEND, _READ_ONLY)

    def dump(self, format, *, graph=None) -> bytes:
        raise UnsupportedFeature("Dumping graphs", BACKEND, "Read the warehouse's Parquet tables instead (docs/spark.md).")

    # --- graphs and statistics ------------------------------------------------------------

    def graph_exists(self, graph) -> bool:
        return graph is None or f"<{graph}>" in self.manifest.graphs

    def size(self) -> StoreSize:
        return StoreSize(self.manifest.triples, len(self.manifest.graphs))

    def stats(self) -> StoreStats:
        types = self._scan("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>")
        classes = {}
        if types is not None:
            rows = types.groupBy("o").agg({"s": "count"}).orderBy("count(s)", ascending=False).limit(20).collect()
            classes = {row[0][1:-1]: int(row[1]) for row in rows}
        geometries = {}
        for row in self._read("geometries").selectExpr("regexp_extract(term, '\\\\^\\\\^<([^>]*)>$', 1) AS d").groupBy("d").count().collect():
            geometries[row[0]] = int(row[1])
        return StoreStats(*self.size(), geometries, classes)


def _rdflib_query(sparql: str):
    from pyparsing import ParseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    # topology properties as triple patterns: stored or derived from the geometries, as the embedded
    # store rewrites them; geof: aggregates as tagged GROUP_CONCATs, which rdflib knows for aggregates
    sparql = tag_aggregates(expand_topology(sparql))
    if re.search(r"\bDESCRIBE\s*\*", sparql, re.IGNORECASE):  # rdflib fails on it
        raise UnsupportedFeature("DESCRIBE *", BACKEND, "Name the variables or resources to describe.")
    try:
        return translateQuery(parseQuery(sparql), initNs=PREFIXES)
    except ParseException as error:
        raise UnsupportedFeature(f"This query's syntax ({error.msg})", BACKEND) from None
    except Exception as error:  # rdflib's translation of forms it does not know
        raise UnsupportedFeature(f"This query ({type(error).__name__}: {error})", BACKEND) from None


class SparkResult(QueryResult):
    """The answer of a translated query, computed by Spark once, when first read."""

    def __init__(self, spark, translation: Translation, timeout: float | None):
        self.spark, self.translation, self.timeout = spark, translation, timeout
        self.form = translation.form
        self._rows: list | None = None

    def _collect(self) -> list:
        if self._rows is None:
            self._rows = _run(self.spark, self.translation.frame, self.timeout)
        return self._rows

    def bindings(self) -> list[dict[str, object]]:
        names = self.translation.variables
        rows = self._collect()
        terms = iter(parse_terms([value for row in rows for value in row]))
        out = []
        for _ in rows:
            values = [next(terms) for _ in names]
            out.append({n: v for n, v in zip(names, values) if v is not None})
        return out

    def boolean(self) -> bool:
        return bool(self._collect())

    def triples(self) -> list[object]:
        """The CONSTRUCT template filled in with each row (a blank node is new in each row), once each."""
        if self.form != "GRAPH":
            raise GeoKGError(f"A {self.form} query has no triples.")
        out, seen = [], set()
        for row in self.bindings():
            fresh: dict = {}
            for triple in self.translation.template:
                terms = [_template_term(node, row, fresh) for node in triple]
                try:
                    made = ox.Triple(*terms)
                except (TypeError, ValueError):  # unbound, or a literal as subject: left out, as SPARQL says
                    continue
                if made not in seen:
                    seen.add(made)
                    out.append(made)
        return out

    def serialize(self, format: str) -> bytes:
        if self.form == "GRAPH":
            return ox.serialize(self.triples(), format=rdf_format(format))
        try:
            chosen = result_format(format)
        except GeoKGError:
            raise GeoKGError(f"A {self.form} answer comes as json, xml, csv or tsv, not {format!r}.") from None
        if self.form == "ASK":
            payload = json.dumps({"head": {}, "boolean": self.boolean()}).encode()
        else:
            names = self.translation.variables
            rows = [{n: _json_term(v) for n, v in row.items()} for row in self.bindings()]
            payload = json.dumps({"head": {"vars": names}, "results": {"bindings": rows}}).encode()
        if chosen == ox.QueryResultsFormat.JSON:
            return payload
        return ox.parse_query_results(payload, ox.QueryResultsFormat.JSON).serialize(format=chosen)


def _template_term(node, row: dict, fresh: dict):
    """A CONSTRUCT template's term for one row: a variable's value, a new blank node, or a constant."""
    from rdflib import BNode, Literal, URIRef, Variable

    if isinstance(node, Variable):
        return row.get(str(node))
    if isinstance(node, BNode):
        return fresh.setdefault(str(node), ox.BlankNode())
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        return parse_terms([node.n3()])[0]
    return None


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        out["datatype"] = term.datatype.value
    return out


def _run(spark, frame, timeout: float | None) -> list:
    """The frame's rows, its Spark jobs cancelled at the timeout; executor errors become ours."""
    group = f"eekg-{uuid.uuid4().hex}"
    outcome: dict = {}

    def collect():
        spark.sparkContext.setJobGroup(group, "eekg query", interruptOnCancel=True)
        try:
            table = frame.toArrow()  # Arrow batches: far faster than rows through Py4J
            outcome["rows"] = list(zip(*(table.column(i).to_pylist() for i in range(table.num_columns)))) if table.num_columns \
                else [()] * table.num_rows
        except Exception as error:  # noqa: BLE001 - sorted out below, on the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=collect, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        spark.sparkContext.cancelJobGroup(group)
        worker.join(30)
        raise QueryTimeout(
            f"The query ran longer than the {timeout:g} s timeout and was stopped. "
            "Make it more selective (a spatial filter, LIMIT) or ask for a longer timeout."
        )
    if "error" in outcome:
        error = outcome["error"]
        ours = functions.user_error(error)
        if ours is not None:
            raise ours from None
        raise GeoKGError(f"The query could not be evaluated by Spark: {str(error).splitlines()[0][:500]}") from None
    return outcome["rows"]


__all__ = ["SparkStore", "SparkResult", "QuerySyntaxError"]
