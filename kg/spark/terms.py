"""RDF terms as N-Triples strings: the one form every Parquet column and every query column holds.

An IRI is ``<...>``, a blank node ``_:...``, a literal ``"..."``, ``"..."@lang`` or
``"..."^^<datatype>``, exactly as pyoxigraph writes them, so term equality is string equality.
The default graph is the empty string in the ``g`` columns.

>>> from pyoxigraph import Literal, NamedNode
>>> text = term_text(Literal("5", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
>>> text
'"5"^^<http://www.w3.org/2001/XMLSchema#integer>'
>>> parse_terms([text, None, "<http://ex.org/a>"])[2].value
'http://ex.org/a'
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

DEFAULT_GRAPH = ""
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC_DATATYPES = tuple(
    XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
                      "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")
)


def term_text(term) -> str:
    """The N-Triples form of a pyoxigraph term (``DefaultGraph`` is the empty string)."""
    return DEFAULT_GRAPH if isinstance(term, ox.DefaultGraph) else str(term)


def parse_terms(texts: Sequence[str | None]) -> list:
    """pyoxigraph terms of N-Triples term strings (None stays None), parsed together in one go."""
    lines, positions = [], []
    for position, text in enumerate(texts):
        if text:
            lines.append(f"<urn:s> <urn:p> {text} .\n")
            positions.append(position)
    out: list = [None] * len(texts)
    if lines:
        for position, quad in zip(positions, ox.parse("".join(lines).encode(), ox.RdfFormat.N_TRIPLES)):
            out[position] = quad.object
    return out

