"""Preparing an RML mapping for the runner: its functions become computed columns.

A mapping calls our functions with RML-FNML (``rml:functionExecution``). The runner computes
each call on whole columns (``mappings/functions.py``) and rewrites the mapping so that the term
map reads the computed column instead (``rml:reference "__fn_metricArea__geometry"``); morph-kgc
then executes plain RML. Every mapping reads the runner's input: ``rml:source "{input}"``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import rdflib
from rdflib import RDF, BNode, Literal, URIRef

from mappings.errors import MappingError
from mappings.functions import EEKGFN, FUNCTIONS, WKT_FUNCTIONS

RML = rdflib.Namespace("http://w3id.org/rml/")
INPUT = "{input}"
SOURCE_ROW = URIRef(EEKGFN + "sourceRow")  # added while validating: which input row made a subject
_TEMPLATE_REFERENCE = re.compile(r"(?<!\\)\{([^{}]+)\}")
_GEO = "http://www.opengis.net/ont/geosparql#"
WKT_DATATYPE = _GEO + "wktLiteral"
GEOMETRY_DATATYPES = {WKT_DATATYPE, _GEO + "geoJSONLiteral", _GEO + "gmlLiteral", _GEO + "kmlLiteral", _GEO + "dggsLiteral"}


@dataclass(frozen=True)
class Call:
    """One function call of the mapping, computed into ``column``."""

    column: str
    function: str
    arguments: tuple[tuple[str, str, str], ...]  # (parameter name, "reference"|"constant", value)

    def compute(self, chunk: pd.DataFrame) -> pd.Series:
        values = {
            name: chunk[value] if kind == "reference" else pd.Series([value] * len(chunk), dtype=object)
            for name, kind, value in self.arguments
        }
        return FUNCTIONS[self.function](**values)


@dataclass
class Plan:
    """A mapping ready to run: the rewritten RML (Turtle), its calls and the columns it reads.

    ``wkt_columns`` are read columns written as geo:wktLiteral, which the runner checks row by
    row; ``geometries_checked`` is False when some geometry literal escapes that check (GeoJSON,
    GML or KML columns, templates), and the store must then parse and check the output itself.
    """

    source: Path
    turtle: str
    calls: list[Call] = field(default_factory=list)
    references: set[str] = field(default_factory=set)  # every input column needed
    rml_columns: set[str] = field(default_factory=set)  # the ones morph-kgc reads (not only functions)
    wkt_columns: set[str] = field(default_factory=set)
    geometries_checked: bool = True

    def missing_columns(self, columns) -> list[str]:
        return sorted(self.references - set(columns))


def plan_mapping(path: Path, *, with_source_rows: bool = False) -> Plan:
    """Read an RML mapping (Turtle) and prepare it; ``with_source_rows`` tags subjects with their row."""
    path = Path(path)
    graph = rdflib.Graph()
    try:
        graph.parse(path, format="turtle")
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file.") from None
    except Exception as error:  # rdflib raises many parser exception types
        raise MappingError(f"{path}: not a valid Turtle RML mapping: {error}") from None
    triples_maps = set(graph.subjects(RML.logicalSource, None))
    if not triples_maps:
        raise MappingError(f"{path}: no triples map (nothing has an rml:logicalSource).")
    _check_sources(graph, triples_maps, path)
    calls = [_rewrite_call(graph, term_map, execution, path) for term_map, execution in
             list(graph.subject_objects(RML.functionExecution))]
    computed = {call.column for call in calls}
    rml_columns = {str(o) for o in graph.objects(None, RML.reference)} - computed
    for template in graph.objects(None, RML.template):
        rml_columns |= set(_TEMPLATE_REFERENCE.findall(str(template)))
    references = rml_columns | {value for call in calls for _, kind, value in call.arguments if kind == "reference"}
    wkt_columns, checked = _geometry_columns(graph, calls)
    if with_source_rows:
        for triples_map in triples_maps:
            _tag_with_row(graph, triples_map)
    return Plan(path, graph.serialize(format="turtle"), calls, references, rml_columns, wkt_columns, checked)


def _geometry_columns(graph: rdflib.Graph, calls: list[Call]) -> tuple[set[str], bool]:
    """Columns written as WKT literals that need checking, and whether all geometry literals are covered."""
    trusted = {call.column for call in calls if call.function in WKT_FUNCTIONS}
    columns, covered = set(), True
    for term_map, datatype in graph.subject_objects(RML.datatype):
        if str(datatype) not in GEOMETRY_DATATYPES:
            continue
        reference = graph.value(term_map, RML.reference)
        if str(datatype) == WKT_DATATYPE and reference is not None:
            if str(reference) not in trusted:
                columns.add(str(reference))
        else:
            covered = False
    return columns, covered


def _check_sources(graph: rdflib.Graph, triples_maps, path: Path) -> None:
    for triples_map in triples_maps:
        source = graph.value(graph.value(triples_map, RML.logicalSource), RML.source)
        if str(source) != INPUT:
            raise MappingError(
                f'{path}: the triples map {triples_map} reads {source!s}; mappings run by eekg read the input '
                f'given to them, written rml:source "{INPUT}".'
            )


def _rewrite_call(graph: rdflib.Graph, term_map, execution, path: Path) -> Call:
    function = graph.value(execution, RML.function)
    if str(function) not in FUNCTIONS:
        known = ", ".join(sorted(f.removeprefix(EEKGFN) for f in FUNCTIONS))
        raise MappingError(f"{path}: unknown function {function}; the runner provides eekgfn: {known}.")
    parameters = inspect.signature(FUNCTIONS[str(function)]).parameters
    arguments = []
    for given in graph.objects(execution, RML.input):
        name = str(graph.value(given, RML.parameter)).removeprefix(EEKGFN)
        value_map = graph.value(given, RML.inputValueMap)
        reference, constant = graph.value(value_map, RML.reference), graph.value(value_map, RML.constant)
        if name not in parameters:
            raise MappingError(f"{path}: {function} has no parameter eekgfn:{name}; it takes {list(parameters)}.")
        if reference is None and constant is None:
            raise MappingError(f"{path}: the input eekgfn:{name} of {function} needs an rml:reference or rml:constant.")
        arguments.append((name, "reference", str(reference)) if reference is not None else (name, "constant", str(constant)))
    missing = set(parameters) - {name for name, _, _ in arguments}
    if missing:
        raise MappingError(f"{path}: {function} is missing the inputs {sorted(missing)}.")
    arguments.sort()
    column = "__fn_" + str(function).removeprefix(EEKGFN) + "__" + "__".join(
        re.sub(r"\W", "_", value) for _, _, value in arguments)
    remove_tree(graph, execution)
    graph.remove((term_map, RML.functionExecution, execution))
    graph.remove((term_map, RML["return"], None))
    graph.add((term_map, RML.reference, Literal(column)))
    return Call(column, str(function), tuple(arguments))


def remove_tree(graph: rdflib.Graph, node) -> None:
    """Remove ``node``'s triples and, recursively, those of the blank nodes it leads to."""
    for _, predicate, value in list(graph.triples((node, None, None))):
        graph.remove((node, predicate, value))
        if isinstance(value, BNode):
            remove_tree(graph, value)


def _tag_with_row(graph: rdflib.Graph, triples_map) -> None:
    """subject eekgfn:sourceRow "row": lets validation name the input row of each record."""
    object_map, member = BNode(), BNode()
    graph.add((triples_map, RML.predicateObjectMap, member))
    graph.add((member, RML.predicate, SOURCE_ROW))
    graph.add((member, RML.objectMap, object_map))
    graph.add((object_map, RML.reference, Literal("__row")))
    graph.add((object_map, RDF.type, RML.ObjectMap))
