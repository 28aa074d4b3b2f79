"""How the federation gathers: steps in order of estimated size, bind joins sending VALUES batches,
hash joins, and spatial bind joins; seen in the report of the sub-queries sent."""

from __future__ import annotations

import numpy as np
from federation_support import PREFIXES

from federation.gather import kd_cells


def _rows(result) -> set:
    return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in result.bindings()}


def test_smallest_step_first_then_bind_join_then_hash_join(federation, reference):
    """Cereal crops (4, at local) first; fields of those crops by a bind join (VALUES ?c, at every
    source holding ex:crop); owners (34, fewer than the fields gathered) by a hash join."""
    query = PREFIXES + "SELECT ?f ?o { ?c skos:broader <http://example.org/crop/cereal> . ?f ex:crop ?c . ?f ex:owner ?o }"
    answer = federation.query(query)
    assert _rows(answer) == _rows(reference.query(query)) and len(_rows(answer)) == 27
    steps = [(f.join, f.source, f.sparql.split("\n")[1].strip()) for f in answer.report.fetched]
    assert steps[0] == ("scan", "local", "?c <http://www.w3.org/2004/02/skos/core#broader> <http://example.org/crop/cereal> .")
    crops = [s for s in steps if "ex.org" not in s[2] and "example.org/crop>" in s[2]]
    assert {s[1] for s in crops} == {"oxigraph", "eekg", "local"} and {s[0] for s in crops} == {"bind"}
    assert all("VALUES (?c) { (<http://example.org/crop/" in f.sparql for f in answer.report.fetched if f.join == "bind")
    assert steps[-1] == ("scan", "local", "?f <http://example.org/owner> ?o .")


def test_bind_joins_send_values_in_batches(federation, reference, monkeypatch):
    import federation.gather as gather

    monkeypatch.setattr(gather, "BIND_BATCH", 10)
    query = PREFIXES + "SELECT ?f ?c { ?f ex:owner ?o . ?f ex:crop ?c }"
    answer = federation.query(query)
    assert _rows(answer) == _rows(reference.query(query))
    binds = [f for f in answer.report.fetched if f.join == "bind" and f.source == "oxigraph"]
    assert len(binds) == 4  # 34 owners' fields, 10 a batch
    assert sorted(f.sparql.count(") (") + 1 for f in binds) == [4, 10, 10, 10]


def test_spatial_join_across_sources_sends_boxes_as_each_source_can_take_them(federation, reference):
    query = PREFIXES + ("SELECT ?p ?f { ?p a ex:SurveyPoint ; ex:observed ?c ; geo:hasGeometry/geo:asWKT ?pg . "
                        "?f ex:crop ?c2 ; geo:hasGeometry/geo:asWKT ?fg FILTER(geof:distance(?pg, ?fg, uom:metre) <= 300) }")
    answer = federation.query(query)
    assert _rows(answer) == _rows(reference.query(query)) and _rows(answer)
    spatial = [f for f in answer.report.fetched if f.join == "spatial"]
    assert {f.source for f in spatial} == {"oxigraph", "eekg"}
    ours = [f.sparql for f in spatial if f.source == "eekg"]
    assert all("UNION" in q and "geosparql/sfIntersects>(?fg" in q for q in ours)  # one branch per cell of boxes
    theirs = [f.sparql for f in spatial if f.source == "oxigraph"]
    assert all("UNION" not in q and 'STRSTARTS(STR(?fg), "<")' in q for q in theirs)  # one box pre-filter a sub-query


def test_cells_are_compact_and_keep_every_box():
    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 10, (1000, 2))
    boxes = np.hstack([centres, centres + 0.01])
    cells = kd_cells(boxes, 8)
    assert sum(len(c) for c in cells) == 1000 and max(len(c) for c in cells) <= 8
    assert np.array_equal(np.sort(np.concatenate(cells), axis=0), np.sort(boxes, axis=0))
    areas = [np.ptp(c[:, 0]) * np.ptp(c[:, 1]) for c in cells]
    assert np.mean(areas) < 100 / len(cells)  # no bigger than their share of the 10 x 10 area: compact
