"""The Spark store against the embedded store on the planner's differential tests.

The data and the query generators are those of ``tests/kg/geosparql/test_planner_differential.py``
(edge-sharing hexagons, boxes inside boxes, points on vertices, lines along edges, CRS84, EPSG:4326,
EPSG:3857 and GeoJSON literals, named graphs, stored topology triples): spatial selections and
joins for every relation, DE-9IM patterns, distances and buffers, spatial filters in every place a
query can hold one, topology properties as triple patterns, and the queries that must fail. The
Spark store must give the embedded store's answer (rows as multisets, lists under ORDER BY, the
boolean of an ASK, or the same kind of error); it supports every query these tests ask.

Fewer examples than the planner's tests draw (a Spark query costs about half a second).
"""

from __future__ import annotations

from string import Template

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import GeoKGError, UnsupportedFeature
from tests.kg.geosparql import test_planner_differential as planner
from tests.kg.spark.test_stores_agree import normalised

FEW = settings(planner.SETTINGS, max_examples=2)


def outcome(store, query: str, ordered: bool):
    try:
        result = store.query(planner.HEADER + query)
        if result.form == "ASK":
            return result.boolean()
        rows = [tuple(sorted((name, normalised(term)) for name, term in row.items())) for row in result.bindings()]
        return rows if ordered else sorted(rows)
    except UnsupportedFeature:  # not an answer to compare
        raise
    except GeoKGError as error:
        return type(error).__name__


def assert_agree(stores, query: str, *, ordered: bool = False):
    embedded, spark = stores
    expected = outcome(embedded, query, ordered)
    got = outcome(spark, query, ordered)
    assert got == expected, f"Spark and embedded answers differ for\n{query}\n{planner.difference(got, expected)}"
    return expected


@pytest.mark.parametrize("relation", planner.NAMES)
@FEW
@given(constant=planner.constants(), constant_first=st.booleans(), group=st.sampled_from(planner.SELECTION_GROUPS))
def test_topological_selection(planner_stores, relation, constant, constant_first, group):
    filter = f"FILTER({planner.call(relation, '?g', constant, constant_first)})"
    assert_agree(planner_stores, group.substitute(filter=filter))


@FEW
@given(constant=planner.constants(), constant_first=st.booleans(), pattern=planner.patterns,
       group=st.sampled_from(planner.SELECTION_GROUPS))
def test_relate_selection(planner_stores, constant, constant_first, pattern, group):
    filter = f'FILTER({planner.call("relate", "?g", constant, constant_first, repr(pattern))})'
    assert_agree(planner_stores, group.substitute(filter=filter))


@settings(planner.SETTINGS, max_examples=6)
@given(data=st.data(), constant_first=st.booleans(), unit=st.sampled_from(("metre", "degree")),
       comparison=st.sampled_from(planner.COMPARISONS))
def test_distance_selection(planner_stores, data, constant_first, unit, comparison):
    degree = unit == "degree"
    constant = data.draw(planner.constants(planner.UNPROJECTED if degree and constant_first else planner.CONSTANT_FORMS))
    group = data.draw(st.sampled_from(planner.DEGREE_GROUPS if degree and not constant_first else planner.SELECTION_GROUPS))
    d = data.draw(planner.degrees if degree else planner.metres)
    expression = Template(comparison).substitute(distance=planner.call("distance", "?g", constant, constant_first, f"uom:{unit}"), d=d)
    assert_agree(planner_stores, group.substitute(filter=f"FILTER({expression})"))


@settings(planner.SETTINGS, max_examples=4)
@given(constant=planner.constants(), radius=st.floats(0, 800).map(lambda d: round(d, 1)),
       relation=st.sampled_from(("sfWithin", "sfIntersects", "sfContains", "ehCoveredBy")),
       constant_first=st.booleans(), group=st.sampled_from(planner.SELECTION_GROUPS))
def test_buffer_selection(planner_stores, constant, radius, relation, constant_first, group):
    buffered = f"geof:buffer({constant}, {radius}, uom:metre)"
    assert_agree(planner_stores, group.substitute(filter=f"FILTER({planner.call(relation, '?g', buffered, constant_first)})"))


@pytest.mark.parametrize("relation", planner.NAMES)
@settings(planner.SETTINGS, max_examples=1)
@given(sides=planner.join_sides(), swap=st.booleans(), **planner.join_options)
def test_topological_join(planner_stores, relation, sides, swap, shape, conjunct, separate):
    spatial = f"geof:{relation}(?g2, ?g1)" if swap else f"geof:{relation}(?g1, ?g2)"
    assert_agree(planner_stores, planner.join_query(shape, *sides, spatial, conjunct, separate))


@settings(planner.SETTINGS, max_examples=4)
@given(data=st.data(), unit=st.sampled_from(("metre", "degree")), comparison=st.sampled_from(planner.COMPARISONS),
       **planner.join_options)
def test_distance_join(planner_stores, data, unit, comparison, shape, conjunct, separate):
    sides = (data.draw(st.sampled_from(planner.NO_3857_SIDES)), data.draw(st.sampled_from(planner.NO_3857_SIDES[:2])))
    d = data.draw(planner.degrees if unit == "degree" else planner.metres.map(lambda m: m / 5))
    spatial = Template(comparison).substitute(distance=f"geof:distance(?g1, ?g2, uom:{unit})", d=d)
    assert_agree(planner_stores, planner.join_query(shape, *sides, spatial, conjunct, separate))


def test_the_empty_geometry_is_counted(planner_stores):
    assert planner_stores[1].manifest.empty_geometries == 1  # so joins look for pairs of empty geometries


def test_joins_and_selections_find_something(planner_stores):
    left, right = planner.SIDES[1], planner.SIDES[0]
    for spatial in ("geof:sfTouches(?g1, ?g2)", "geof:sfEquals(?g1, ?g2)", "geof:distance(?g1, ?g2, uom:metre) < 100"):
        assert assert_agree(planner_stores, planner.join_query(planner.JOIN_SHAPES[0], left, right, spatial, "?a != ?b", False))


@pytest.mark.parametrize("place", [*planner.PLACES, *planner.ORDERED])
@settings(planner.SETTINGS, max_examples=1)
@given(relations=st.tuples(st.sampled_from(planner.BALANCED), st.sampled_from(planner.NAMES)),
       constants=st.tuples(planner.constants(), planner.constants()), d=planner.metres)
def test_spatial_filter_in_place(planner_stores, place, relations, constants, d):
    text = planner.PLACES.get(place) or planner.ORDERED[place]
    query = Template(text).substitute(R=relations[0], R2=relations[1], C=constants[0], C2=constants[1], D=d)
    assert_agree(planner_stores, query, ordered=place in planner.ORDERED)


@pytest.mark.parametrize("query", planner.ERRORS)
def test_errors_agree(planner_stores, query):
    embedded, spark = planner_stores
    failed = outcome(embedded, query, False)
    assert isinstance(failed, str) and outcome(spark, query, False) == failed


@pytest.mark.parametrize("prop", ("sfIntersects", "sfWithin", "ehCovers", "sfTouches", "rcc8ntpp"))
@settings(planner.SETTINGS, max_examples=2)
@given(query=st.sampled_from(planner.CONSTANT_END), feature=planner.FEATURE_NAMES, other=planner.FEATURE_NAMES)
def test_topology_property_with_a_constant(planner_stores, prop, query, feature, other):
    assert_agree(planner_stores, Template(query[0]).substitute(P=prop, F=feature, F2=other))


@pytest.mark.parametrize(("prop", "query"), [("sfTouches", planner.BOTH_VARIABLES[0]), ("ehCovers", planner.BOTH_VARIABLES[6])])
def test_topology_property_between_variables(planner_stores, prop, query):
    assert assert_agree(planner_stores, Template(query[0]).substitute(P=prop))
