"""The datasets to interlink: entities (IRIs), one geometry each, from the store or from a file.

From a store, the entities are chosen by class, by named graph or by a SPARQL pattern:

- ``class=IRI``: instances (``rdf:type``) of the class with a geometry (the store does no RDFS
  reasoning: name the class the data uses, or write a pattern);
- ``graph=IRI``: entities with a geometry in that graph (combines with ``class=``); without it, the
  default graph and every named graph are searched;
- ``pattern={...}``: any group graph pattern that binds ``?entity`` (an IRI) and ``?wkt`` (its
  geometry literal: WKT, GeoJSON, GML or KML); the rest of the text is the pattern, evaluated as
  written (inside ``GRAPH <IRI>`` with ``graph=``).

An entity's geometry is that of its ``geo:hasDefaultGeometry``, else of its ``geo:hasGeometry``
(one serialisation per geometry node: WKT first); an entity that is not itself the geometry of
another (``geo:hasGeometry``, ``hasDefaultGeometry``, ``hasCentroid``, ``hasBoundingBox``) may also hold
its literal directly (``<e> geo:asWKT "..."``). An entity with several geometries and no default
one is an error: a pattern must then say which one.

From a file, the spec starts with the path: GeoParquet, GeoJSON, Shapefile or CSV with WKT (read
by the mapping stage's readers, ``mappings/readers.py``, which move every geometry to CRS84), or
RDF (N-Triples, Turtle, ... with WKT literals; loaded into an in-memory store, then chosen as above,
all entities with a geometry by default). A table's entities are named ``base`` + the ``id=``
column (default: ``iri`` or ``id`` if the file has one, else the row number); ``base`` defaults to
the file's URI and ``#``, and a column of absolute IRIs is used as it is.

>>> DatasetSpec.parse("class=https://w3id.org/eekg/ont/food#Parcel graph=https://example.org/g").selection.cls
'https://w3id.org/eekg/ont/food#Parcel'
>>> DatasetSpec.parse("parcels.geojson id=parcel_id").id_column
'parcel_id'
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyoxigraph as ox

from kg.errors import GeoKGError
from kg.formats import RDF_EXTENSIONS
from kg.geosparql.crs import apply_transformer, transformer
from kg.geosparql.index import INDEXED_DATATYPES, stage
from kg.geosparql.literals import geometry_of
from kg.geosparql.vocab import CRS84, GEOJSON_LITERAL, GML_LITERAL, KML_LITERAL, WKT_LITERAL
from kg.store import Store

_KEYS = ("class", "graph", "pattern", "id", "base")
_SERIALISATIONS = "geo:asWKT|geo:asGeoJSON|geo:asGML|geo:asKML"
# An entity that holds its literal itself (as in many N-Triples dumps), unless it is the geometry of another one.
_NOT_A_GEOMETRY_NODE = ("FILTER NOT EXISTS { ?feature ?has ?entity "
                        "FILTER(?has IN (geo:hasGeometry, geo:hasDefaultGeometry, geo:hasCentroid, geo:hasBoundingBox)) }")
_RANK = {WKT_LITERAL: 0, GEOJSON_LITERAL: 1, GML_LITERAL: 2, KML_LITERAL: 3}  # serialisation preferred per geometry
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
SPEC_HELP = ("a file (GeoParquet, GeoJSON, Shapefile, CSV with WKT, or RDF such as N-Triples) optionally followed by "
             "id=COLUMN base=IRI, or a store selection: class=IRI, graph=IRI, or pattern={ ... } binding ?entity and ?wkt")


@dataclass(frozen=True)
class Selection:
    """Which entities of a store: instances of ``cls``, in ``graph``, or bound by ``pattern``."""

    cls: str | None = None
    graph: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from: a file (``path``) or the store, and which of its entities."""

    text: str
    path: Path | None = None
    selection: Selection = field(default_factory=Selection)
    id_column: str | None = None
    base: str | None = None

    @classmethod
    def parse(cls, text: str) -> "DatasetSpec":
        """``[PATH] [class=IRI] [graph=IRI] [id=COLUMN] [base=IRI] [pattern=...]`` (the pattern last)."""
        rest, values, path = str(text).strip(), {}, None
        while rest:
            token, _, after = rest.partition(" ")
            key, equals, value = token.partition("=")
            if equals and key == "pattern":
                values["pattern"] = rest.partition("=")[2].strip()
                break
            if equals and key in _KEYS:
                values[key] = value.strip("<>")
            elif path is None and not values:
                path = Path(token)
            else:
                raise GeoKGError(f"Cannot read the dataset {text!r} at {token!r}; give {SPEC_HELP}.")
            rest = after.strip()
        if path is None and not (values.keys() & {"class", "graph", "pattern"}):
            raise GeoKGError(f"The dataset {text!r} names nothing to read; give {SPEC_HELP}.")
        if path is None and values.keys() & {"id", "base"}:
            raise GeoKGError(f"id= and base= name the entities of a file; in {text!r} there is no file.")
        if "pattern" in values and "class" in values:
            raise GeoKGError(f"In {text!r}: a pattern chooses the entities itself; give class= or pattern=, not both.")
        for key in ("class", "graph"):
            if key in values:
                try:
                    ox.NamedNode(values[key])
                except ValueError as error:
                    raise GeoKGError(f"In {text!r}: {key}={values[key]!r} is not an IRI ({error}); give a full IRI.") from None
        selection = Selection(values.get("class"), values.get("graph"), values.get("pattern"))
        return cls(str(text).strip(), path, selection, values.get("id"), values.get("base"))


@dataclass(frozen=True)
class Dataset:
    """Entities with one geometry each: IRIs, shapes (x easting/longitude) and each shape's CRS."""

    description: str
    iris: np.ndarray
    shapes: np.ndarray
    crs: np.ndarray

    def __len__(self) -> int:
        return len(self.iris)

    def crs_list(self) -> list[str]:
        """The distinct CRSs of the shapes (hashed: sorting a million strings would take longer)."""
        return list(dict.fromkeys(self.crs.tolist()))

    def shapes_in(self, crs: str) -> np.ndarray:
        """The shapes moved into ``crs`` (as a ``geof:`` function moves its second argument)."""
        moved = self.shapes.copy()
        for each in self.crs_list():
            if each != crs:
                where = np.flatnonzero(self.crs == each)
                moved[where] = _reprojected(self.shapes[where], each, crs)
        return moved


def read_dataset(spec: DatasetSpec | str, store: Store | None = None, role: str = "source") -> Dataset:
    """The dataset a spec describes (``role`` names it in messages: source or target)."""
    spec = DatasetSpec.parse(spec) if isinstance(spec, str) else spec
    if spec.path is None:
        if store is None:
            raise GeoKGError(f"The {role} dataset {spec.text!r} is a store selection; give the store (--store DIR).")
        dataset = _from_store(store, spec.selection, spec.text)
    elif _is_rdf(spec.path):
        dataset = _from_rdf_file(spec)
    else:
        dataset = _from_table(spec)
    if not len(dataset):
        raise GeoKGError(f"The {role} dataset {spec.text!r} has no entity with a geometry; {_empty_hint(spec)}")
    return dataset


# --- from a store --------------------------------------------------------------------------------


def _from_store(store: Store, selection: Selection, description: str) -> Dataset:
    rows = store.query(_selection_query(selection)).bindings()
    if selection.pattern is not None and rows and not any("wkt" in row for row in rows):
        raise GeoKGError(f"The pattern of {description!r} binds no ?wkt; it must bind ?entity and ?wkt (its geometry literal).")
    rows = [row for row in rows if "entity" in row and "wkt" in row]
    return _dataset_of_rows(rows, description)


def _selection_query(selection: Selection) -> str:
    """The SELECT of a selection; without a graph, a class or all entities are searched for in the
    default graph and every named one, and a pattern is evaluated as written."""
    if selection.pattern is not None:
        body, select = selection.pattern, "?entity ?wkt"
        if not selection.graph:
            return f"SELECT {select} WHERE {{ {body} }}"  # as written: the pattern names its graphs itself
    else:
        typed = f"?entity a <{selection.cls}> ." if selection.cls else ""
        body = (f"{typed} {{ ?entity geo:hasDefaultGeometry ?geometry BIND(true AS ?default) }} UNION "
                "{ ?entity geo:hasGeometry ?geometry BIND(false AS ?default) } UNION "
                f"{{ ?entity {_SERIALISATIONS} [] BIND(?entity AS ?geometry) BIND(false AS ?default) {_NOT_A_GEOMETRY_NODE} }} "
                f"?geometry {_SERIALISATIONS} ?wkt")
        select = "?entity ?geometry ?wkt ?default"
    if selection.graph:
        where = f"GRAPH <{selection.graph}> {{ {body} }}"
    else:
        where = f"{{ {body} }} UNION {{ GRAPH ?g {{ {body} }} }}"
    return f"SELECT {select} WHERE {{ {where} }}"


def _dataset_of_rows(rows: list[dict], description: str) -> Dataset:
    """One geometry per entity (see the module doc), parsed in its own CRS."""
    if not rows:
        return _empty(description)
    for row in rows:
        if type(row["entity"]) is not ox.NamedNode:
            raise GeoKGError(f"{description}: the entity {row['entity']} is not an IRI (a blank node?); links need IRIs: "
                             "give the entities IRIs, or choose IRIs with a pattern.")
    frame = pd.DataFrame({
        "entity": [row["entity"].value for row in rows],
        "geometry": [str(row.get("geometry", row["wkt"])) for row in rows],
        "default": [row.get("default") is not None and row["default"].value == "true" for row in rows],
        "rank": [_RANK.get(getattr(getattr(row["wkt"], "datatype", None), "value", None), 9) for row in rows],
        "row": np.arange(len(rows)),
    })
    frame = frame.sort_values(["entity", "default", "rank", "geometry"], ascending=[True, False, True, True], kind="stable")
    best = frame[frame["default"] == frame.groupby("entity")["default"].transform("max")]
    several = best.groupby("entity")["geometry"].nunique()
    if (several > 1).any():
        entity = several.index[several > 1][0]
        raise GeoKGError(f"{description}: the entity <{entity}> has {several[entity]} geometries and none is its "
                         "geo:hasDefaultGeometry; mark one as default, or choose one with a pattern binding ?entity and ?wkt.")
    chosen = best.drop_duplicates("entity")
    literals = [rows[r]["wkt"] for r in chosen["row"]]
    shapes, crs = _parsed(literals, chosen["entity"].tolist(), description)
    return Dataset(description, chosen["entity"].to_numpy(dtype=object), shapes, crs)


def _parsed(literals: list, entities: list[str], description: str) -> tuple[np.ndarray, np.ndarray]:
    """Shapes and CRSs of geometry literals, parsed as the store parses them; an unreadable one is
    an error naming its entity."""
    for literal, entity in zip(literals, entities):
        if type(literal) is not ox.Literal or literal.datatype.value not in INDEXED_DATATYPES:
            _raise_for(literal, entity, description)
    try:
        staged = stage(literals, strict=True)
    except GeoKGError:
        for literal, entity in zip(literals, entities):
            _raise_for(literal, entity, description)
        raise
    position = dict(zip(zip(staged.values, staged.datatypes), range(len(staged))))
    rows = np.fromiter((position[(l.value, l.datatype.value)] for l in literals), dtype=np.int64, count=len(literals))
    return np.asarray(staged.shapes, dtype=object)[rows], np.asarray(staged.crs, dtype=object)[rows]


def _raise_for(literal, entity: str, description: str) -> None:
    """Raise the store's own error for an unreadable geometry literal, naming the entity."""
    try:
        geometry_of(literal)
    except GeoKGError as error:
        raise type(error)(f"{description}: the geometry of <{entity}> cannot be used: {error.message}") from None


# --- from files ----------------------------------------------------------------------------------


def _is_rdf(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in RDF_EXTENSIONS


def _from_rdf_file(spec: DatasetSpec) -> Dataset:
    from kg.embedded import EmbeddedStore

    if spec.id_column or spec.base:
        raise GeoKGError(f"{spec.text!r}: id= and base= name the rows of a table; the entities of an RDF file have their IRIs.")
    with EmbeddedStore() as store:
        store.load([spec.path])
        rows = store.query(_selection_query(spec.selection)).bindings()
    return _dataset_of_rows([row for row in rows if "entity" in row and "wkt" in row], spec.text)


def _from_table(spec: DatasetSpec) -> Dataset:
    from mappings.readers import GEOMETRY, GEOMETRY_PROBLEM, ROW, read_chunks

    if spec.selection != Selection():
        raise GeoKGError(f"{spec.text!r}: class=, graph= and pattern= choose entities of a store or an RDF file, not of a table.")
    frames = list(read_chunks(spec.path))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if GEOMETRY not in frame.columns:
        if frame.empty:
            return _empty(spec.text)
        raise GeoKGError(f"{spec.path}: no geometry column; a CSV needs WKT in a column named geometry, wkt, WKT or geom.")
    unreadable = frame[GEOMETRY].isna()
    if unreadable.any():
        row = frame[unreadable].iloc[0]
        raise GeoKGError(f"{spec.path}, row {row[ROW]}: {row[GEOMETRY_PROBLEM]}; correct it or remove the row.")
    iris = _iris(frame, spec)
    shapes = frame[GEOMETRY].to_numpy(dtype=object)
    return Dataset(spec.text, iris, shapes, np.full(len(shapes), CRS84, dtype=object))


def _iris(frame: pd.DataFrame, spec: DatasetSpec) -> np.ndarray:
    """The entity IRIs of a table's rows (see the module doc); duplicates and bad IRIs are errors."""
    from mappings.readers import ROW

    column = spec.id_column or next((c for c in ("iri", "id") if c in frame.columns), None)
    if column is not None and column not in frame.columns:
        columns = ", ".join(c for c in frame.columns if not c.startswith("__") and c != "geometry")
        raise GeoKGError(f"{spec.path} has no column {column!r} for id=; its columns are {columns}.")
    ids = frame[column if column else ROW].astype(str)
    if ids.duplicated().any():
        raise GeoKGError(f"{spec.path}: the id {ids[ids.duplicated()].iloc[0]!r} (column {column}) names two rows; "
                         "give a column of distinct ids with id=COLUMN.")
    if spec.base is None and column and ids.str.match(_ABSOLUTE_IRI).all():
        iris = ids.tolist()
    else:
        base = spec.base if spec.base is not None else spec.path.absolute().as_uri() + "#"
        iris = [base + urllib.parse.quote(i, safe="") for i in ids]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as error:
            raise GeoKGError(f"{spec.path}: {iri!r} is not a valid IRI ({error}); give base=IRI or another id= column.") from None
    return np.array(iris, dtype=object)


# --- helpers -------------------------------------------------------------------------------------


def _reprojected(shapes: np.ndarray, source: str, target: str) -> np.ndarray:
    """Shapes moved between CRSs (2D: relations ignore z), vectorised over the array."""
    return apply_transformer(transformer(source, target), shapes, include_z=False)


def _empty(description: str) -> Dataset:
    empty = np.empty(0, dtype=object)
    return Dataset(description, empty, empty, empty)


def _empty_hint(spec: DatasetSpec) -> str:
    if spec.path is not None and not _is_rdf(spec.path):
        return "the file has no rows."
    selection = spec.selection
    if selection.pattern is not None:
        return "the pattern matched nothing; check it with `eekg query`."
    return ("check the IRIs given (instances are found by rdf:type) and that the entities have "
            "geo:hasGeometry (or geo:hasDefaultGeometry) with a geo:asWKT literal.")
