"""Verification: the relations of hand-made pairs (worked out from their DE-9IM matrices), and the
vectorised reading of the matrix against the store's own relations (shapely's predicates and the
``geof:`` functions of a real store)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from interlink_helpers import EX, brute_force, dataset, scene

from kg.embedded import EmbeddedStore
from kg.geosparql.topology import PATTERNS, PREDICATES
from kg.interlink import RELATIONS, interlink
from kg.interlink.verification import BITS, names_of, relation_masks

SQUARE = "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"
HOLED = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))"
TWO_PARTS = "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)), ((5 5, 7 5, 7 7, 5 7, 5 5)))"
CASES = [  # (what, source, target, relations of the pair)
    ("equal squares", SQUARE, SQUARE, {"sfEquals", "sfIntersects", "sfWithin", "sfContains"}),
    ("equal squares, other start and orientation", SQUARE, "POLYGON((2 2, 0 2, 0 0, 2 0, 2 2))",
     {"sfEquals", "sfIntersects", "sfWithin", "sfContains"}),
    ("touching edges", SQUARE, "POLYGON((2 0, 4 0, 4 2, 2 2, 2 0))", {"sfIntersects", "sfTouches"}),
    ("touching corners", SQUARE, "POLYGON((2 2, 3 2, 3 3, 2 3, 2 2))", {"sfIntersects", "sfTouches"}),
    ("overlapping squares", SQUARE, "POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))", {"sfIntersects", "sfOverlaps"}),
    ("inside, away from the border", "POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))", "POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))",
     {"sfIntersects", "sfWithin"}),
    ("contains, sharing an edge (covers)", "POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))", "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
     {"sfIntersects", "sfContains", "ehCovers"}),
    ("inside, sharing an edge (covered by)", "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))", "POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))",
     {"sfIntersects", "sfWithin", "ehCoveredBy"}),
    ("line crossing a polygon", "LINESTRING(-1 1, 3 1)", SQUARE, {"sfIntersects", "sfCrosses"}),
    ("line along a polygon's border", "LINESTRING(0 0, 2 0)", SQUARE, {"sfIntersects", "sfTouches"}),
    ("part of a polygon's border, from outside", SQUARE, "LINESTRING(1 0, 2 0)", {"sfIntersects", "sfTouches"}),
    ("line inside a polygon from its border", "LINESTRING(0 1, 1 1)", SQUARE, {"sfIntersects", "sfWithin", "ehCoveredBy"}),
    ("point in a hole", "POINT(2 2)", HOLED, set()),
    ("polygon filling a hole", "POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))", HOLED, {"sfIntersects", "sfTouches"}),
    ("polygon in a hole, off its ring", "POLYGON((1.5 1.5, 2.5 1.5, 2.5 2.5, 1.5 2.5, 1.5 1.5))", HOLED, set()),
    ("line across a hole", "LINESTRING(0.5 2, 3.5 2)", HOLED, {"sfIntersects", "sfCrosses"}),
    ("multipolygon, one part overlapping", TWO_PARTS, "POLYGON((6 6, 8 6, 8 8, 6 8, 6 6))", {"sfIntersects", "sfOverlaps"}),
    ("multipolygon containing a point", TWO_PARTS, "POINT(0.5 0.5)", {"sfIntersects", "sfContains"}),
    ("multipolygon between its parts", TWO_PARTS, "POINT(3 3)", set()),
    ("multipoint half inside", "MULTIPOINT((1 1), (5 5))", SQUARE, {"sfIntersects", "sfCrosses"}),
    ("crossing lines", "LINESTRING(0 0, 2 2)", "LINESTRING(0 2, 2 0)", {"sfIntersects", "sfCrosses"}),
    ("overlapping collinear lines", "LINESTRING(0 0, 2 0)", "LINESTRING(1 0, 3 0)", {"sfIntersects", "sfOverlaps"}),
    ("line ends meeting", "LINESTRING(0 0, 1 0)", "LINESTRING(1 0, 2 1)", {"sfIntersects", "sfTouches"}),
    ("equal points", "POINT(1 1)", "POINT(1 1)", {"sfEquals", "sfIntersects", "sfWithin", "sfContains"}),
    ("different points", "POINT(1 1)", "POINT(1 1.000001)", set()),
    ("point on a polygon's border", "POINT(0 1)", SQUARE, {"sfIntersects", "sfTouches"}),
    ("point at a line's end", "POINT(0 0)", "LINESTRING(0 0, 1 1)", {"sfIntersects", "sfTouches"}),
    ("point inside a line", "POINT(0.5 0.5)", "LINESTRING(0 0, 1 1)", {"sfIntersects", "sfWithin"}),
    ("polygon touching a multilinestring", SQUARE, "MULTILINESTRING((2 1, 3 1), (5 5, 6 6))", {"sfIntersects", "sfTouches"}),
]


@pytest.mark.parametrize("what, source, target, relations", CASES, ids=[c[0] for c in CASES])
def test_relations_of_hand_made_pairs(what, source, target, relations):
    run = interlink(dataset("a", [source]), dataset("b", [target]))
    found = {name for mask in run.found.masks.tolist() for name in names_of(mask)}
    assert found == relations
    assert run.found.related == (1 if relations else 0)
    assert run.links == len(relations)


def test_the_relations_asked_for_only():
    run = interlink(dataset("a", [SQUARE]), dataset("b", [SQUARE]), relations="sfEquals,geo:sfWithin")
    assert run.links == 2 and run.plan.relations == ("sfEquals", "sfWithin")


def test_reading_the_matrix_agrees_with_the_stores_relations():
    """Every pair of a scene of boxes, points, lines, holes and multi-parts on a lattice (with copies)."""
    a = scene(150, seed=1)
    b = np.concatenate([scene(150, seed=2), a[::10]])
    i, j = (x.ravel() for x in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
    masks, related = relation_masks(a[i], b[j])
    for name in RELATIONS:
        test = PREDICATES.get(name) or (lambda x, y, p=PATTERNS[name]: shapely.relate_pattern(x, y, p))
        expected = np.asarray(test(a[i], b[j]), dtype=bool)
        assert expected.sum() > 5, f"the scene has too few {name} pairs to tell"
        np.testing.assert_array_equal((masks & BITS[name]) != 0, expected, err_msg=name)
    np.testing.assert_array_equal(related, shapely.intersects(a[i], b[j]))


def test_links_are_what_the_stores_geof_functions_say():
    """The same datasets in a real store: each relation's links are the pairs its geof: function joins."""
    a, b = scene(60, seed=3), scene(60, seed=4)
    store = EmbeddedStore()
    lines = [f'<{EX}{side}{k}> <http://www.opengis.net/ont/geosparql#asWKT> "{shape.wkt}"^^'
             "<http://www.opengis.net/ont/geosparql#wktLiteral> ."
             for side, shapes in (("a", a), ("b", b)) for k, shape in enumerate(shapes)]
    store.load_data("\n".join(lines).encode(), "ntriples")
    run = interlink(dataset("a", a), dataset("b", b))
    pairs = dict(zip(zip(run.found.s.tolist(), run.found.t.tolist()), run.found.masks.tolist()))
    assert pairs == brute_force(a, b)
    for name in RELATIONS:
        answer = store.query(
            f"SELECT ?x ?y {{ ?x geo:asWKT ?g . ?y geo:asWKT ?h . FILTER(STRSTARTS(STR(?x), '{EX}a') && STRSTARTS(STR(?y), '{EX}b')) "
            f"FILTER(geof:{name}(?g, ?h)) }}").bindings()
        by_store = {(int(r["x"].value.removeprefix(EX + "a")), int(r["y"].value.removeprefix(EX + "b"))) for r in answer}
        ours = {pair for pair, mask in pairs.items() if mask & BITS[name]}
        assert ours == by_store, name
