"""Reading mapping inputs (CSV, GeoJSON, ESRI Shapefile, GeoParquet) in chunks of rows.

Every chunk is a DataFrame with the input's columns, ``__row`` (the 1-based row number in the
input, as a user counts data rows) and, when the input has geometries, ``geometry``: shapely
objects in CRS84 (longitude first), whatever CRS the input used. A geometry that cannot be read
is None in ``geometry`` and explained in ``__geometry_problem``; the runner reports those rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from mappings.errors import MappingError

ROW = "__row"
GEOMETRY = "geometry"
GEOMETRY_PROBLEM = "__geometry_problem"
CRS84 = pyproj.CRS("OGC:CRS84")
WKT_COLUMNS = ("geometry", "wkt", "WKT", "geom")
SUFFIXES = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".shp": "shapefile",
            ".parquet": "geoparquet", ".geoparquet": "geoparquet"}


def input_kind(path: Path) -> str:
    """csv, geojson, shapefile or geoparquet, from the file name."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise MappingError(f"{path}: unknown input kind; name it with one of {sorted(SUFFIXES)}.")
    if not path.is_file():
        raise MappingError(f"{path}: no such file.")
    return kind


def read_chunks(path: Path, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """The input's rows in chunks of at most ``chunk_rows``."""
    path = Path(path)
    kind = input_kind(path)
    if kind == "csv":
        yield from _csv_chunks(path, chunk_rows)
    elif kind == "geoparquet":
        yield from _parquet_chunks(path, chunk_rows)
    else:
        yield from _slices(read_with_gdal(path), chunk_rows)


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    first = 1
    try:
        # As text: identifiers keep their leading zeros and numbers their written form. No index
        # column: pandas would otherwise shift every value of a file whose rows have a field too many.
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False, chunksize=chunk_rows)
        while (chunk := _next_chunk(reader)) is not None:
            chunk.insert(0, ROW, np.arange(first, first + len(chunk)))
            first += len(chunk)
            column = next((c for c in WKT_COLUMNS if c in chunk.columns), None)
            if column is not None:
                chunk = with_wkt_geometry(chunk, column)
            yield chunk.reset_index(drop=True)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise MappingError(f"{path}: not a well-formed CSV file: {error}") from None
    except UnicodeDecodeError as error:
        raise MappingError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    except pd.errors.EmptyDataError:
        raise MappingError(f"{path}: the file is empty (a CSV input needs a header row).") from None


def _next_chunk(reader) -> pd.DataFrame | None:
    """The next chunk, with pandas' data-losing ParserWarning as an error (scoped to this read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return next(reader, None)


def with_wkt_geometry(chunk: pd.DataFrame, column: str) -> pd.DataFrame:
    """CSV geometries are WKT in CRS84."""
    text = chunk.pop(column).to_numpy(dtype=object)
    shapes = shapely.from_wkt(text, on_invalid="ignore")
    chunk[GEOMETRY] = shapes
    chunk[GEOMETRY_PROBLEM] = _problems(shapes, [f"invalid WKT {str(t)[:80]!r}" for t in text])
    return chunk


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a broken file
        raise MappingError(f"{path}: not a readable Parquet file: {error}") from None
    column, crs = geoparquet_geometry(file, path)
    first = 1
    for batch in file.iter_batches(batch_size=chunk_rows):
        chunk = batch.to_pandas()
        chunk.insert(0, ROW, np.arange(first, first + len(chunk)))
        first += len(chunk)
        if column is not None:
            chunk = with_wkb_geometry(chunk, column, crs)
        yield chunk


def with_wkb_geometry(chunk: pd.DataFrame, column: str, crs: pyproj.CRS) -> pd.DataFrame:
    """GeoParquet geometries are WKB in the file's CRS (the Spark engine decodes them the same way)."""
    wkb = chunk.pop(column).to_numpy(dtype=object)
    shapes = shapely.from_wkb(wkb, on_invalid="ignore")
    chunk[GEOMETRY] = _to_crs84(shapes, crs)
    chunk[GEOMETRY_PROBLEM] = _problems(shapes, ["the geometry (WKB) cannot be read"] * len(wkb))
    return chunk


def geoparquet_geometry(file, path: Path) -> tuple[str | None, pyproj.CRS]:
    """The primary geometry column of a GeoParquet file and its CRS (CRS84 when not given)."""
    import json

    meta = (file.schema_arrow.metadata or {}).get(b"geo")
    if meta is None:
        return None, CRS84
    geo = json.loads(meta)
    column = geo.get("primary_column", "geometry")
    crs = geo.get("columns", {}).get(column, {}).get("crs", "OGC:CRS84")
    try:
        return column, CRS84 if crs is None else pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as error:
        raise MappingError(f"{path}: unknown CRS of the geometry column: {error}") from None


def read_with_gdal(path: Path) -> pd.DataFrame:
    import geopandas

    try:
        frame = geopandas.read_file(path)
    except Exception as error:  # pyogrio/GDAL errors have several types
        raise MappingError(f"{path}: cannot be read as {input_kind(path)}: {error}") from None
    crs = frame.crs
    if crs is None:
        if input_kind(path) != "geojson":
            raise MappingError(f"{path}: the input names no CRS (a shapefile needs its .prj file).")
        crs = CRS84  # GeoJSON is CRS84 by definition (RFC 7946)
    shapes = frame.geometry.to_numpy(dtype=object)
    data = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    data.insert(0, ROW, np.arange(1, len(data) + 1))
    data[GEOMETRY] = _to_crs84(shapes, crs)
    data[GEOMETRY_PROBLEM] = _problems(shapes, ["the feature has no geometry"] * len(shapes))
    return data


def _slices(frame: pd.DataFrame, chunk_rows: int) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(frame), 1), chunk_rows):
        yield frame.iloc[start:start + chunk_rows].reset_index(drop=True)


def _to_crs84(shapes: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    if pyproj.CRS(crs) == CRS84 or pyproj.CRS(crs).equals(pyproj.CRS("EPSG:4326"), ignore_axis_order=True):
        return shapes
    transformer = pyproj.Transformer.from_crs(crs, CRS84, always_xy=True)
    present = np.array([s is not None for s in shapes])
    out = shapes.copy()
    out[present] = shapely.transform(shapes[present], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return out


def _problems(shapes: np.ndarray, unreadable: list[str]) -> np.ndarray:
    """Why each geometry cannot be used, or None: unreadable, or invalid (with GEOS's reason)."""
    problems = np.full(len(shapes), None, dtype=object)
    missing = shapely.is_missing(shapes)
    for i in np.flatnonzero(missing):
        problems[i] = unreadable[i]
    invalid = ~missing & ~shapely.is_valid(shapes)
    if invalid.any():
        reasons = shapely.is_valid_reason(shapes[invalid])
        for i, reason in zip(np.flatnonzero(invalid), reasons):
            problems[i] = f"invalid geometry: {reason}"
    return problems
