"""SHACL validation of mapped records against the shapes, with the code lists mixed in.

>>> from rdflib import Graph
>>> data = Graph().parse(format="turtle", data='''
...     @prefix eo: <https://w3id.org/eekg/ont/eo#> .
...     <https://w3id.org/eekg/data/model/m/1> a eo:Model ; eo:modelName "m" .''')
>>> [v.message for v in validate(data)]
['A model needs exactly one non-empty eo:modelVersion (xsd:string).']
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node, which property and value, and the shape's message."""

    focus: str
    message: str
    path: str | None = None
    value: str | None = None
    severity: str = "Violation"
    shape: str | None = None  # the IRI of the shape that failed, when it has one


def validate(data: Graph | str, *, data_format: str = "turtle") -> list[Violation]:
    """Validate records (a graph, or RDF text in ``data_format``) against the shapes; [] when they conform.

    The shapes check code-list membership with ``skos:inScheme``, so those triples of the code lists
    are added to a copy of the data first (pyshacl's ``ont_graph`` would not do: it mixes in only
    RDFS/OWL axioms). The data itself is not changed.
    """
    import pyshacl  # imported here: loading it takes a second, and most users of the package never validate

    from ontologies import codelist_membership_graph, shapes_graph

    target = Graph()
    if isinstance(data, str):
        target.parse(data=data, format=data_format)
    else:
        target += data
    target += codelist_membership_graph()
    conforms, report, _ = pyshacl.validate(
        target, shacl_graph=shapes_graph(), inference="none", advanced=False, allow_warnings=True, inplace=True
    )
    if conforms:
        return []
    violations = []
    # Only the top-level results: a failed sh:node also reports its nested results (sh:detail).
    for result in report.objects(None, SH.result):
        shape = report.value(result, SH.sourceShape)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage)) or ["(no message)"]
        violations.append(
            Violation(
                focus=str(report.value(result, SH.focusNode)),
                message=messages[0],
                path=str(path) if isinstance(path, URIRef) else None,
                value=str(value) if value is not None else None,
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
                shape=str(shape) if isinstance(shape, URIRef) else None,
            )
        )
    return sorted(violations, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))
