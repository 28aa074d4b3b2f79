"""Differential tests of the spatial query planner: planned answers equal naive ones.

``store.query(q)`` plans the query (``kg.geosparql.planner.plan``: spatial filters answered from the
spatial index); ``store.query(q, naive=True)`` evaluates every spatial filter row by row. Over random
data and random queries of every shape the planner meets, both must give the same rows as multisets
(bag semantics: each row is a sorted tuple of (variable, term) pairs), the same boolean for ASK, the
same order under a total ORDER BY, and the same kind of error when naive evaluation fails.

Data (``make_features``, seeded): about 220 features in a 2.5 x 4 km area of lattice coordinates,
so that relations are frequent: a grid of edge-sharing hexagons, copies of them with their vertices
in another order (sfEquals, different literal), literal duplicates, boxes (some sharing edges or
inside one another), points on hexagon vertices and elsewhere, lines along hexagon edges and
across, multi-geometries, an empty point. Each feature has a class (ex:A, ex:B, ex:C), an integer
tag, ``geo:hasGeometry`` and ``geo:hasDefaultGeometry``, and lives in the default graph or ex:g1 or
ex:g2 (some in two). Geometries are CRS84 WKT, WKT with the CRS84 IRI, EPSG:4326 WKT (latitude
first), GeoJSON, or both WKT and GeoJSON; EPSG:3857 WKT only for class ex:C (so that queries in
degrees can leave them out; over them naive evaluation fails, see ``test_errors_agree``). Some
features and geometries have stored topology triples (``ex:f1 geo:sfIntersects ex:f2``). One store in
memory; the on-disk store (another data set, loaded from a file) gets a sample of the queries.

Left out on purpose: a spatial function applied to a term that is not a geometry literal (e.g.
``geof:sfIntersects(?g, ?tag)``), where the planner documents that it answers while naive
evaluation fails the query.

Queries are drawn by hypothesis, derandomised (every run draws the same examples; raise
``EXAMPLES`` or drop ``derandomize`` in ``SETTINGS`` to explore further).

``eekg:nearest`` exists only planned, so it is checked against a brute-force reference; and
``test_recognised_shapes_are_planned`` checks that ``plan`` rewrites the shapes it must recognise.

About 10 s (20 s when the planner plans nothing). Marked ``slow`` and run only with ``-m slow``
(1.5 minutes): every topology property between two variables, which naive evaluation answers by
joining every pair of geometries.
"""

from __future__ import annotations

import random
from collections import Counter
from string import Template

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, serialize

from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError
from kg.geosparql.measurement import distance
from kg.geosparql.planner import plan
from kg.geosparql.rewrite import expand_topology
from kg.geosparql.topology import PATTERNS as TOPOLOGY_PATTERNS
from kg.geosparql.topology import PREDICATES, RELATIONS
from kg.geosparql.vocab import CRS84, EPSG_PREFIX, GEO, GEOJSON_LITERAL, UOM, WKT_LITERAL

EX = "http://example.org/planner#"
HEADER = f"PREFIX ex: <{EX}>\n"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
GRAPHS = (None, EX + "g1", EX + "g2")
CLASSES = ("A", "B", "C")
NAMES = tuple(RELATIONS)  # the 24 relation functions, also the topology property names
PATTERNS = ("T*F**F***", "T********", "FF*FF****", "****T****", "F***T****", "T*T***T**", "212101212",
            "0********", "1*T***T**", "TFFFTFFFT", "FT*******", "T*****FF*")
WKT, GEOJSON = NamedNode(WKT_LITERAL), NamedNode(GEOJSON_LITERAL)
METRE = NamedNode(UOM + "metre")
EPSG_3857, EPSG_4326 = EPSG_PREFIX + "3857", EPSG_PREFIX + "4326"
TO_3857 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)

SEED, DISK_SEED = 20240611, 7
STEP, ORIGIN = 0.0005, np.array([10.0, 50.0])  # degrees per lattice unit; the lattice's (0, 0)
HEX = 3  # hexagon half-height / 2, in lattice units: hexagons 4 * HEX wide

EXAMPLES = 10
# No shrinking: a failure already shows its query and the rows that differ, and shrinking examples
# that take a second each (topology properties evaluated naively) takes minutes.
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)


# --- data ------------------------------------------------------------------------------------


def lonlat(shape: shapely.Geometry) -> shapely.Geometry:
    """A lattice shape in CRS84 degrees (shared lattice vertices give identical coordinates)."""
    return shapely.transform(shape, lambda c: np.round(c * STEP + ORIGIN, 7))


def hexagon(cx: int, cy: int, start: int = 0, reverse: bool = False) -> shapely.Polygon:
    """A lattice hexagon; ``start``/``reverse`` write the same polygon with another vertex order."""
    s = HEX
    ring = [(cx - 2 * s, cy), (cx - s, cy + 2 * s), (cx + s, cy + 2 * s), (cx + 2 * s, cy), (cx + s, cy - 2 * s), (cx - s, cy - 2 * s)]
    ring = ring[start:] + ring[:start]
    return shapely.Polygon(ring[::-1] if reverse else ring)


def hex_centres() -> list[tuple[int, int]]:
    """Centres of a 6 x 5 tiling: neighbouring hexagons share an edge."""
    return [(3 * HEX * i, 4 * HEX * j + 2 * HEX * (i % 2)) for i in range(6) for j in range(5)]


def box(rng: random.Random, low: int = -4, high: int = 64, most: int = 20) -> shapely.Polygon:
    x, y = rng.randint(low, high), rng.randint(low, high)
    return shapely.box(x, y, x + rng.randint(1, most), y + rng.randint(1, most))


def lattice_shapes(rng: random.Random) -> list[tuple[str, shapely.Geometry]]:
    """(kind, lattice shape) for every feature but the duplicates; kinds say how a shape was made."""
    centres = hex_centres()
    vertices = sorted({xy for c in centres for xy in hexagon(*c).exterior.coords})
    shapes = [("hexagon", hexagon(*c)) for c in centres]
    shapes += [("hexagon copy", hexagon(*rng.choice(centres), rng.randint(1, 5), rng.random() < 0.5)) for _ in range(6)]
    boxes = [box(rng) for _ in range(50)]
    for b in boxes[:10]:  # a box inside another touching its edge, and a neighbour sharing an edge
        x0, y0, x1, y1 = map(int, b.bounds)
        boxes.append(shapely.box(x0, y0, max(x0 + 1, (x0 + x1) // 2), y1))
        boxes.append(shapely.box(x1, y0, x1 + rng.randint(1, 8), y0 + rng.randint(1, 8)))
    shapes += [("box", b) for b in boxes]
    shapes += [("vertex point", shapely.Point(rng.choice(vertices))) for _ in range(20)]
    shapes += [("point", shapely.Point(rng.randint(-4, 64), rng.randint(-4, 64))) for _ in range(30)]
    for _ in range(15):  # along one or two edges of a hexagon
        ring = list(hexagon(*rng.choice(centres)).exterior.coords)[:-1]
        i = rng.randrange(6)
        shapes.append(("edge line", shapely.LineString([ring[i], ring[(i + 1) % 6], ring[(i + 2) % 6]][: rng.randint(2, 3)])))
    for _ in range(25):
        points = [(rng.randint(-4, 64), rng.randint(-4, 64)) for _ in range(rng.randint(2, 4))]
        if len(set(points)) > 1:
            shapes.append(("line", shapely.LineString(points)))
    shapes += [("multipolygon", shapely.MultiPolygon([box(rng, most=6), box(rng, most=6)]).buffer(0)) for _ in range(4)]
    shapes += [("multipoint", shapely.MultiPoint([rng.choice(vertices), (rng.randint(0, 60), rng.randint(0, 60))])) for _ in range(4)]
    return shapes


def make_features(seed: int) -> list[dict]:
    """The features of one data set: IRI, class, tag, CRS84 shape, serialisation form, graphs."""
    rng = random.Random(seed)
    features = []
    for n, (kind, shape) in enumerate(lattice_shapes(rng)):
        cls = rng.choice(CLASSES)
        forms = ["wkt"] * 10 + ["crs84", "4326", "4326", "4326", "geojson", "geojson", "wkt+geojson"]
        form = rng.choice(forms + ["3857"] * 5 if cls == "C" else forms)
        graphs = [rng.choice(GRAPHS[:1] * 3 + GRAPHS[1:])]
        if rng.random() < 0.08:
            graphs.append(rng.choice([g for g in GRAPHS if g != graphs[0]]))
        features.append({"iri": f"{EX}f{n}", "kind": kind, "class": cls, "tag": rng.randint(0, 9),
                         "shape": lonlat(shape), "form": form, "graphs": tuple(graphs), "extra": rng.random() < 0.1})
    for n in range(8):  # the same literal again, under another feature and geometry node
        original = rng.choice(features)
        features.append({**original, "iri": f"{EX}dup{n}", "kind": "duplicate", "graphs": (rng.choice(GRAPHS),)})
    features.append({"iri": EX + "empty", "kind": "empty", "class": "A", "tag": 0, "shape": shapely.Point(),
                     "form": "wkt", "graphs": (None,), "extra": False})
    return features


def literals(shape: shapely.Geometry, form: str) -> list[Literal]:
    """The geometry literals of a CRS84 shape written in a form (one, or two for "wkt+geojson")."""
    if form == "wkt+geojson":
        return literals(shape, "wkt") + literals(shape, "geojson")
    if form == "geojson":
        return [Literal(shapely.to_geojson(shape), datatype=GEOJSON)]
    if form == "4326":
        return [Literal(f"<{EPSG_4326}> " + shapely.to_wkt(shapely.transform(shape, lambda c: c[:, ::-1]), rounding_precision=7), datatype=WKT)]
    if form == "3857":
        moved = shapely.transform(shape, lambda c: np.column_stack(TO_3857.transform(c[:, 0], c[:, 1])))
        return [Literal(f"<{EPSG_3857}> " + shapely.to_wkt(moved, rounding_precision=3), datatype=WKT)]
    text = shapely.to_wkt(shape, rounding_precision=7)
    return [Literal(f"<{CRS84}> {text}" if form == "crs84" else text, datatype=WKT)]


def property_of(literal: Literal) -> NamedNode:
    return NamedNode(GEO + ("asGeoJSON" if literal.datatype == GEOJSON else "asWKT"))


def feature_quads(feature: dict) -> list[Quad]:
    """A feature's triples in each of its graphs: class, tag, its geometry (default and plain), and
    for some an extra plain geometry (its centroid)."""
    f, geom = NamedNode(feature["iri"]), NamedNode(feature["iri"] + "/geom")
    triples = [(f, NamedNode(RDF_TYPE), NamedNode(EX + feature["class"])), (f, NamedNode(EX + "tag"), Literal(feature["tag"])),
               (f, NamedNode(GEO + "hasGeometry"), geom), (f, NamedNode(GEO + "hasDefaultGeometry"), geom)]
    triples += [(geom, property_of(lit), lit) for lit in literals(feature["shape"], feature["form"])]
    if feature["extra"]:
        centre = NamedNode(feature["iri"] + "/centre")
        triples += [(f, NamedNode(GEO + "hasGeometry"), centre), (centre, NamedNode(GEO + "asWKT"), literals(feature["shape"].centroid, "wkt")[0])]
    graphs = [NamedNode(g) if g else DefaultGraph() for g in feature["graphs"]]
    return [Quad(s, p, o, g) for g in graphs for s, p, o in triples]


def topology_quads(features: list[dict], rng: random.Random) -> list[Quad]:
    """Stored topology triples: between features and between their geometry nodes, mostly true
    ones (so that stored and derived answers overlap once derived ones exist), some arbitrary."""
    quads = []
    plain = [f for f in features if f["kind"] != "empty"]
    while len(quads) < 80:
        a, b = rng.choice(plain), rng.choice(plain)
        name = rng.choice(NAMES)
        holds = RELATIONS[name](literals(a["shape"], "wkt")[0], literals(b["shape"], "wkt")[0]).value == "true"
        if holds or rng.random() < 0.15:
            suffix = "/geom" if rng.random() < 0.15 else ""
            graph = NamedNode(EX + "g1") if rng.random() < 0.2 else DefaultGraph()
            quads.append(Quad(NamedNode(a["iri"] + suffix), NamedNode(GEO + name), NamedNode(b["iri"] + suffix), graph))
    return quads


def dataset(seed: int) -> bytes:
    """The N-Quads of one random data set."""
    features = make_features(seed)
    quads = [q for f in features for q in feature_quads(f)] + topology_quads(features, random.Random(seed + 1))
    return serialize(quads, format=RdfFormat.N_QUADS)


FEATURES = make_features(SEED)


@pytest.fixture(scope="module")
def store():
    store = EmbeddedStore()
    store.load_data(dataset(SEED), "nquads")
    return store


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory):
    """The one on-disk store, loaded from a file with another data set."""
    folder = tmp_path_factory.mktemp("planner")
    data = folder / "data.nq"
    data.write_bytes(dataset(DISK_SEED))
    store = EmbeddedStore(folder / "store")
    store.load([data])
    yield store
    store.close()


# --- comparing answers -----------------------------------------------------------------------


def answer(store, query: str, *, naive: bool, ordered: bool = False):
    """A query's answer as a comparable value: the rows (sorted unless ``ordered``), or the boolean of an ASK."""
    result = store.query(HEADER + query, naive=naive)
    if result.form == "ASK":
        return result.boolean()
    rows = [tuple(sorted((name, str(term)) for name, term in row.items())) for row in result.bindings()]
    return rows if ordered else sorted(rows)


def assert_same_answers(store, query: str, *, ordered: bool = False):
    """Planned and naive answers are equal; returns the naive one. A naive error fails the test (the
    query is wrong); a planned error is a planner bug."""
    expected = answer(store, query, naive=True, ordered=ordered)
    got = answer(store, query, naive=False, ordered=ordered)
    if got != expected:
        raise AssertionError(f"planned and naive answers differ for\n{query}\n{difference(got, expected)}")
    return expected


def difference(got, expected) -> str:
    if isinstance(got, bool) or isinstance(expected, bool):
        return f"planned {got}, naive {expected}"
    missing, extra = Counter(expected) - Counter(got), Counter(got) - Counter(expected)
    if not missing and not extra:
        return f"same rows in another order: planned {got[:5]} ..., naive {expected[:5]} ..."
    lines = [f"{len(got)} planned rows, {len(expected)} naive rows"]
    lines += [f"  missing x{n}: {row}" for row, n in list(missing.items())[:5]]
    lines += [f"  extra x{n}: {row}" for row, n in list(extra.items())[:5]]
    return "\n".join(lines)


def outcome(store, query: str, *, naive: bool):
    """The answer, or the class of the error the store raised."""
    try:
        return answer(store, query, naive=naive)
    except GeoKGError as error:
        return type(error).__name__


# --- random constants ------------------------------------------------------------------------

CONSTANT_FORMS = ("wkt", "crs84", "4326", "3857", "geojson")
UNPROJECTED = ("wkt", "crs84", "4326", "geojson")  # constants that angular units accept
lattice = st.integers(-6, 66)


@st.composite
def shapes_near_the_data(draw) -> shapely.Geometry:
    """A random CRS84 shape near the data: lattice points, boxes, lines, hexagons, off-lattice points,
    or a data geometry itself (so that equality and touching happen)."""
    kind = draw(st.sampled_from(("point", "box", "box", "line", "hexagon", "offpoint", "data", "data")))
    if kind == "data":
        return draw(st.sampled_from(FEATURES[:-1]))["shape"]
    if kind == "offpoint":
        x, y = draw(st.floats(-6, 66)), draw(st.floats(-6, 66))
        return shapely.Point(round(ORIGIN[0] + x * STEP, 6), round(ORIGIN[1] + y * STEP, 6))
    x, y = draw(lattice), draw(lattice)
    if kind == "point":
        return lonlat(shapely.Point(x, y))
    if kind == "box":
        return lonlat(shapely.box(x, y, x + draw(st.integers(1, 40)), y + draw(st.integers(1, 40))))
    if kind == "line":
        return lonlat(shapely.LineString([(x, y), (draw(lattice), draw(lattice))]))
    i, j = draw(st.integers(0, 5)), draw(st.integers(0, 4))
    return lonlat(hexagon(3 * HEX * i, 4 * HEX * j + 2 * HEX * (i % 2), draw(st.integers(0, 5))))


def constants(forms=CONSTANT_FORMS):
    """A geometry constant as SPARQL text, in one of the ``forms``."""
    return st.builds(lambda shape, form: str(literals(shape, form)[0]), shapes_near_the_data(), st.sampled_from(forms))


def call(function: str, variable: str, constant: str, constant_first: bool, *rest: str) -> str:
    args = [constant, variable] if constant_first else [variable, constant]
    return f"geof:{function}({', '.join(args + list(rest))})"


patterns = st.sampled_from(PATTERNS) | st.text("TF*012*******", min_size=9, max_size=9)
metres = st.sampled_from((0, 50, 100.5)) | st.floats(0, 3000).map(lambda d: round(d, 1))
degrees = st.sampled_from((0, 0.001)) | st.floats(0, 0.03).map(lambda d: round(d, 5))


# --- 1. selections ---------------------------------------------------------------------------

# Groups binding ?g; $filter is where the spatial FILTER goes.
SELECTION_GROUPS = tuple(map(Template, (
    "SELECT * WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . $filter }",
    "SELECT ?f WHERE { ?f geo:hasGeometry ?geom . ?geom geo:asWKT ?g . $filter }",
    "SELECT ?f ?g WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asGeoJSON ?g . $filter }",
    "SELECT * WHERE { GRAPH ?x { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . $filter } }",
    "SELECT ?g WHERE { ?geom geo:asWKT ?g . $filter }",
    "SELECT ?f ?t WHERE { $filter ?f a ex:B ; ex:tag ?t ; geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . }",
    "SELECT ?f WHERE { ?f geo:hasGeometry/geo:asWKT ?g . $filter }",
    "SELECT * WHERE { GRAPH ex:g1 { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . } $filter }",
)))
# Groups without EPSG:3857 geometries (class ex:C only), for distances in degrees of ?g first.
DEGREE_GROUPS = tuple(map(Template, (
    "SELECT * WHERE { ?f a ex:A ; geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . $filter }",
    "SELECT ?f WHERE { GRAPH ?x { ?f a ex:B ; geo:hasGeometry ?geom . ?geom geo:asWKT ?g . $filter } }",
    "SELECT ?f ?g WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asGeoJSON ?g . $filter }",
)))


@pytest.mark.parametrize("relation", NAMES)
@SETTINGS
@given(constant=constants(), constant_first=st.booleans(), group=st.sampled_from(SELECTION_GROUPS))
def test_topological_selection(store, relation, constant, constant_first, group):
    filter = f"FILTER({call(relation, '?g', constant, constant_first)})"
    assert_same_answers(store, group.substitute(filter=filter))


@SETTINGS
@given(constant=constants(), constant_first=st.booleans(), pattern=patterns, group=st.sampled_from(SELECTION_GROUPS))
def test_relate_selection(store, constant, constant_first, pattern, group):
    filter = f'FILTER({call("relate", "?g", constant, constant_first, repr(pattern))})'
    assert_same_answers(store, group.substitute(filter=filter))


# How a distance is compared with a bound: (template, True if the bound is included).
COMPARISONS = ("$distance < $d", "$distance <= $d", "$d > $distance", "$d >= $distance")


@SETTINGS
@given(data=st.data(), constant_first=st.booleans(), unit=st.sampled_from(("metre", "degree")),
       comparison=st.sampled_from(COMPARISONS))
def test_distance_selection(store, data, constant_first, unit, comparison):
    degree = unit == "degree"
    constant = data.draw(constants(UNPROJECTED if degree and constant_first else CONSTANT_FORMS))
    group = data.draw(st.sampled_from(DEGREE_GROUPS if degree and not constant_first else SELECTION_GROUPS))
    d = data.draw(degrees if degree else metres)
    expression = Template(comparison).substitute(distance=call("distance", "?g", constant, constant_first, f"uom:{unit}"), d=d)
    assert_same_answers(store, group.substitute(filter=f"FILTER({expression})"))


@SETTINGS
@given(constant=constants(), radius=st.floats(0, 800).map(lambda d: round(d, 1)),
       relation=st.sampled_from(("sfWithin", "sfIntersects", "sfContains", "ehCoveredBy")),
       constant_first=st.booleans(), group=st.sampled_from(SELECTION_GROUPS))
def test_buffer_selection(store, constant, radius, relation, constant_first, group):
    buffered = f"geof:buffer({constant}, {radius}, uom:metre)"
    filter = f"FILTER({call(relation, '?g', buffered, constant_first)})"
    assert_same_answers(store, group.substitute(filter=filter))


def test_selections_find_something(store):
    """The data make the selections non-trivial: a window and an equal hexagon select features."""
    window = literals(lonlat(shapely.box(0, 0, 40, 40)), "wkt")[0]
    hexagon_literal = literals(FEATURES[0]["shape"], "4326")[0]
    group = SELECTION_GROUPS[0]
    assert len(assert_same_answers(store, group.substitute(filter=f"FILTER(geof:sfWithin(?g, {window}))"))) > 10
    assert len(assert_same_answers(store, group.substitute(filter=f"FILTER(geof:sfEquals({hexagon_literal}, ?g))"))) >= 1
    near = f"FILTER(geof:distance(?g, {window}, uom:metre) < 200)"
    assert len(assert_same_answers(store, group.substitute(filter=near))) > 10


# --- 2. joins ----------------------------------------------------------------------------------

# One side of a join: binds ?a (or ?b), its tag, its geometry literal ?g1 (or ?g2), with a thematic restriction.
SIDES = (
    "?$f ex:tag ?t$f ; geo:hasDefaultGeometry ?geom$f . ?geom$f geo:asWKT ?$g .",
    "?$f a ex:A ; ex:tag ?t$f ; geo:hasDefaultGeometry ?geom$f . ?geom$f geo:asWKT ?$g .",
    "?$f a ex:B ; ex:tag ?t$f ; geo:hasGeometry ?geom$f . ?geom$f geo:asWKT ?$g .",
    "?$f ex:tag ?t$f ; geo:hasDefaultGeometry ?geom$f . ?geom$f geo:asWKT ?$g . FILTER(?t$f < 4)",
    "?$f ex:tag ?t$f ; geo:hasDefaultGeometry ?geom$f . ?geom$f geo:asGeoJSON ?$g .",
)
RESTRICTED_SIDES = SIDES[1:4]
NO_3857_SIDES = SIDES[1:3] + SIDES[4:]  # for distances in degrees
# How the sides sit in graphs; $filter is the join's FILTER.
JOIN_SHAPES = tuple(map(Template, (
    "SELECT ?a ?b WHERE { $left $right $filter }",
    "SELECT ?a ?b ?x WHERE { GRAPH ?x { $left $right $filter } }",
    "SELECT ?a ?b ?x WHERE { GRAPH ?x { $left } $right $filter }",
    "SELECT ?a ?b WHERE { GRAPH ex:g1 { $left } GRAPH ex:g2 { $right } $filter }",
    "SELECT ?a ?b ?x ?y WHERE { GRAPH ?x { $left } GRAPH ?y { $right } $filter }",
    "SELECT * WHERE { $filter { $left } $right }",
)))
# Other conjuncts of the join's FILTER, with && or as a FILTER of their own.
CONJUNCTS = ("", "?a != ?b", "?ta <= ?tb", "!sameTerm(?a, ?b) && ?tb > 2")


def join_query(shape: Template, left: str, right: str, spatial: str, conjunct: str, separate: bool) -> str:
    if not conjunct:
        filter = f"FILTER({spatial})"
    elif separate:
        filter = f"FILTER({spatial}) FILTER({conjunct})"
    else:
        filter = f"FILTER({spatial} && {conjunct})"
    return shape.substitute(left=Template(left).substitute(f="a", g="g1"), right=Template(right).substitute(f="b", g="g2"), filter=filter)


@st.composite
def join_sides(draw, sides=SIDES, restricted=RESTRICTED_SIDES):
    """Two sides, at least one restricted (an unrestricted pair is 10^5 rows: too slow for naive)."""
    left, right = draw(st.sampled_from(sides)), draw(st.sampled_from(restricted))
    return (left, right) if draw(st.booleans()) else (right, left)


join_options = {"shape": st.sampled_from(JOIN_SHAPES), "conjunct": st.sampled_from(CONJUNCTS), "separate": st.booleans()}


@pytest.mark.parametrize("relation", NAMES)
@settings(SETTINGS, max_examples=4)
@given(sides=join_sides(), swap=st.booleans(), **join_options)
def test_topological_join(store, relation, sides, swap, shape, conjunct, separate):
    spatial = f"geof:{relation}(?g2, ?g1)" if swap else f"geof:{relation}(?g1, ?g2)"
    assert_same_answers(store, join_query(shape, *sides, spatial, conjunct, separate))


@SETTINGS
@given(sides=join_sides(), pattern=patterns, **join_options)
def test_relate_join(store, sides, pattern, shape, conjunct, separate):
    assert_same_answers(store, join_query(shape, *sides, f"geof:relate(?g1, ?g2, {pattern!r})", conjunct, separate))


@settings(SETTINGS, max_examples=12)
@given(data=st.data(), unit=st.sampled_from(("metre", "degree")), comparison=st.sampled_from(COMPARISONS), **join_options)
def test_distance_join(store, data, unit, comparison, shape, conjunct, separate):
    """Distance joins, both sides restricted: geodesic distances cost tens of µs a pair."""
    sides = (data.draw(st.sampled_from(NO_3857_SIDES)), data.draw(st.sampled_from(NO_3857_SIDES[:2])))
    d = data.draw(degrees if unit == "degree" else metres.map(lambda m: m / 5))
    spatial = Template(comparison).substitute(distance=f"geof:distance(?g1, ?g2, uom:{unit})", d=d)
    assert_same_answers(store, join_query(shape, *sides, spatial, conjunct, separate))


def test_joins_find_something(store):
    left, right = SIDES[1], SIDES[0]
    for spatial in ("geof:sfTouches(?g1, ?g2)", "geof:sfEquals(?g1, ?g2)", "geof:distance(?g1, ?g2, uom:metre) < 100"):
        assert assert_same_answers(store, join_query(JOIN_SHAPES[0], left, right, spatial, "?a != ?b", False))


# --- 3. spatial filters in other places ---------------------------------------------------------

GEOMETRY = "?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g ."
PLACES = {
    "optional": f"SELECT ?f ?o WHERE {{ ?f a ex:A . {GEOMETRY} OPTIONAL {{ ?o a ex:B ; geo:hasDefaultGeometry ?og . ?og geo:asWKT ?h . FILTER(geof:$R(?g, ?h)) }} }}",
    "optional selection": "SELECT ?f ?h WHERE { ?f a ex:C . OPTIONAL { ?f geo:hasGeometry ?hg . ?hg geo:asWKT ?h . FILTER(geof:$R(?h, $C)) } }",
    "union": f"SELECT ?f ?g WHERE {{ {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} UNION {{ GRAPH ?x {{ {GEOMETRY} FILTER(geof:$R2($C2, ?g)) }} }} }}",
    "minus": f"SELECT ?f WHERE {{ ?f a ex:B . MINUS {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} }}",
    "subquery": f"SELECT ?f ?t WHERE {{ {{ SELECT ?f WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} }} ?f ex:tag ?t }}",
    "subquery limit": f"SELECT ?n WHERE {{ {{ SELECT (COUNT(?f) AS ?n) WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} }} }}",
    "not exists": f"SELECT ?f WHERE {{ ?f a ex:A . {GEOMETRY} FILTER NOT EXISTS {{ ?o a ex:C ; geo:hasDefaultGeometry ?og . ?og geo:asWKT ?h . FILTER(?o != ?f && geof:$R(?g, ?h)) }} }}",
    "exists": f"SELECT ?f WHERE {{ ?f a ex:B . {GEOMETRY} FILTER EXISTS {{ ?f geo:hasGeometry ?hg . ?hg geo:asWKT ?h . FILTER(geof:$R($C, ?h)) }} }}",
    "group by": "SELECT ?c (COUNT(*) AS ?n) (SUM(?t) AS ?s) (MAX(STR(?b)) AS ?m) WHERE { ?a a ?c ; ex:tag ?t ; geo:hasDefaultGeometry ?ga . ?ga geo:asWKT ?g1 . ?b a ex:A ; geo:hasDefaultGeometry ?gb . ?gb geo:asWKT ?g2 . FILTER(geof:$R(?g1, ?g2)) } GROUP BY ?c",
    "group by having": f"SELECT ?t (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f ex:tag ?t . {GEOMETRY} FILTER(geof:$R(?g, $C)) }} GROUP BY ?t HAVING (COUNT(?f) > 1)",
    "distinct": f"SELECT DISTINCT ?c WHERE {{ ?f a ?c . {GEOMETRY} FILTER(geof:$R(?g, $C)) }}",
    "distinct join": "SELECT DISTINCT ?a WHERE { ?a a ex:C ; geo:hasDefaultGeometry ?ga . ?ga geo:asWKT ?g1 . ?b geo:hasDefaultGeometry ?gb . ?gb geo:asWKT ?g2 . FILTER(geof:$R(?g1, ?g2) && ?a != ?b) }",
    "ask": f"ASK {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }}",
    "ask join": "ASK { ?a a ex:A ; geo:hasDefaultGeometry ?ga . ?ga geo:asWKT ?g1 . ?b a ex:B ; geo:hasDefaultGeometry ?gb . ?gb geo:asWKT ?g2 . FILTER(geof:$R(?g1, ?g2)) }",
    "nested group": f"SELECT ?f WHERE {{ ?f a ex:A . {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} }}",
    "filter outside group": f"SELECT ?f WHERE {{ {{ {GEOMETRY} }} FILTER(geof:$R(?g, $C)) }}",
    "values in group": f"SELECT ?f ?c WHERE {{ VALUES ?c {{ ex:A ex:C }} ?f a ?c . {GEOMETRY} FILTER(geof:$R(?g, $C)) }}",
    # filters the planner cannot (or need not) recognise
    "disjunction": f"SELECT ?f WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, $C) || geof:$R2(?g, $C2)) }}",
    "disjunction with tag": f"SELECT ?f WHERE {{ ?f ex:tag ?t . {GEOMETRY} FILTER(geof:$R(?g, $C) || ?t = 3) }}",
    "negation": f"SELECT ?f WHERE {{ {GEOMETRY} FILTER(!geof:$R(?g, $C)) }}",
    "compared with false": f"SELECT ?f WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, $C) = false) }}",
    "bind buffer": f"SELECT ?f WHERE {{ {GEOMETRY} BIND(geof:buffer(?g, 30, uom:metre) AS ?b) FILTER(geof:$R(?b, $C)) }}",
    "bind envelope": f"SELECT ?f ?e WHERE {{ {GEOMETRY} BIND(geof:envelope(?g) AS ?e) FILTER(geof:$R($C, ?e)) }}",
    "bind constant": f"SELECT ?f WHERE {{ BIND($C AS ?q) {GEOMETRY} FILTER(geof:$R(?g, ?q)) }}",
    "values geometry": "SELECT ?g ?q WHERE { VALUES ?q { $C $C2 } ?geom geo:asWKT ?g . FILTER(geof:$R(?q, ?g)) }",
    "values only": "SELECT ?g ?q WHERE { VALUES ?g { $C $C2 } VALUES ?q { $C2 $C } FILTER(geof:$R(?g, ?q)) }",
    "unbound variable": f"SELECT ?f WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, ?nowhere) || ?f = ex:f3) }}",
    "if": f"SELECT ?f WHERE {{ ?f ex:tag ?t . {GEOMETRY} FILTER(IF(?t > 4, geof:$R(?g, $C), geof:$R2(?g, $C2))) }}",
}
ORDERED = {
    "order by limit": f"SELECT ?f ?geom ?g WHERE {{ {GEOMETRY} FILTER(geof:$R(?g, $C)) }} ORDER BY DESC(?f) ?geom ?g LIMIT 7",
    "order by distance": f"SELECT ?f ?geom ?g ?d WHERE {{ {GEOMETRY} BIND(geof:distance(?g, $C, uom:metre) AS ?d) FILTER(?d < $D) }} ORDER BY ?d ?f ?geom ?g LIMIT 10",
    "order by offset": f"SELECT ?f WHERE {{ GRAPH ?x {{ {GEOMETRY} FILTER(geof:$R($C, ?g)) }} }} ORDER BY ?f ?x OFFSET 2 LIMIT 5",
}
# relations as likely to hold as not, so that the places see both
BALANCED = ("sfIntersects", "sfWithin", "sfContains", "sfTouches", "ehCovers", "ehCoveredBy", "rcc8po", "sfDisjoint", "rcc8ec", "sfCrosses")


@pytest.mark.parametrize("place", [*PLACES, *ORDERED])
@settings(SETTINGS, max_examples=4)
@given(relations=st.tuples(st.sampled_from(BALANCED), st.sampled_from(NAMES)), constants=st.tuples(constants(), constants()),
       d=metres)
def test_spatial_filter_in_place(store, place, relations, constants, d):
    query = Template(PLACES.get(place) or ORDERED[place]).substitute(R=relations[0], R2=relations[1], C=constants[0], C2=constants[1], D=d)
    assert_same_answers(store, query, ordered=place in ORDERED)


ERRORS = (  # queries over which naive evaluation fails (or might): the planned one must fail alike
    "SELECT ?f WHERE { ?f a ex:C ; geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:distance(?g, 'POINT(10 50)'^^geo:wktLiteral, uom:degree) < 0.01) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:distance('<http://www.opengis.net/def/crs/EPSG/0/3857> POINT(1113194 6446275)'^^geo:wktLiteral, ?g, uom:degree) < 1) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:sfIntersects(?g, 'POINT(10 50)')) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:sfIntersects(?g, 'POINT(10 50'^^geo:wktLiteral)) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:distance(?g, 'POINT(10 50)'^^geo:wktLiteral, ex:furlong) < 10) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:relate(?g, 'POINT(10 50)'^^geo:wktLiteral, 'T*F')) }",
    "SELECT ?f WHERE { ?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g . FILTER(geof:sfWithin(?g, '<http://example.org/crs> POINT(10 50)'^^geo:wktLiteral)) }",
    "SELECT ?a WHERE { ?a geo:hasDefaultGeometry ?ga . ?ga geo:asWKT ?g1 . ?b a ex:C ; geo:hasDefaultGeometry ?gb . ?gb geo:asWKT ?g2 . FILTER(geof:distance(?g2, ?g1, uom:degree) < 0.001) }",
)


@pytest.mark.parametrize("query", ERRORS)
def test_errors_agree(store, query):
    """Naive evaluation fails these queries (a unit, CRS or argument it cannot use): so must the planned one."""
    naive = outcome(store, query, naive=True)
    assert isinstance(naive, str), f"naive evaluation was expected to fail: {query}"
    assert outcome(store, query, naive=False) == naive


# --- 4. topology properties as triple patterns -------------------------------------------------

# (query, whether its rows are distinct): with a constant end they are cheap; with two variables
# naive evaluation joins every pair of geometries (about a second a query).
CONSTANT_END = (
    ("SELECT ?b WHERE { ex:$F geo:$P ?b }", True),
    ("SELECT ?a WHERE { ?a geo:$P ex:$F }", True),
    ("ASK { ex:$F geo:$P ex:$F2 }", True),
    ("SELECT ?b ?t WHERE { ex:$F geo:$P ?b . OPTIONAL { ?b ex:tag ?t } }", True),
    ("SELECT ?c (COUNT(*) AS ?n) WHERE { ?a geo:$P ex:$F . ?a a ?c } GROUP BY ?c", True),
    ("SELECT ?a WHERE { ?a a ex:B . FILTER EXISTS { ?a geo:$P ex:$F } }", True),
)
BOTH_VARIABLES = (
    ("SELECT ?a ?b WHERE { ?a a ex:A . ?b a ex:B . ?a geo:$P ?b }", True),
    ("SELECT ?a ?x WHERE { ?a geo:$P ?x . ?a a ex:C . ?x ex:tag ?t FILTER(?t > 3) }", True),
    ("SELECT ?a ?b ?gr WHERE { GRAPH ?gr { ?a geo:$P ?b } }", True),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?a a ex:B . ?a geo:$P ?b }", True),
    ("SELECT DISTINCT ?a WHERE { ?a ex:tag 3 ; geo:$P ?b }", True),
    ("SELECT ?a ?b WHERE { ?a geo:$P ?b . ?b geo:$P ?a . ?a a ex:A }", True),
    ("SELECT ?a ?b WHERE { ?a a ex:A . OPTIONAL { ?a geo:$P ?b . ?b a ex:B } }", True),
    ("SELECT ?a ?g WHERE { ?a geo:$P ?b . ?b geo:hasDefaultGeometry/geo:asWKT ?g . ?a a ex:C }", False),  # two ?b, one literal
)
# some features with stored topology triples, some without
FEATURE_NAMES = st.sampled_from([f["iri"].removeprefix(EX) for f in FEATURES])


def assert_topology_answers(store, query: tuple[str, bool], prop: str, feature: str = "f0", other: str = "f1"):
    text, distinct = query
    rows = assert_same_answers(store, Template(text).substitute(P=prop, F=feature, F2=other))
    if distinct and not isinstance(rows, bool):
        assert len(set(rows)) == len(rows), "stored and derived answers are given once each"


@pytest.mark.parametrize("prop", NAMES)
@settings(SETTINGS, max_examples=4)
@given(query=st.sampled_from(CONSTANT_END), feature=FEATURE_NAMES, other=FEATURE_NAMES)
def test_topology_property_with_a_constant(store, prop, query, feature, other):
    assert_topology_answers(store, query, prop, feature, other)


@pytest.mark.parametrize(("prop", "query"), [("sfTouches", BOTH_VARIABLES[0]), ("ehCovers", BOTH_VARIABLES[6])])
def test_topology_property_between_variables(store, prop, query):
    assert_topology_answers(store, query, prop)


@pytest.mark.slow
def test_topology_property_between_variables_everywhere(store, request):
    """Every property in every two-variable shape: about 1.5 minutes, so only with ``-m slow`` (nothing
    in the project deselects slow tests by default yet)."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("about 1.5 minutes: run with -m slow")
    failures = []
    for prop in NAMES:
        for query in BOTH_VARIABLES:
            try:
                assert_topology_answers(store, query, prop)
            except AssertionError as failure:
                failures.append(f"{prop}: {failure}")
    assert not failures, "\n\n".join(failures)


def spatial_objects(features: list[dict]) -> dict[str, list[Literal]]:
    """The default graph's spatial objects with their geometry literals: each feature (through its
    default geometry) and each geometry node."""
    objects = {}
    for f in features:
        if None in f["graphs"]:
            objects[f["iri"]] = objects[f["iri"] + "/geom"] = literals(f["shape"], f["form"])
            if f["extra"]:
                objects[f["iri"] + "/centre"] = literals(f["shape"].centroid, "wkt")
    return objects


@pytest.mark.parametrize("prop", ("sfIntersects", "sfWithin", "ehCovers", "sfTouches", "rcc8ntpp"))
def test_topology_properties_are_stored_or_derived(store, prop):
    """ex:f0 geo:P ?b: the stored objects, and every spatial object of the default graph whose
    geometry (any serialisation of it) is in relation P with ex:f0's default geometry, each once;
    naive and planned alike."""
    subject = FEATURES[0]
    stored = {q.object.value for q in topology_quads(FEATURES, random.Random(SEED + 1))
              if (q.subject.value, q.predicate.value, q.graph_name) == (subject["iri"], GEO + prop, DefaultGraph())}
    first = literals(subject["shape"], subject["form"])[0]
    derived = {iri for iri, lits in spatial_objects(FEATURES).items() if any(RELATIONS[prop](first, lit).value == "true" for lit in lits)}
    for naive in (True, False):
        rows = answer(store, f"SELECT ?b WHERE {{ <{subject['iri']}> geo:{prop} ?b }}", naive=naive)
        assert sorted(value.strip("<>") for ((_, value),) in rows) == sorted(stored | derived)


# --- 5. eekg:nearest against brute force --------------------------------------------------------

NEAREST_GROUPS = (
    "?f geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g .",
    "?f a ex:A ; geo:hasDefaultGeometry ?geom . ?geom geo:asWKT ?g .",
    "GRAPH ?x { ?f geo:hasGeometry ?geom . ?geom geo:asWKT ?g . }",
    "?f ex:tag ?t ; geo:hasDefaultGeometry ?geom . ?geom geo:asGeoJSON ?g . FILTER(?t < 6)",
)


def nearest_reference(store, group: str, constant: str, k: int, max_distance: float | None) -> list:
    """The rows of ``group`` whose ?g is one of the k literals (of those its triple patterns bind)
    nearest to the constant by
    ``measurement.distance(g, constant, uom:metre)`` (ties by lexical form; empty geometries and
    those beyond ``max_distance`` never), computed in Python from the group's naive rows."""
    rows = store.query(f"{HEADER} SELECT * WHERE {{ {group} }}", naive=True).bindings()
    # the k nearest among what the triple patterns allow; the group's other filters apply afterwards
    patterns = store.query(f"{HEADER} SELECT * WHERE {{ {group.split(' FILTER(')[0]} }}", naive=True).bindings()
    target = next(iter(store.query(f"SELECT ?c WHERE {{ BIND({constant} AS ?c) }}").bindings()))["c"]
    measured = {}
    for literal in {row["g"] for row in patterns}:
        d = distance(literal, target, METRE)
        if d is not None and (max_distance is None or float(d.value) <= max_distance):
            measured[literal] = float(d.value)
    chosen = set(sorted(measured, key=lambda lit: (measured[lit], lit.value, lit.datatype.value))[:k])
    return sorted(tuple(sorted((n, str(t)) for n, t in row.items())) for row in rows if row["g"] in chosen)


@pytest.mark.parametrize("group", NEAREST_GROUPS)
@settings(SETTINGS, max_examples=4)
@given(constant=constants(), k=st.integers(1, 12),
       max_distance=st.none() | st.floats(0, 1500).map(lambda d: round(d, 1)))
def test_nearest_matches_brute_force(store, group, constant, k, max_distance):
    extra = "" if max_distance is None else f", {max_distance}, uom:metre"
    query = f"SELECT * WHERE {{ {group} FILTER(eekg:nearest(?g, {constant}, {k}{extra})) }}"
    expected = nearest_reference(store, group, constant, k, max_distance)
    got = answer(store, query, naive=False)
    assert got == expected, difference(got, expected)


# --- the planner rewrites what it must recognise ------------------------------------------------

WINDOW = str(literals(lonlat(shapely.box(5, 5, 35, 35)), "wkt")[0])
RECOGNISED = {
    "selection": SELECTION_GROUPS[0].substitute(filter=f"FILTER(geof:sfIntersects(?g, {WINDOW}))"),
    "selection, constant first": SELECTION_GROUPS[0].substitute(filter=f"FILTER(geof:ehCovers({WINDOW}, ?g))"),
    "selection in a graph": SELECTION_GROUPS[3].substitute(filter=f"FILTER(geof:sfWithin(?g, {WINDOW}))"),
    "relate": SELECTION_GROUPS[0].substitute(filter=f"FILTER(geof:relate(?g, {WINDOW}, 'T*F**F***'))"),
    "distance": SELECTION_GROUPS[0].substitute(filter=f"FILTER(geof:distance(?g, {WINDOW}, uom:metre) < 100)"),
    "distance, bound first": DEGREE_GROUPS[0].substitute(filter=f"FILTER(0.001 > geof:distance(?g, {WINDOW}, uom:degree))"),
    "buffer": SELECTION_GROUPS[0].substitute(filter=f"FILTER(geof:sfWithin(?g, geof:buffer({WINDOW}, 100, uom:metre)))"),
    "join": join_query(JOIN_SHAPES[0], SIDES[0], SIDES[1], "geof:sfTouches(?g1, ?g2)", "", False),
    "join with conjuncts": join_query(JOIN_SHAPES[0], SIDES[1], SIDES[2], "geof:rcc8ec(?g1, ?g2)", "?a != ?b", False),
    "join across graphs": join_query(JOIN_SHAPES[4], SIDES[0], SIDES[1], "geof:sfIntersects(?g1, ?g2)", "", False),
    "distance join": join_query(JOIN_SHAPES[0], SIDES[1], SIDES[2], "geof:distance(?g1, ?g2, uom:metre) <= 50", "", False),
    "topology property": Template(BOTH_VARIABLES[0][0]).substitute(P="sfIntersects"),
    "topology property, constant subject": Template(CONSTANT_END[0][0]).substitute(P="sfWithin", F="f0"),
}


def planned_text(store, query: str) -> str:
    """The text the store would run for a planned query."""
    return plan(query, store.spatial_index, lambda text: store._rows(text, {})).sparql


@pytest.mark.parametrize("name", RECOGNISED)
def test_recognised_shapes_are_planned(store, name):
    query = HEADER + expand_topology(RECOGNISED[name])
    if name == "distance, bound first":
        # in degrees, geof:distance fails on the store's EPSG:3857 rows (class C, not in this group):
        # the index cannot tell which rows the group binds, so the query runs row by row
        assert planned_text(store, query) == query
    else:
        assert planned_text(store, query) != query


@pytest.mark.parametrize("name", RECOGNISED)
def test_recognised_shapes_agree(store, name):
    assert_same_answers(store, RECOGNISED[name])


# --- the on-disk store ----------------------------------------------------------------------------


@settings(SETTINGS, max_examples=25)
@given(relation=st.sampled_from(NAMES), constant=constants(), constant_first=st.booleans(),
       group=st.sampled_from(SELECTION_GROUPS), sides=join_sides(), shape=st.sampled_from(JOIN_SHAPES))
def test_on_disk_store(disk_store, relation, constant, constant_first, group, sides, shape):
    """Another data set, loaded from a file into a store on disk: selections and joins."""
    assert_same_answers(disk_store, group.substitute(filter=f"FILTER({call(relation, '?g', constant, constant_first)})"))
    assert_same_answers(disk_store, join_query(shape, *sides, f"geof:{relation}(?g1, ?g2)", "?a != ?b", False))


# --- the data ------------------------------------------------------------------------------------


def test_data_exercises_every_relation():
    """Every relation holds between some pairs of the data's geometries and fails between others, so
    the tests above are not vacuous (shapely on the CRS84 shapes, over the pairs that intersect and
    a random sample of the others)."""
    shapes = np.array([f["shape"] for f in FEATURES])
    left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    rng = np.random.default_rng(0)
    left = np.concatenate([left, rng.integers(0, len(shapes), 500)])
    right = np.concatenate([right, rng.integers(0, len(shapes), 500)])
    counts = {}
    for name in NAMES:
        if name in PREDICATES:
            holds = PREDICATES[name](shapes[left], shapes[right])
        else:
            holds = shapely.relate_pattern(shapes[left], shapes[right], TOPOLOGY_PATTERNS[name])
        counts[name] = int(np.count_nonzero(holds))
    assert all(2 < counts[name] < len(left) for name in NAMES), counts
