"""The spatial planner: which query shapes it answers from the index, and how it hands them back.

Answers against naive evaluation on random data are in test_planner_differential.py; here each
recognised shape is checked to be planned (its step is reported, its text changed), each shape it
must leave alone to be left as written, and the hand-back forms to give naive evaluation's rows.
"""

from __future__ import annotations

import pytest

from kg.embedded import EmbeddedStore
from kg.errors import UnsupportedFeature
from kg.geosparql.planner import plan
from kg.geosparql.rewrite import expand_topology

GEO = "http://www.opengis.net/ont/geosparql#"
PREFIX = "PREFIX ex: <http://ex.org/> "
WINDOW = '"POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))"^^geo:wktLiteral'
FEATURE = "?f geo:hasDefaultGeometry ?x . ?x geo:asWKT ?g ."


def _square(x: float, y: float, size: float = 1.0) -> str:
    return f"POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


@pytest.fixture(scope="module")
def store():
    """A 10 x 10 grid of unit squares (neighbours touch), classes by column parity, and points."""
    lines = []
    for i in range(10):
        for j in range(10):
            f, g = f"<http://ex.org/f{i}_{j}>", f"<http://ex.org/g{i}_{j}>"
            lines += [
                f"{f} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex.org/{'Even' if i % 2 == 0 else 'Odd'}> .",
                f"{f} <{GEO}hasDefaultGeometry> {g} .",
                f'{g} <{GEO}asWKT> "{_square(i, j)}"^^<{GEO}wktLiteral> .',
                f'<http://ex.org/p{i}_{j}> <{GEO}asWKT> "POINT({i + 0.5} {j + 0.5})"^^<{GEO}wktLiteral> .',
            ]
    lines.append(f"<http://ex.org/f0_0> <{GEO}sfContains> <http://ex.org/f9_9> .")  # stored, not derivable
    s = EmbeddedStore()
    s.load_data(("\n".join(lines) + "\n").encode(), "ntriples")
    return s


def _planned(store, sparql):
    return plan(expand_topology(sparql), store.spatial_index, lambda text: store._rows(text, {}))


def _rows(result):
    return sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in result.bindings())


def _same_as_naive(store, sparql):
    planned, naive = _rows(store.query(sparql)), _rows(store.query(sparql, naive=True))
    assert planned == naive
    return planned


@pytest.mark.parametrize(
    "condition, step",
    [
        (f"geof:sfIntersects(?g, {WINDOW})", "selection sfIntersects"),
        (f"geof:sfContains({WINDOW}, ?g)", "selection sfContains"),
        (f'geof:relate(?g, {WINDOW}, "T*F**F***")', "selection relate"),
        (f'geof:distance(?g, {WINDOW}, uom:metre) < 50000', "distance selection"),
        (f'100000 >= geof:distance({WINDOW}, ?g, uom:metre)', "distance selection"),
        (f"geof:sfWithin(?g, geof:buffer({WINDOW}, 1000, uom:metre))", "selection sfWithin"),
        (f"?f != ex:f0_0 && geof:ehInside(?g, {WINDOW})", "selection ehInside"),
    ],
)
def test_selections_are_planned(store, condition, step):
    sparql = f"{PREFIX}SELECT ?f {{ {FEATURE} FILTER({condition}) }}"
    planned = _planned(store, sparql)
    assert planned.steps and planned.steps[0].startswith(step)
    assert "VALUES ?g" in planned.sparql
    assert _same_as_naive(store, sparql)


def test_joins_are_planned_with_thematic_sides(store):
    sparql = (
        f"{PREFIX}SELECT ?a ?b {{ ?a a ex:Even ; geo:hasDefaultGeometry ?ag . ?ag geo:asWKT ?ga . "
        "?b a ex:Odd ; geo:hasDefaultGeometry ?bg . ?bg geo:asWKT ?gb . FILTER(?a != ?b && geof:sfTouches(?ga, ?gb)) }"
    )
    planned = _planned(store, sparql)
    # 9 pairs of neighbouring columns, each with 10 shared edges and 2 x 9 shared corners
    assert planned.steps == ["join sfTouches(?ga, ?gb): 252 pairs"]
    # the sides' patterns left the query: their rows (?a, ?b) came back in the keyed tables
    assert "?a a ex:Even" not in planned.sparql and "<http://ex.org/f0_0>)" in planned.sparql
    assert len(_same_as_naive(store, sparql)) == 252


@pytest.fixture(scope="module")
def labelled(store):
    """The grid again, with labels (a language tag, quotes, a line break) and blank-node geometries
    for the odd columns."""
    lines = []
    for i in range(4):
        for j in range(4):
            f = f"<http://ex.org/f{i}_{j}>"
            g = f"_:g{i}_{j}" if i % 2 else f"<http://ex.org/g{i}_{j}>"
            lines += [
                f"{f} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex.org/{'Even' if i % 2 == 0 else 'Odd'}> .",
                f"{f} <{GEO}hasDefaultGeometry> {g} .",
                f'{g} <{GEO}asWKT> "{_square(i, j)}"^^<{GEO}wktLiteral> .',
                f'{f} <http://www.w3.org/2000/01/rdf-schema#label> "field \\"{i}\\"\\n{j}"@de-AT .',
            ]
    s = EmbeddedStore()
    s.load_data(("\n".join(lines) + "\n").encode(), "ntriples")
    return s


@pytest.mark.parametrize(
    "select, where, tables",
    [
        # a side's variables used elsewhere (projected, in an OPTIONAL, in another filter) come back
        ("?a ?l ?ga ?b", "?a rdfs:label ?l .", "rows, rows"),
        ("?a ?b ?n", "{ ?b rdfs:label ?n } FILTER(STRLEN(?l) > 0) ?a rdfs:label ?l .", "rows, rows"),
        # an OPTIONAL: element order matters, so the patterns stay where they are
        ("?a ?b ?n", "OPTIONAL { ?b rdfs:label ?n } ?a rdfs:label ?l .", "literals, literals"),
        # SELECT *: every variable, so the odd side's blank-node geometries keep its patterns
        ("*", "?a rdfs:label ?l .", "rows, literals"),
    ],
)
def test_join_sides_hand_back_their_rows(labelled, select, where, tables):
    sparql = (
        f"{PREFIX}SELECT {select} {{ {where} ?a a ex:Even ; geo:hasDefaultGeometry ?ag . ?ag geo:asWKT ?ga . "
        "?b a ex:Odd ; geo:hasDefaultGeometry ?bg . ?bg geo:asWKT ?gb . FILTER(geof:sfTouches(?ga, ?gb)) }"
    )
    planned = _planned(labelled, sparql)
    assert planned.steps == ["join sfTouches(?ga, ?gb): 30 pairs"]
    forms = ["literals" if f"VALUES (?eekg_pair_1_{k} ?g{k})" in planned.sparql else "rows" for k in "ab"]
    assert ", ".join(forms) == tables
    assert len(_same_as_naive(labelled, sparql)) == 30


def test_joins_across_graph_blocks_and_distance_joins(store):
    other = EmbeddedStore()
    other.load_data(store.dump("ntriples"), "ntriples", graph="http://ex.org/a")
    other.load_data(store.dump("ntriples"), "ntriples", graph="http://ex.org/b")
    sparql = (
        f"{PREFIX}SELECT ?a ?b {{ GRAPH ex:a {{ ?a a ex:Even ; geo:hasDefaultGeometry/geo:asWKT ?ga }} "
        "GRAPH ex:b { ?b geo:asWKT ?gb } FILTER(geof:distance(?ga, ?gb, uom:metre) <= 1000) }"
    )
    assert _planned(other, sparql).steps[0].startswith("distance join")
    assert len(_same_as_naive(other, sparql)) == 442
    within = sparql.replace("geof:distance(?ga, ?gb, uom:metre) <= 1000", "geof:sfWithin(?gb, ?ga)")
    assert _planned(other, within).steps[0].startswith("join sfWithin")
    assert len(_same_as_naive(other, within)) == 100


def test_topology_triple_patterns_use_stored_and_derived_relations(store):
    sparql = f"{PREFIX}SELECT ?b {{ ex:f0_0 geo:sfContains ?b }}"
    # stored (f9_9, not derivable) and derived: the feature itself, its geometry, the point inside
    assert {row[0][1] for row in _same_as_naive(store, sparql)} == {
        "<http://ex.org/f9_9>", "<http://ex.org/f0_0>", "<http://ex.org/g0_0>", "<http://ex.org/p0_0>"}
    touching = _same_as_naive(store, f"{PREFIX}SELECT ?b {{ ex:f0_0 geo:sfTouches ?b }}")
    assert {row[0][1] for row in touching} == {f"<http://ex.org/{k}{n}>" for k in "fg" for n in ("0_1", "1_0", "1_1")}
    assert store.query(f"{PREFIX}ASK {{ ex:f0_0 geo:sfTouches ex:f1_1 }}").boolean()
    assert not store.query(f"{PREFIX}ASK {{ ex:f0_0 geo:sfTouches ex:f5_5 }}").boolean()


@pytest.mark.parametrize(
    "where",
    [
        f"{FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW}) || ?f = ex:f9_9)",  # a disjunction
        f"{FEATURE} FILTER(!geof:sfIntersects(?g, {WINDOW}))",  # a negation
        f'BIND({WINDOW} AS ?w) {FEATURE} FILTER(geof:sfIntersects(?g, ?w))',  # a computed constant
        f'VALUES ?g {{ "POINT(1 1)"^^geo:wktLiteral }} FILTER(geof:sfIntersects(?g, {WINDOW}))',  # not a stored term
        f"{FEATURE} OPTIONAL {{ ?f ex:p ?h }} FILTER(geof:sfIntersects(?h, {WINDOW}))",  # bound elsewhere
    ],
)
def test_shapes_it_cannot_answer_run_as_written(store, where):
    sparql = f"{PREFIX}SELECT * {{ {where} }}"
    planned = _planned(store, sparql)
    assert planned.steps == [] and planned.sparql == sparql
    _same_as_naive(store, sparql)


@pytest.mark.parametrize(
    "where, before_first_statement",
    [
        (f"?f a ex:Even ; geo:hasDefaultGeometry/geo:asWKT ?g . OPTIONAL {{ ?f ex:p ?h }}", True),
        (f"OPTIONAL {{ ?f ex:p ?h }} ?f geo:hasDefaultGeometry/geo:asWKT ?g .", False),  # then at the end
        (f"BIND(1 AS ?one) ?f geo:hasDefaultGeometry/geo:asWKT ?g . OPTIONAL {{ ?f a ?c }}", False),
    ],
)
def test_values_go_before_the_statement_binding_them_unless_something_ordered_precedes_it(store, where, before_first_statement):
    sparql = f"{PREFIX}SELECT * {{ {where} FILTER(geof:sfIntersects(?g, {WINDOW})) }}"
    planned = _planned(store, sparql).sparql
    statement = planned.index("?f a ex:Even" if where.startswith("?f a") else "?f geo:hasDefaultGeometry")
    assert (planned.index("VALUES ?g") < statement) is before_first_statement
    assert _same_as_naive(store, sparql)


def test_text_it_does_not_follow_runs_as_written(store):
    sparql = f'{PREFIX}SELECT * {{ {FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW}) # "}}\n) }}'
    assert _same_as_naive(store, sparql)
    construct = f"{PREFIX}CONSTRUCT WHERE {{ ?x geo:asWKT ?g }}"
    assert _planned(store, construct).sparql == construct


def test_large_selections_become_a_membership_test(store, monkeypatch):
    monkeypatch.setattr("kg.geosparql.planner.VALUES_LIMIT", 10)
    monkeypatch.setattr("kg.geosparql.planner.WRAPPED_VALUES_LIMIT", 10)
    sparql = f"{PREFIX}SELECT ?f {{ {FEATURE} FILTER(geof:sfIntersects(?g, {WINDOW})) }}"
    planned = _planned(store, sparql)
    assert "VALUES" not in planned.sparql and "urn:eekg:planner:member" in planned.sparql
    assert len(_same_as_naive(store, sparql)) == 16


def test_nearest_neighbours(store):
    point = '"POINT(4.5 4.5)"^^geo:wktLiteral'
    rows = _rows(store.query(f"{PREFIX}SELECT ?f {{ ?f geo:asWKT ?g FILTER(eekg:nearest(?g, {point}, 3)) }}"))
    assert len(rows) == 3 and (("f", "<http://ex.org/p4_4>"),) in rows
    odd = f"{PREFIX}SELECT ?f {{ {FEATURE} ?f a ex:Odd FILTER(eekg:nearest(?g, {point}, 100, 60000, uom:metre)) }}"
    # among odd squares only (the thematic side first): the two beside the point's square, 55 km away
    assert _rows(store.query(odd)) == [(("f", "<http://ex.org/f3_4>"),), (("f", "<http://ex.org/f5_4>"),)]
    with pytest.raises(UnsupportedFeature, match="eekg:nearest"):
        store.query(f"{PREFIX}SELECT * {{ ?f geo:asWKT ?g FILTER(!eekg:nearest(?g, {point}, 3)) }}").bindings()


def test_topology_properties_in_property_and_object_lists(store):
    listed = f"{PREFIX}SELECT ?f ?b ?c {{ ?f a ex:Even ; geo:sfTouches ?b , ?c . ?b a ex:Odd . ?c a ex:Odd FILTER(?b != ?c) }}"
    separate = (f"{PREFIX}SELECT ?f ?b ?c {{ ?f a ex:Even . ?f geo:sfTouches ?b . ?f geo:sfTouches ?c . "
                "?b a ex:Odd . ?c a ex:Odd FILTER(?b != ?c) }")
    rows = _same_as_naive(store, listed)
    assert rows == _rows(store.query(separate)) and len(rows) > 0
