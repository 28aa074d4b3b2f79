"""Filtering on the grid: every related pair is a candidate, found in exactly one tile (the
reference point's), whatever the tile size, for geometries across many tiles or on tile borders."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from interlink_helpers import brute_force, dataset, found_pairs, scene

from kg.errors import GeoKGError
from kg.interlink import interlink
from kg.interlink.candidates import TileIndex, target_chunks
from kg.interlink.grid import MAX_TILES, Grid


@pytest.mark.parametrize("granularity", [0.25, 1.0, 3.0])
def test_no_link_lost_none_doubled(granularity):
    a, b = scene(250, seed=5), scene(250, seed=6)
    run = interlink(dataset("a", a), dataset("b", b), granularity=granularity)
    assert found_pairs(run.found) == brute_force(a, b)


def test_each_candidate_pair_once_and_only_pairs_whose_mbrs_intersect():
    a, b = scene(200, seed=7), scene(200, seed=8)
    boxes_a, boxes_b = shapely.bounds(a), shapely.bounds(b)
    grid = Grid.of_source(boxes_a, 0.5)  # small tiles: most pairs share several
    s, t = TileIndex.of(grid, boxes_a).candidates(boxes_b)
    pairs = list(zip(s.tolist(), t.tolist()))
    assert len(pairs) == len(set(pairs))
    i, j = (x.ravel() for x in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
    x, y = boxes_a[i], boxes_b[j]
    overlapping = (x[:, 0] <= y[:, 2]) & (x[:, 2] >= y[:, 0]) & (x[:, 1] <= y[:, 3]) & (x[:, 3] >= y[:, 1])
    assert set(pairs) == set(zip(i[overlapping].tolist(), j[overlapping].tolist()))


def test_pairs_meeting_exactly_on_tile_borders():
    """Unit squares on a unit grid: every pair meets on a tile's edge or corner."""
    squares = [shapely.box(x, y, x + 1, y + 1) for x in range(6) for y in range(6)]
    a = np.array(squares, dtype=object)
    b = np.array(squares[::2] + [shapely.Point(x, y) for x in range(7) for y in range(7)], dtype=object)
    run = interlink(dataset("a", a), dataset("b", b))
    assert run.grid.width == 1.0 and run.grid.x0 == 0.0
    assert found_pairs(run.found) == brute_force(a, b)


def test_a_target_far_larger_than_the_tiles_and_partly_off_the_grid():
    a = scene(100, seed=9)
    b = np.array([shapely.box(-50, -50, 10, 10), shapely.LineString([(-100, 5), (100, 5)]), shapely.Point(500, 500)], dtype=object)
    run = interlink(dataset("a", a), dataset("b", b))
    assert found_pairs(run.found) == brute_force(a, b)


def test_points_only_source_has_tiles_too():
    points = np.array([shapely.Point(x, y) for x, y in np.random.default_rng(1).integers(0, 30, (300, 2))], dtype=object)
    b = scene(100, seed=10, spread=30)
    run = interlink(dataset("a", points), dataset("b", b))
    assert 1 < run.grid.width < 30 and run.grid.tiles > 10
    assert found_pairs(run.found) == brute_force(points, b)


def test_tiny_source_mbrs_over_a_wide_extent_keep_the_grid_bounded():
    boxes = np.array([[0.0, 0.0, 1e-9, 1e-9], [100.0, 100.0, 100.0 + 1e-9, 100.0 + 1e-9]])
    grid = Grid.of_source(boxes)
    assert grid.tiles <= MAX_TILES and grid.keys(np.array([100.0]), np.array([100.0]))[0] == grid.tiles - 1


def test_the_target_is_streamed_in_chunks():
    grid = Grid.of_source(np.array([[0.0, 0.0, 1.0, 1.0], [9.0, 9.0, 10.0, 10.0]]))
    boxes = np.array([[0.0, 0.0, 1.0, 1.0]] * 10 + [[0.0, 0.0, 10.0, 10.0]])  # 4 tiles each, then 100
    chunks = list(target_chunks(grid, boxes, limit=10))
    assert chunks[0] == slice(0, 2) and chunks[-1] == slice(10, 11)
    assert sum(c.stop - c.start for c in chunks) == len(boxes)


def test_granularity_must_be_positive():
    with pytest.raises(GeoKGError, match="granularity"):
        interlink(dataset("a", ["POINT(0 0)"]), dataset("b", ["POINT(0 0)"]), granularity=0)
