"""Shared helpers for the GeoSPARQL function tests: literal builders and a function caller."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode

from kg.geosparql.registry import AGGREGATES, FUNCTIONS
from kg.geosparql.vocab import GEO, GEOF, QUDT_UNIT, UOM

METRE = NamedNode(UOM + "metre")
DEGREE = NamedNode(UOM + "degree")
RADIAN = NamedNode(UOM + "radian")
KILOMETRE = NamedNode(QUDT_UNIT + "KiloM")
HECTARE = NamedNode(QUDT_UNIT + "HA")
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def wkt(text: str, crs: str | None = None) -> Literal:
    return Literal(f"<{crs}> {text}" if crs else text, datatype=NamedNode(GEO + "wktLiteral"))


def geojson(text: str) -> Literal:
    return Literal(text, datatype=NamedNode(GEO + "geoJSONLiteral"))


def gml(text: str) -> Literal:
    return Literal(text, datatype=NamedNode(GEO + "gmlLiteral"))


def kml(text: str) -> Literal:
    return Literal(text, datatype=NamedNode(GEO + "kmlLiteral"))


def num(value: float) -> Literal:
    return Literal(float(value))


def call(name: str, *args):
    """Call geof:name with RDF terms; the answer as a Python value (bool, float, int, str) or None."""
    term = FUNCTIONS[GEOF + name](*args)
    if term is None:
        return None
    if isinstance(term, Literal):
        datatype = term.datatype.value
        if datatype.endswith("#boolean"):
            return term.value == "true"
        if datatype.endswith("#double"):
            return float(term.value)
        if datatype.endswith("#integer"):
            return int(term.value)
    return term.value


def call_term(name: str, *args):
    return FUNCTIONS[GEOF + name](*args)


def aggregate(name: str, *terms):
    accumulator = AGGREGATES[GEOF + name]()
    for term in terms:
        accumulator.accumulate(term)
    return accumulator.finish()

