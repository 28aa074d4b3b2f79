"""The function table: every GeoSPARQL 1.1 function and aggregate is registered, errors carry the
function's name, and through pyoxigraph a failure is recorded on the context instead of vanishing."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from geosparql_helpers import METRE, call, wkt

from kg.errors import InvalidGeometry, UnsupportedFeature
from kg.geosparql.context import EvaluationContext
from kg.geosparql.registry import AGGREGATES, FUNCTIONS, custom_aggregates, custom_functions
from kg.geosparql.vocab import GEO, GEOF

# GeoSPARQL 1.1 (OGC 22-047r1): 24 topological functions, relate, and the non-topological functions.
SPEC_FUNCTIONS = """
sfEquals sfDisjoint sfIntersects sfTouches sfCrosses sfWithin sfContains sfOverlaps
ehEquals ehDisjoint ehMeet ehOverlap ehCovers ehCoveredBy ehInside ehContains
rcc8eq rcc8dc rcc8ec rcc8po rcc8tppi rcc8tpp rcc8ntpp rcc8ntppi relate
area metricArea length metricLength perimeter metricPerimeter distance metricDistance buffer metricBuffer
boundary boundingCircle centroid concaveHull convexHull envelope intersection union difference symDifference transform
getSRID minX maxX minY maxY minZ maxZ numGeometries geometryN geometryType isEmpty isSimple is3D isMeasured
dimension coordinateDimension spatialDimension asWKT asGeoJSON asGML asKML asDGGS
""".split()
SPEC_AGGREGATES = "aggBoundingBox aggBoundingCircle aggCentroid aggConcaveHull aggConvexHull aggUnion".split()


def test_every_spec_function_and_aggregate_is_registered():
    assert sorted(FUNCTIONS) == sorted(GEOF + name for name in SPEC_FUNCTIONS)
    assert sorted(AGGREGATES) == sorted(GEOF + name for name in SPEC_AGGREGATES)
    assert len(custom_functions(EvaluationContext())) == 68
    assert all(isinstance(key, ox.NamedNode) for key in custom_aggregates(EvaluationContext()))


def test_wrong_number_of_arguments_is_named():
    with pytest.raises(InvalidGeometry, match=r"geof:distance: wrong number of arguments \(2 given\); expected 3"):
        call("distance", wkt("POINT(0 0)"), wkt("POINT(1 1)"))


def test_unit_must_be_an_iri():
    with pytest.raises(InvalidGeometry, match="geof:distance: the unit of measure must be an IRI"):
        call("distance", wkt("POINT(0 0)"), wkt("POINT(1 1)"), ox.Literal(3))
    assert call("distance", wkt("POINT(0 0)"), wkt("POINT(0 1)"), ox.Literal(METRE.value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI"))) > 0


def query(sparql: str):
    """Run through pyoxigraph as the store does; (rows, context)."""
    context = EvaluationContext()
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/f"), ox.NamedNode(GEO + "asWKT"), wkt("POINT(1 1)")))
    rows = list(
        store.query(
            sparql,
            prefixes={"geo": GEO, "geof": GEOF},
            custom_functions=custom_functions(context),
            custom_aggregate_functions=custom_aggregates(context),
        )
    )
    return rows, context


def test_malformed_literal_in_a_filter_is_recorded_not_lost():
    rows, context = query('SELECT ?f WHERE { ?f geo:asWKT ?w FILTER(geof:sfIntersects(?w, "POLYGON((0 0, 1 1"^^geo:wktLiteral)) }')
    assert rows == []  # pyoxigraph alone would answer nothing, silently
    with pytest.raises(InvalidGeometry, match='geof:sfIntersects: invalid WKT literal "POLYGON\\(\\(0 0, 1 1"'):
        context.raise_if_failed()


def test_type_errors_are_recorded():
    _, context = query('SELECT ?f WHERE { ?f geo:asWKT ?w FILTER(geof:sfIntersects(?w, "POINT(1 1)")) }')
    with pytest.raises(InvalidGeometry, match="plain string \"POINT\\(1 1\\)\". Add \\^\\^geo:wktLiteral"):
        context.raise_if_failed()


def test_unsupported_features_are_recorded():
    _, context = query('SELECT (geof:asDGGS(?w, geo:auspixDggsLiteral) AS ?d) WHERE { ?f geo:asWKT ?w }')
    with pytest.raises(UnsupportedFeature, match="geof:asDGGS"):
        context.raise_if_failed()


def test_custom_functions_override_the_native_ones():
    # pyoxigraph's native geof:distance answers nothing; ours answers metres
    rows, context = query('SELECT (geof:distance(?w, "POINT(1 2)"^^geo:wktLiteral, <http://www.opengis.net/def/uom/OGC/1.0/metre>) AS ?d) WHERE { ?f geo:asWKT ?w }')
    context.raise_if_failed()
    assert float(rows[0]["d"].value) == pytest.approx(110575, rel=1e-3)


def test_per_call_overhead_is_small():
    import time

    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    store.extend(
        ox.Quad(ox.NamedNode(f"http://example.org/{i}"), p, wkt(f"POLYGON(({i % 80} 0, {i % 80 + 1.5} 0, {i % 80 + 1.5} 1, {i % 80} 1, {i % 80} 0))"))
        for i in range(10_000)
    )
    sparql = 'SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/p> ?w FILTER(geof:sfIntersects(?w, "POLYGON((10 0, 11 0, 11 1, 10 1, 10 0))"^^geo:wktLiteral)) }'
    context = EvaluationContext()
    functions = custom_functions(context)
    store.query(sparql, prefixes={"geo": GEO, "geof": GEOF}, custom_functions=functions)  # warm the parse cache
    started = time.perf_counter()
    (row,) = store.query(sparql, prefixes={"geo": GEO, "geof": GEOF}, custom_functions=functions)
    per_row = (time.perf_counter() - started) / 10_000
    assert int(row["n"].value) == 375
    assert per_row < 30e-6  # about 4 us on the reference machine
