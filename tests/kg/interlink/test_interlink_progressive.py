"""Pair weighting and budgeted, progressive verification."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from interlink_helpers import brute_force, dataset, found_pairs, scene

from kg.errors import GeoKGError
from kg.interlink import interlink
from kg.interlink.budget import HeaviestPairs
from kg.interlink.candidates import TileIndex
from kg.interlink.grid import Grid
from kg.interlink.plan import Geometries
from kg.interlink.weighting import SCHEMES, Pairs, Side, Weighting, heaviest_first


def one_pair(source, target, grid: Grid) -> Pairs:
    a = Geometries.of(np.array([shapely.from_wkt(source)], dtype=object), grid)
    b = Geometries.of(np.array([shapely.from_wkt(target)], dtype=object), grid)
    return Pairs(np.array([0]), np.array([0]), a.side, b.side, grid)


# A 10 x 10 grid of unit tiles. The source covers tiles (0..1) x (0..1): 4 tiles; the target
# (1..3) x (1..2): 6 tiles; in common (1, 1) only: 1 tile.
GRID = Grid(0.0, 0.0, 1.0, 1.0, 10, 10)
SOURCE = "POLYGON((0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))"
TARGET = "POLYGON((1.25 1.25, 3.25 1.25, 3.25 2.5, 1.25 2.5, 1.25 1.25))"


def test_each_scheme_on_a_pair_worked_out_by_hand():
    pairs = one_pair(SOURCE, TARGET, GRID)
    weight = {name: float(Weighting.parse(name).weights(pairs)[0][0]) for name in SCHEMES}
    assert weight["cf"] == 1
    assert weight["js"] == pytest.approx(1 / (4 + 6 - 1))
    n11, n12, n21, n22 = 1, 3, 5, 91  # in both, only the source's, only the target's, neither (100 tiles)
    chi2 = 100 * (n11 * n22 - n12 * n21) ** 2 / ((n11 + n12) * (n21 + n22) * (n11 + n21) * (n12 + n22))
    assert weight["x2"] == pytest.approx(chi2)
    assert weight["mbro"] == pytest.approx(0.0625 / (1 + 2.5 - 0.0625))  # MBR intersection 0.25 x 0.25
    assert weight["isp"] == pytest.approx(1 / (5 + 5))
    assert 0 <= weight["random"] < 1
    assert Weighting.parse("x2*mbro").weights(pairs)[0][0] == pytest.approx(chi2 * weight["mbro"])
    assert [float(w[0]) for w in Weighting.parse("mbro,isp").weights(pairs)] == pytest.approx([weight["mbro"], 0.1])


def test_zero_area_mbrs_and_random_weights():
    points = one_pair("POINT(1 1)", "POINT(1 1)", GRID)
    assert Weighting.parse("mbro").weights(points)[0][0] == 1.0  # equal points: as close as MBRs get
    line = one_pair("LINESTRING(0.5 1, 3 1)", SOURCE, GRID)
    assert Weighting.parse("mbro").weights(line)[0][0] == 0.0  # a line's MBR has no area
    n, random = 1000, Weighting.parse("random")
    side = Side(np.zeros((n, 4)), np.zeros((n, 4), dtype=np.int64), np.ones(n), np.arange(n) + 7)
    weights = random.weights(Pairs(np.arange(n), np.arange(n)[::-1], side, side, GRID, seed=3))[0]
    assert len(np.unique(weights)) == n and 0.4 < weights.mean() < 0.6
    # the weight of a pair is a function of its dataset positions (ids), wherever it sits in the arrays
    flipped = Side(side.boxes, side.ranges, side.points, side.ids[::-1])
    same = random.weights(Pairs(np.arange(n)[::-1], np.arange(n), flipped, flipped, GRID, seed=3))[0]
    assert (same == weights).all()
    assert (random.weights(Pairs(np.arange(n), np.arange(n)[::-1], side, side, GRID, seed=4))[0] != weights).mean() > 0.99


def test_order_heaviest_first_ties_by_second_weight_then_positions():
    s, t = np.array([0, 1, 2, 3]), np.array([5, 4, 3, 2])
    order = heaviest_first([np.array([1.0, 2.0, 2.0, 2.0]), np.array([0.0, 0.5, 0.7, 0.5])], s, t)
    assert order.tolist() == [2, 1, 3, 0]


def test_only_the_budget_is_kept_in_memory():
    heaviest, rng = HeaviestPairs(50), np.random.default_rng(0)
    every = []
    for chunk in range(20):
        w = rng.random(100)
        s, t = np.arange(100) + 100 * chunk, np.zeros(100, dtype=np.int64)
        heaviest.offer(s, t, [w])
        every.append(w)
        assert len(heaviest.s) <= 50
    s, _, weights = heaviest.in_order()
    assert (weights[0] == np.sort(np.concatenate(every))[::-1][:50]).all()


@pytest.mark.parametrize("weighting", ["mbro", "x2", "cf", "js", "isp", "random", "x2*mbro", "mbro,isp"])
def test_a_budget_verifies_the_heaviest_candidates_in_order(weighting):
    a, b = scene(200, seed=11), scene(200, seed=12)
    grid = Grid.of_source(shapely.bounds(a))
    first, second = Geometries.of(a, grid), Geometries.of(b, grid)
    s, t = TileIndex.of(grid, first.side.boxes).candidates(second.side.boxes)
    order = heaviest_first(Weighting.parse(weighting).weights(Pairs(s, t, first.side, second.side, grid)), s, t)
    budget = len(s) // 5
    run = interlink(dataset("a", a), dataset("b", b), budget=budget, weighting=weighting)
    assert run.found.candidates == len(s) and run.found.verified == budget
    everything = brute_force(a, b)
    chosen = list(zip(s[order[:budget]].tolist(), t[order[:budget]].tolist()))
    assert found_pairs(run.found) == {p: everything[p] for p in chosen if p in everything}
    ranks = dict(zip(zip(run.found.s.tolist(), run.found.t.tolist()), run.found.ranks.tolist()))
    assert all(chosen[rank] == pair for pair, rank in ranks.items())


def test_a_smaller_budget_verifies_a_prefix_and_no_budget_verifies_all():
    a, b = scene(150, seed=13), scene(150, seed=14)
    small = interlink(dataset("a", a), dataset("b", b), budget=100)
    large = interlink(dataset("a", a), dataset("b", b), budget=400)
    assert small.plan.weighting.text == "mbro"
    early = {p for p, r in zip(zip(large.found.s.tolist(), large.found.t.tolist()), large.found.ranks.tolist()) if r < 100}
    assert set(found_pairs(small.found)) == early
    ordered = interlink(dataset("a", a), dataset("b", b), weighting="mbro")
    exhaustive = interlink(dataset("a", a), dataset("b", b))
    assert found_pairs(ordered.found) == found_pairs(exhaustive.found) == brute_force(a, b)
    assert ordered.found.verified == exhaustive.found.verified == exhaustive.found.candidates
    assert exhaustive.plan.method == "exhaustive" and exhaustive.found.ranks is None


@pytest.mark.parametrize("budget", [0, -5, 2.5, "10", True])
def test_a_bad_budget_says_what_to_give(budget):
    with pytest.raises(GeoKGError, match="budget=.*whole number"):
        interlink(dataset("a", ["POINT(0 0)"]), dataset("b", ["POINT(0 0)"]), budget=budget)


@pytest.mark.parametrize("weighting", ["mbr", "x2*", "chi2,mbro", ""])
def test_an_unknown_weighting_lists_the_schemes(weighting):
    with pytest.raises(GeoKGError, match="is not a scheme; use one of cf, js, x2, mbro, isp, random"):
        interlink(dataset("a", ["POINT(0 0)"]), dataset("b", ["POINT(0 0)"]), weighting=weighting, budget=5)
