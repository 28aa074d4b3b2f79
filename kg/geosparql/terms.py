"""RDF terms in and out of the functions: numbers, IRIs, strings, booleans.

>>> number_of(Literal("2.5", datatype=NamedNode(XSD_DOUBLE)), "radius")
2.5
>>> iri_of(NamedNode("http://example.org/x"), "units")
'http://example.org/x'
"""

from __future__ import annotations

import math

from pyoxigraph import Literal, NamedNode

from kg.errors import InvalidGeometry
from kg.geosparql.vocab import XSD, XSD_ANY_URI, XSD_DOUBLE, XSD_STRING

TRUE = Literal(True)
FALSE = Literal(False)
ANY_URI = NamedNode(XSD_ANY_URI)
DOUBLE = NamedNode(XSD_DOUBLE)

_NUMERIC = {XSD + t for t in ("double", "float", "decimal", "integer", "int", "long", "short", "byte",
                                "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}


def boolean(value) -> Literal:
    return TRUE if value else FALSE


def double(value: float) -> Literal:
    return Literal(float(value))


def integer(value: int) -> Literal:
    return Literal(int(value))


def any_uri(iri: str) -> Literal:
    return Literal(iri, datatype=ANY_URI)


def _show(term) -> str:
    if type(term) is NamedNode:
        return f"<{term.value}>"
    if type(term) is Literal:
        return f'"{term.value[:100]}"^^<{term.datatype.value}>'
    return str(term)[:100]


def number_of(term, role: str) -> float:
    """A numeric literal's value; a type error naming ``role`` otherwise."""
    if type(term) is Literal and term.datatype.value in _NUMERIC:
        try:
            value = float(term.value)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    raise InvalidGeometry(f"the {role} must be a finite number (e.g. 10 or 2.5e3) but got {_show(term)}.")


def integer_of(term, role: str) -> int:
    value = number_of(term, role)
    if value != int(value):
        raise InvalidGeometry(f"the {role} must be an integer but got {_show(term)}.")
    return int(value)


def iri_of(term, role: str) -> str:
    """An IRI given as an IRI, an ``xsd:anyURI`` literal or a plain string."""
    if type(term) is NamedNode:
        return term.value
    if type(term) is Literal and term.datatype.value in (XSD_ANY_URI, XSD_STRING):
        return term.value.strip().strip("<>")
    raise InvalidGeometry(f"the {role} must be an IRI (e.g. <http://www.opengis.net/def/uom/OGC/1.0/metre>) but got {_show(term)}.")


def string_of(term, role: str) -> str:
    if type(term) is Literal:
        return term.value
    if type(term) is NamedNode:
        return term.value
    raise InvalidGeometry(f"the {role} must be a string but got {_show(term)}.")


def boolean_of(term, role: str) -> bool:
    if type(term) is Literal and term.datatype.value == XSD + "boolean":
        return term.value in ("true", "1")
    raise InvalidGeometry(f"the {role} must be a boolean (true or false) but got {_show(term)}.")
