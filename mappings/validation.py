"""SHACL validation of mapped records, naming the input row of each invalid one.

While validating, the runner tags every subject with ``eekgfn:sourceRow``; a violation's focus
node leads back to its row. A record (every subject made from that row) is left out if any of
its subjects violates a shape; a subject that several rows make (the model, the product) is left
out only when all of them are invalid. The tags themselves are never loaded.

The shapes check code-list membership with ``skos:inScheme``, so ``ontologies.validate`` adds the
code lists' membership triples to a copy of the data (pyshacl's ``ont_graph`` would not: it mixes
in only RDFS/OWL axioms, so every coded value would be reported unknown).
"""

from __future__ import annotations

from collections import defaultdict

import rdflib

from mappings.plan import SOURCE_ROW
from ontologies import validate

_SOURCE_ROW = f"<{SOURCE_ROW}>"


def validate_records(lines: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The lines of valid records (untagged), and (row, reason) for every invalid row."""
    data = rdflib.Graph()
    data.parse(data="".join(lines), format="nt")
    rows_of = defaultdict(set)
    for subject, row in data.subject_objects(SOURCE_ROW):
        rows_of[str(subject)].add(int(row))
    reasons: dict[int, list[str]] = defaultdict(list)
    for violation in validate(data):
        if violation.severity != "Violation":
            continue
        for row in rows_of.get(violation.focus, ()):
            if (reason := _reason(violation)) not in reasons[row]:
                reasons[row].append(reason)
    bad_subjects = {f"<{s}>" for s, rows in rows_of.items() if rows <= reasons.keys()}
    kept = [line for line in lines if _SOURCE_ROW not in line and line.split(" ", 1)[0] not in bad_subjects]
    return kept, sorted((row, "; ".join(texts)) for row, texts in reasons.items())


def _reason(violation) -> str:
    where = ""
    if violation.path is not None:
        where = f" ({_short(violation.path)}" + (f" = {violation.value}" if violation.value is not None else "") + ")"
    return f"{violation.message}{where} on <{violation.focus}>"


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
