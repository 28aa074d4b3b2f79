"""The warehouse: a knowledge graph as Parquet tables, vertically partitioned, and its import.

Layout of a warehouse directory (docs/spark.md)::

    manifest.json           predicates -> tables with their statistics, graphs, the grid, counts
    tables/p00000/*.parquet one table per predicate: s, o, g (N-Triples strings, g '' = default graph)
    geometries/*.parquet    one row per distinct geometry literal: term, wkb (in its own CRS), crs,
                            minx, miny, maxx, maxy (CRS84), id (its row), sorted by grid cell
    cells/*.parquet         id, cell: each grid cell a geometry's bounding box touches

The grid is ``kg.interlink.grid.Grid`` over the geometries' CRS84 boxes (tiles the size of the
mean box). Statistics per table (rows, distinct subjects, distinct objects) order the joins.

Import parses with pyoxigraph in chunks and writes with Arrow; every geometry literal is checked
with ``kg.geosparql.literals.check_literals`` (as the embedded store does). All or nothing: the
warehouse is written beside the target and moved into place only when every file has loaded.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pyoxigraph as ox
import shapely

from kg.embedded import _file_format, _open, _without_position
from kg.errors import GeoKGError, LoadError
from kg.geosparql.crs import reproject
from kg.geosparql.literals import check_literals, parse_literal
from kg.geosparql.vocab import CRS84, GEOMETRY_DATATYPES
from kg.interlink.grid import Grid
from kg.spark.terms import term_text
from kg.store import LoadReport

MANIFEST = "manifest.json"
CHUNK = 500_000  # quads parsed before their tables are written
_TRIPLES = pa.schema([("s", pa.string()), ("o", pa.string()), ("g", pa.string())])
_GEOMETRIES = pa.schema([("term", pa.string()), ("wkb", pa.binary()), ("crs", pa.string()), ("minx", pa.float64()),
                         ("miny", pa.float64()), ("maxx", pa.float64()), ("maxy", pa.float64()), ("id", pa.int64())])
_GEOMETRY_DATATYPES = frozenset(ox.NamedNode(d) for d in GEOMETRY_DATATYPES)


@dataclass(frozen=True)
class Manifest:
    """What a warehouse holds: ``tables`` maps predicate (N-Triples) -> {table, rows, subjects, objects}."""

    tables: dict[str, dict]
    graphs: list[str]
    triples: int
    geometries: int
    grid: Grid | None
    empty_geometries: int | None = None  # None: a warehouse written before it was counted

    @classmethod
    def read(cls, warehouse: Path) -> "Manifest":
        try:
            data = json.loads((Path(warehouse) / MANIFEST).read_text())
        except (OSError, ValueError) as error:
            raise GeoKGError(
                f"{warehouse} is not a Spark warehouse ({error}); create one with `eekg spark load FILE... --warehouse {warehouse}`."
            ) from None
        grid = Grid(**data["grid"]) if data.get("grid") else None
        return cls(data["tables"], data["graphs"], data["triples"], data["geometries"], grid, data.get("empty_geometries"))

    def write(self, warehouse: Path) -> None:
        data = {"version": 1, "tables": self.tables, "graphs": self.graphs, "triples": self.triples,
                "geometries": self.geometries, "grid": self.grid.__dict__ if self.grid else None,
                "empty_geometries": self.empty_geometries}
        (warehouse / MANIFEST).write_text(json.dumps(data, indent=1))


def load_warehouse(
    paths: Iterable[str | Path],
    warehouse: str | Path,
    *,
    format: str | None = None,
    graph: str | None = None,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[Path], None] | None = None,
) -> LoadReport:
    """Build the warehouse at ``warehouse`` from RDF files; all of them or, if any is bad, none.

    An existing warehouse is kept unless ``replace``. ``progress`` gets quad counts.
    """
    started = time.perf_counter()
    warehouse = Path(warehouse)
    if warehouse.exists() and any(warehouse.iterdir()) and not replace:
        raise GeoKGError(f"The warehouse {warehouse} exists; give --replace to build it again from these files.")
    partial = warehouse.with_name(f".{warehouse.name}.loading")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        writer = _Writer(partial, graph)
        for path in paths:
            path = Path(path)
            writer.add_file(path, _file_format(path, format, graph), progress)
            if on_loaded is not None:
                on_loaded(path)
        manifest = writer.finish()
        if warehouse.exists():
            old = warehouse.with_name(f".{warehouse.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            warehouse.rename(old)
            partial.rename(warehouse)
            shutil.rmtree(old)
        else:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            partial.rename(warehouse)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return LoadReport(tuple(writer.files), manifest.triples, manifest.geometries, time.perf_counter() - started)


class _Writer:
    """Quads in, one Parquet table per predicate out, chunk by chunk."""

    def __init__(self, directory: Path, graph: str | None):
        self.directory = directory
        (directory / "tables").mkdir(parents=True)
        self.target = f"<{graph}>" if graph else None
        self.names: dict[str, str] = {}  # predicate -> table
        self.buffers: dict[str, tuple[list, list, list]] = {}
        self.geometries: dict[str, tuple[ox.Literal, str]] = {}  # term text -> (literal, a subject holding it)
        self.graphs: set[str] = set()
        self.files: list[str] = []
        self.triples = self.pending = self.parts = 0

    def add_file(self, path: Path, rdf, progress) -> None:
        try:
            with _open(path, None) as stream:  # unzips .gz
                for quad in ox.parse(stream, format=rdf):
                    self._add(quad)
                    if self.pending >= CHUNK:
                        self._flush()
                        if progress is not None:
                            progress(CHUNK)
        except SyntaxError as error:
            raise LoadError(_without_position(error.msg), str(path), error.lineno, error.offset) from None
        except (OSError, EOFError) as error:
            raise LoadError(f"cannot be read: {error}", str(path)) from None
        self.files.append(str(path))

    def _add(self, quad) -> None:
        predicate = str(quad.predicate)
        buffer = self.buffers.get(predicate)
        if buffer is None:
            buffer = self.buffers[predicate] = ([], [], [])
            self.names.setdefault(predicate, f"p{len(self.names):05d}")
        obj = quad.object
        text = str(obj)
        graph = self.target or term_text(quad.graph_name)
        buffer[0].append(str(quad.subject))
        buffer[1].append(text)
        buffer[2].append(graph)
        if graph:
            self.graphs.add(graph)
        if type(obj) is ox.Literal and obj.datatype in _GEOMETRY_DATATYPES and text not in self.geometries:
            self.geometries[text] = (obj, str(quad.subject))
        self.pending += 1

    def _flush(self) -> None:
        for predicate, (s, o, g) in self.buffers.items():
            if s:
                table = self.directory / "tables" / self.names[predicate]
                table.mkdir(exist_ok=True)
                pq.write_table(pa.table([s, o, g], schema=_TRIPLES), table / f"part-{self.parts:05d}.parquet")
        self.parts += 1
        self.triples += self.pending
        self.pending = 0
        self.buffers = {}

    def finish(self) -> Manifest:
        self._flush()
        tables = {p: {"table": name, **_statistics(self.directory / "tables" / name)} for p, name in self.names.items()}
        grid, empty = _write_geometries(self.directory, self.geometries)
        manifest = Manifest(tables, sorted(self.graphs), self.triples, len(self.geometries), grid, empty)
        manifest.write(self.directory)
        return manifest


def _statistics(table: Path) -> dict:
    """Rows, distinct subjects and distinct objects of a table, for ordering joins."""
    data = ds.dataset(table, format="parquet").to_table(columns=["s", "o"])
    return {"rows": data.num_rows, "subjects": pc.count_distinct(data["s"]).as_py(),
            "objects": pc.count_distinct(data["o"]).as_py()}


def _write_geometries(directory: Path, geometries: dict[str, tuple]) -> tuple[Grid | None, int]:
    """The geometry table and the cells table; the grid (None without geometries) and the number of
    empty geometries (no box, no cell)."""
    texts = list(geometries)
    literals = [geometries[t][0] for t in texts]
    shapes: list = []
    problems = check_literals(literals, shapes)
    if problems:
        index, message = problems[0]
        raise LoadError(f"the geometry of {geometries[texts[index]][1]} is invalid: {message}")
    crs = np.full(len(texts), CRS84, dtype=object)
    in_crs84 = np.empty(len(texts), dtype=object)
    for i, shape in enumerate(shapes):
        if shape is None:  # a CRS IRI or another serialisation: the shared parser
            geom = parse_literal(literals[i].value, literals[i].datatype.value)
            shapes[i], crs[i] = geom.shape, geom.crs
            in_crs84[i] = geom.shape if geom.crs == CRS84 else reproject(geom.shape, geom.crs, CRS84)
        else:
            in_crs84[i] = shape
    boxes = shapely.bounds(in_crs84) if texts else np.empty((0, 4))
    present = ~np.isnan(boxes).any(axis=1)
    grid = Grid.of_source(boxes[present]) if present.any() else None
    order = np.arange(len(texts))
    if grid is not None:
        centres = np.where(present[:, None], boxes, 0.0)
        keys = grid.keys((centres[:, 0] + centres[:, 2]) / 2, (centres[:, 1] + centres[:, 3]) / 2)
        order = np.argsort(keys, kind="stable")  # nearby geometries in the same row groups: bbox filters skip the rest
    term = pa.array(texts, pa.string()).take(order)
    columns = [term, pa.array(shapely.to_wkb(np.array(shapes, dtype=object)) if texts else [], pa.binary()).take(order),
               pa.array(crs, pa.string()).take(order)]
    columns += [pa.array(boxes[:, k]).take(order) for k in range(4)] + [pa.array(np.arange(len(texts)), pa.int64())]
    (directory / "geometries").mkdir()
    pq.write_table(pa.table(columns, schema=_GEOMETRIES), directory / "geometries" / "part-00000.parquet", row_group_size=50_000)
    (directory / "cells").mkdir()
    cells, owners = (grid.entries(grid.ranges(boxes[order][present[order]])) if grid is not None
                     else (np.empty(0, np.int64), np.empty(0, np.int64)))
    ids = np.flatnonzero(present[order])[owners]  # the geometry's row: literals are long, ids are 8 bytes
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "cell": pa.array(cells, pa.int64())}),
                   directory / "cells" / "part-00000.parquet")
    return grid, int((~present).sum())
