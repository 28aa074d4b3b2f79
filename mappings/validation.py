"""SHACL validation of mapped records, naming the input row of each invalid one.

While validating, the runner tags every subject with ``eekgfn:sourceRow``; a violation's focus
node leads back to its row. A record (every subject made from that row) is left out if any of
its subjects violates a shape; the tags themselves are never loaded.
"""

from __future__ import annotations

from collections import defaultdict

import pyshacl
import rdflib
from rdflib.namespace import SH

from mappings.plan import SOURCE_ROW
from ontologies import codelists_graph, shapes_graph

_SOURCE_ROW = f"<{SOURCE_ROW}>"


def validate_records(lines: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The lines of valid records (untagged), and (row, reason) for every invalid row."""
    data = rdflib.Graph()
    data.parse(data="".join(lines), format="nt")
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes_graph(), ont_graph=codelists_graph(), inference="none", allow_warnings=True
    )
    rows_of = defaultdict(set)
    for subject, row in data.subject_objects(SOURCE_ROW):
        rows_of[subject].add(int(row))
    reasons: dict[int, str] = {}
    if not conforms:
        for result in report.subjects(SH.resultSeverity, SH.Violation):
            focus = report.value(result, SH.focusNode)
            reason = _reason(report, result, focus)
            for row in rows_of.get(focus, ()):
                reasons.setdefault(row, reason)
    bad_subjects = {s.n3() for s, rows in rows_of.items() if rows & reasons.keys()}
    kept = [line for line in lines if _SOURCE_ROW not in line and line.split(" ", 1)[0] not in bad_subjects]
    return kept, sorted(reasons.items())


def _reason(report: rdflib.Graph, result, focus) -> str:
    message = report.value(result, SH.resultMessage)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    text = str(message) if message is not None else str(report.value(result, SH.sourceConstraintComponent))
    where = f" ({_short(path)}" + (f" = {value}" if value is not None else "") + ")" if path is not None else ""
    return f"{text}{where} on {focus}"


def _short(iri) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
