"""The Spark engine of the mapping stage: the same mapping, run as a Spark job over partitions.

Spark reads the input (GeoParquet and CSV with its own readers, so no row passes through the
driver; GeoJSON and Shapefile, which Spark cannot read, on the driver with ``mappings.readers``,
handed to Spark as Arrow slices). The prepared mapping (``Plan``) is broadcast, and every partition
is mapped in an executor by the local engine's per-chunk code (``runner.map_chunk``: geometry
problems, computed columns, morph-kgc, SHACL) inside ``mapInArrow``. Spark writes the N-Triples lines
as text part files, which are yielded (renamed ``.nt``) for the store's all-or-nothing load.

Row numbers (``__row``, 1-based in input order) are the local engine's: Parquet's row index within
the file, or for CSV each split's first row found by a count per split. So rejected-row reports and
``eekgfn:sourceRow`` tags name the same rows in both engines, and the triples are the same, byte for
byte, after sorting (chunks differ, so only within-chunk duplicates of shared nodes such as the
model may differ in number). Rejected rows reach the driver through an accumulator keyed by
partition, so a retried task counts once.

    run = MappingRun()
    parts = map_with_spark(Path("mappings/rml/sea_ice.rml.ttl"), [Path("regions.parquet")], workdir, run,
                           master="local[2]")
    store.load(parts)  # all parts, or nothing if any fails

One SparkSession per process, started on first use and reused by later runs (it takes ~5 s to
start); a run asking for another master stops it and starts one for that master. ``stop_session()``
stops it; the JVM also goes when the process exits.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from mappings.errors import MappingError
from mappings.plan import Plan, plan_mapping
from mappings.readers import GEOMETRY, GEOMETRY_PROBLEM, ROW, WKT_COLUMNS, input_kind
from mappings.runner import MappingRun, Validation, map_chunk, rejected_error

MASTER_ENV = "EEKG_SPARK_MASTER"
JAVA_HINT = "Spark needs Java 17: apt-get install openjdk-17-jre-headless"
_BLOCK, _ID, _MALFORMED = "__block", "__id", "__malformed"
_session = None
_session_lock = threading.Lock()


def map_with_spark(
    mapping: Path,
    inputs: Sequence[Path],
    workdir: Path,
    run: MappingRun,
    *,
    validate: Validation = "strict",
    chunk_rows: int = 50_000,
    master: str | None = None,
    partitions: int | None = None,
) -> Iterator[Path]:
    """Map every input as one Spark job, yielding its N-Triples part files.

    As ``runner.map_to_parts``: ``strict`` raises MappingError listing the rejected rows before
    any part is yielded, ``report`` yields the valid records and lists the rest in
    ``run.rejected``. ``master``: ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...``
    (default ``$EEKG_SPARK_MASTER``, else ``local[*]``). ``partitions``: split the input into at least
    this many partitions (default: the cluster's cores); Spark splits CSV and Parquet natively where
    it can (lines, row groups) and repartitions on the row number otherwise. ``workdir`` must be
    on a file system the executors write to and the driver reads (local, NFS).
    """
    if validate not in ("strict", "report", "off"):
        raise MappingError(f"Got validate={validate!r}; use strict, report or off.")
    if partitions is not None and partitions < 1:
        raise MappingError(f"Got partitions={partitions!r}; give a positive number, or None for the cluster's cores.")
    plan = plan_mapping(mapping, with_source_rows=validate != "off")
    kinds = [input_kind(Path(source)) for source in inputs]  # unknown kinds and missing files fail before Spark starts
    spark = spark_session(master)
    target = partitions or spark.sparkContext.defaultParallelism
    output = Path(workdir).absolute() / "spark-output"
    plan_value = spark.sparkContext.broadcast(plan)
    tally = spark.sparkContext.accumulator({}, PerPartition())
    try:
        with _settings(spark, _run_settings(chunk_rows, target, split_small_files=partitions is not None)):
            mapped = None
            for number, (source, kind) in enumerate(zip(inputs, kinds)):
                frame, spec, pieces = _READERS[kind](spark, Path(source), plan, target, chunk_rows)
                spec = replace(spec, order=number, validate=validate)
                if pieces < target:  # e.g. a Parquet file of one row group: spread its rows over the cores
                    frame = frame.repartition(target, ROW)
                part = frame.mapInArrow(_mapper(spec, plan_value, tally), "value string")
                mapped = part if mapped is None else mapped.unionAll(part)
            if mapped is None:
                return
            try:
                mapped.write.mode("overwrite").option("compression", "none").text(output.as_uri())
            except Exception as error:  # Py4J/PySpark errors: a MappingError raised in an executor is in the text
                raise _mapping_error(error) from None
        yield from _parts(output, Path(workdir), run, tally.value, validate)
    finally:
        shutil.rmtree(output, ignore_errors=True)
        plan_value.unpersist()


def _parts(output: Path, workdir: Path, run: MappingRun, tally: dict, validate: Validation) -> Iterator[Path]:
    """The part files Spark wrote, renamed ``part-NNNNN.nt``, after the run's counts are taken."""
    rejected = sorted({r for _, _, rows in tally.values() for r in rows}, key=lambda r: (r[0], r[1].row))
    rejected = [r for _, r in rejected]
    run.rows += sum(rows for rows, _, _ in tally.values())
    if rejected and validate == "strict":
        raise rejected_error(rejected)
    run.rejected.extend(rejected)
    run.triples += sum(triples for _, triples, _ in tally.values())
    for written in sorted(output.glob("part-*")):
        if written.stat().st_size == 0:
            continue
        part = workdir / f"part-{run.parts:05d}.nt"
        written.rename(part)
        run.parts += 1
        yield part


# --- the session ------------------------------------------------------------------------------


def spark_session(master: str | None = None):
    """The process's SparkSession for ``master`` (default ``$EEKG_SPARK_MASTER``, else ``local[*]``).

    Started on first use and reused; asking for another master stops the running one first.
    Executors run ``$PYSPARK_PYTHON``, by default this interpreter (a cluster sets it, e.g. to the
    Python of a venv shipped with ``--archives``); ``SPARK_LOCAL_IP`` is 127.0.0.1 for a local master
    unless set.
    """
    global _session
    master = master or os.environ.get(MASTER_ENV) or "local[*]"
    with _session_lock:
        if _session is not None and _session.sparkContext._jsc is not None:
            if _session.sparkContext.master == master:
                return _session
            _session.stop()
        _session = _start(master)
        return _session


def stop_session() -> None:
    """Stop the session ``spark_session`` started, if any."""
    global _session
    with _session_lock:
        if _session is not None:
            _session.stop()
            _session = None


def _start(master: str):
    _require_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    logging_config = Path(tempfile.gettempdir()) / "eekg-spark-log4j2.properties"
    logging_config.write_text(_LOG4J, encoding="utf-8")
    builder = (
        SparkSession.builder.master(master)
        .appName("eekg-mapping")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false" if master.startswith("local") else "true")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={logging_config.as_uri()}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        session = builder.getOrCreate()
    except PySparkException as error:  # JAVA_GATEWAY_EXITED: no Java, or one too old for Spark 4
        raise MappingError(f"{JAVA_HINT} (the Spark JVM did not start: {error}).") from None
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


def _require_java() -> None:
    """A MappingError saying what to install, rather than a Java gateway traceback."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and (Path(home) / "bin" / "java").exists()):
        raise MappingError(f"{JAVA_HINT} (no java on PATH and no JAVA_HOME).")


_LOG4J = """\
rootLogger.level = error
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _run_settings(chunk_rows: int, target: int, *, split_small_files: bool) -> dict[str, str]:
    settings = {
        "spark.sql.session.timeZone": "UTC",  # timestamps reach the executors as UTC instants
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(chunk_rows),  # one Arrow batch is one chunk
        "spark.sql.legacy.parquet.nanosAsLong": "true",  # pandas writes ns timestamps; restored on the executor
        "spark.sql.files.minPartitionNum": str(target),
        "spark.sql.csv.parser.columnPruning.enabled": "false",  # else rows of the wrong length pass unseen
    }
    if split_small_files:  # an explicit number of partitions: split even files of a few KB
        settings["spark.sql.files.openCostInBytes"] = "1"
    return settings


@contextmanager
def _settings(spark, settings: dict[str, str]):
    """Session settings for one run, restored after it (the session may be shared)."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _mapping_error(error: Exception) -> Exception:
    """A MappingError raised in an executor, back as itself; any other failure as it came."""
    text = str(error)
    marker = "mappings.errors.MappingError: "
    if marker in text:
        return MappingError(text.split(marker, 1)[1].strip().splitlines()[0])
    return error


# --- reading the inputs (driver) --------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """What an executor needs to turn Spark's Arrow batches of one input into the reader's chunks."""

    source: str
    kind: str  # "parquet", "csv" or "slices"
    geometry: str | None = None  # the input's geometry column (WKB for Parquet, WKT for CSV)
    crs: str | None = None  # the Parquet geometry's CRS (WKT), when not CRS84
    schema: bytes | None = None  # the Parquet file's Arrow schema, to restore its types
    order: int = 0  # the input's place among the run's inputs
    validate: str = "strict"


def _read_parquet(spark, path: Path, plan: Plan, target: int, chunk_rows: int):
    """Spark's Parquet reader; the row number is Parquet's row index within the file."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    from mappings.readers import CRS84, geoparquet_geometry

    try:
        file = pq.ParquetFile(path)  # the footer only: the geometry column, its CRS, the Arrow types
    except Exception as error:  # pyarrow raises several types for a broken file
        raise MappingError(f"{path}: not a readable Parquet file: {error}") from None
    column, crs = geoparquet_geometry(file, path)
    columns = [ROW] + [c for c in file.schema_arrow.names if c != column] + ([GEOMETRY, GEOMETRY_PROBLEM] if column else [])
    _check_columns(plan, columns, path)
    frame = spark.read.parquet(path.absolute().as_uri()).select("*", (F.col("_metadata.row_index") + 1).alias(ROW))
    spec = _Spec(str(path), "parquet", column, None if crs == CRS84 else crs.to_wkt(),
                 file.schema_arrow.serialize().to_pybytes())
    # A split holds the row groups whose middle falls into it: some splits may be empty.
    return frame, spec, min(frame.rdd.getNumPartitions(), file.metadata.num_row_groups)


def _read_csv(spark, path: Path, plan: Plan, target: int, chunk_rows: int):
    """Spark's CSV reader, line by line; row numbers from a count of the rows of each split."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = _csv_header(path)
    geometry = next((c for c in WKT_COLUMNS if c in columns), None)
    _check_columns(plan, [ROW] + [c for c in columns if c != geometry] + ([GEOMETRY, GEOMETRY_PROBLEM] if geometry else []), path)
    schema = T.StructType([T.StructField(c, T.StringType()) for c in columns] + [T.StructField(_MALFORMED, T.StringType())])
    # As text, like the local reader; quotes doubled as RFC 4180 says; a row without the header's
    # fields kept (in _MALFORMED) so it can be named rather than silently cut or padded.
    rows = (spark.read.schema(schema).option("header", True).option("escape", '"').option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", _MALFORMED).option("encoding", "UTF-8")
            .csv(path.absolute().as_uri())
            .select("*", F.col("_metadata.file_block_start").alias(_BLOCK), F.monotonically_increasing_id().alias(_ID)))
    # Within a split rows come in file order, with consecutive ids; splits are ordered by offset.
    # (The count of a data column is there because Spark refuses a query of the malformed column alone.)
    splits = rows.groupBy(_BLOCK).agg(F.count("*").alias("rows"), F.min(_ID).alias("first"),
                                      F.count(_MALFORMED).alias("malformed"), F.count(f"`{columns[0]}`"),
                                      F.min(F.when(F.col(_MALFORMED).isNotNull(), F.col(_ID))).alias("bad")).collect()
    bases, start, malformed = [], 1, []
    for split in sorted(splits, key=lambda s: s[_BLOCK]):
        bases.append((split[_BLOCK], start - split["first"]))
        if split["malformed"]:
            malformed.append((split["malformed"], start + split["bad"] - split["first"]))
        start += split["rows"]
    if malformed:
        count = sum(m for m, _ in malformed)
        raise MappingError(
            f"{path}: {count} row(s) do not have the header's {len(columns)} fields (the first is row {malformed[0][1]}). "
            "The Spark engine reads CSV line by line, so a quoted value cannot span lines; "
            "fix those rows, or map this file with the local engine.")
    base = spark.createDataFrame(bases, f"{_BLOCK} long, base long")
    frame = (rows.join(F.broadcast(base), _BLOCK).withColumn(ROW, F.col(_ID) + F.col("base"))
             .select(ROW, *[F.col(f"`{c}`") for c in columns]))
    return frame, _Spec(str(path), "csv", geometry), len(splits)


def _csv_header(path: Path) -> list[str]:
    """The column names as the local reader names them (pandas: duplicates become ``a.1``)."""
    try:
        return list(pd.read_csv(path, dtype=str, keep_default_na=False, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise MappingError(f"{path}: the file is empty (a CSV input needs a header row).") from None
    except UnicodeDecodeError as error:
        raise MappingError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    except pd.errors.ParserError as error:
        raise MappingError(f"{path}: not a well-formed CSV file: {error}") from None


def _read_on_driver(spark, path: Path, plan: Plan, target: int, chunk_rows: int):
    """GeoJSON and Shapefile: read here by the local reader, handed to Spark as Arrow slices."""
    from mappings.readers import read_with_gdal

    data = read_with_gdal(path)
    _check_columns(plan, data.columns, path)
    data[GEOMETRY] = shapely.to_wkb(data[GEOMETRY].to_numpy(dtype=object))
    size = max(1, min(chunk_rows, -(-len(data) // target)))
    slices = [_arrow_bytes(data.iloc[start:start + size]) for start in range(0, len(data), size)]
    rdd = spark.sparkContext.parallelize([(s,) for s in slices], max(1, len(slices)))
    return spark.createDataFrame(rdd, "payload binary"), _Spec(str(path), "slices"), target


def _arrow_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _check_columns(plan: Plan, columns, path: Path) -> None:
    from mappings.runner import check_columns as check

    check(plan, pd.DataFrame(columns=list(columns)), path)


_READERS = {"geoparquet": _read_parquet, "csv": _read_csv, "geojson": _read_on_driver, "shapefile": _read_on_driver}


# --- mapping a partition (executor) -----------------------------------------------------------


class PerPartition:
    """Spark accumulator of ``{partition: value}``: a retried task overwrites its own entry, so
    nothing is counted twice (here: ``{partition: (rows, triples, [(input order, Rejected)])}``)."""

    def zero(self, value):
        return {}

    def addInPlace(self, first, second):
        first.update(second)
        return first


def _mapper(spec: _Spec, plan_value, tally):
    """The function ``mapInArrow`` runs on each partition of one input."""

    def map_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        plan, config, validator = _prepared(plan_value.value, spec.validate)
        rows, triples, rejected = 0, 0, []
        for batch in batches:
            for chunk in _chunks(spec, batch):
                lines, bad = map_chunk(plan, config, chunk, spec.source, validator)
                rows, triples = rows + len(chunk), triples + len(lines)
                rejected += [(spec.order, r) for r in bad]
                yield from _text_batches(lines)
        tally.add({TaskContext.get().partitionId(): (rows, triples, rejected)})

    return map_partition


def _text_batches(lines: list[str], per_value: int = 1_000, per_batch: int = 20) -> Iterator[pa.RecordBatch]:
    """The lines as values of ``per_value`` lines, without the last newline (the writer adds it).

    The same bytes as one value per line, but Spark's text writer handles a thousandth of the
    rows; batches of ``per_batch`` values (a few MB) keep the JVM's Arrow buffers small whatever
    the chunk size.
    """
    values = ["".join(lines[start:start + per_value])[:-1] for start in range(0, len(lines), per_value)]
    for start in range(0, len(values), per_batch):
        yield pa.RecordBatch.from_arrays([pa.array(values[start:start + per_batch], pa.string())], ["value"])


_prepared_cache: dict[str, tuple] = {}


def _prepared(plan: Plan, validate: str) -> tuple[Plan, str, object]:
    """The plan, a morph-kgc configuration reading its rules from a local file, the validator.

    Once per Python worker and mapping: workers are reused across tasks.
    """
    key = hashlib.sha256(plan.turtle.encode()).hexdigest() + validate
    if key not in _prepared_cache:
        from mappings.runner import morph_config

        # one folder for every worker and run: the rules file is named by its content
        folder = Path(tempfile.gettempdir()) / "eekg-spark-mappings"
        folder.mkdir(exist_ok=True)
        config = morph_config(plan, folder)
        validator = None
        if validate != "off":
            from mappings.validation import validate_records as validator
        _prepared_cache[key] = (plan, config, validator)
    return _prepared_cache[key]


def _chunks(spec: _Spec, batch: pa.RecordBatch) -> Iterator[pd.DataFrame]:
    """The chunks the local reader would make of these rows: same columns, types and geometries."""
    if spec.kind == "slices":
        for payload in batch.column("payload").to_pylist():
            chunk = pa.ipc.open_stream(payload).read_all().to_pandas()
            chunk[GEOMETRY] = shapely.from_wkb(chunk[GEOMETRY].to_numpy(dtype=object))
            yield chunk
        return
    rows = batch.column(ROW).to_numpy().astype(np.int64)
    table = pa.Table.from_batches([batch]).drop_columns([ROW])
    if spec.kind == "csv":
        chunk = table.to_pandas().fillna("")  # Spark reads an empty field as null, the local reader as ""
        chunk.insert(0, ROW, rows)
        if spec.geometry is not None:
            from mappings.readers import with_wkt_geometry

            chunk = with_wkt_geometry(chunk, spec.geometry)
        yield chunk
        return
    chunk = _as_in_file(table, pa.ipc.read_schema(pa.py_buffer(spec.schema))).to_pandas()
    chunk.insert(0, ROW, rows)
    if spec.geometry is not None:
        import pyproj

        from mappings.readers import CRS84, with_wkb_geometry

        chunk = with_wkb_geometry(chunk, spec.geometry, CRS84 if spec.crs is None else pyproj.CRS.from_wkt(spec.crs))
    yield chunk


def _as_in_file(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Spark's Arrow columns with the Parquet file's own types and metadata, as pyarrow reads it.

    Spark turns timestamps into UTC microseconds (nanoseconds into plain longs), unsigned into
    wider signed integers, dictionaries into plain strings: cast back, so ``to_pandas`` gives the
    local reader's DataFrame.
    """
    columns, fields = [], []
    for name in table.column_names:
        column, index = table.column(name), schema.get_field_index(name)
        field = schema.field(index) if index >= 0 else pa.field(name, column.type)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                field = pa.field(name, column.type)
        columns.append(column)
        fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))
