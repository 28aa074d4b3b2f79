"""The Geographica-style generator (benchmarks/geographica.py): deterministic, with the selectivities it claims."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import shapely

_PATH = Path(__file__).parents[2] / "benchmarks" / "geographica.py"
_spec = importlib.util.spec_from_file_location("geographica_benchmark", _PATH)
geographica = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = geographica  # dataclasses look their module up there
_spec.loader.exec_module(geographica)


def test_generation_is_deterministic(tmp_path):
    a, b = geographica.generate(1000, seed=7), geographica.generate(1000, seed=7)
    for kind in geographica.KINDS:
        assert (a.wkt[kind] == b.wkt[kind]).all() and (a.u[kind] == b.u[kind]).all()
    assert a.windows == b.windows and a.poi_radius == b.poi_radius
    geographica.write_ntriples(a, tmp_path / "a.nt")
    geographica.write_ntriples(b, tmp_path / "b.nt")
    assert (tmp_path / "a.nt").read_bytes() == (tmp_path / "b.nt").read_bytes()
    assert geographica.generate(1000, seed=8).wkt["poi"][0] != a.wkt["poi"][0]


def test_spatial_and_thematic_selectivities():
    data = geographica.generate(3000, seed=1)
    sel = {s: w["selectivity"] for s, w in data.windows.items()}
    assert sel[1.0] == 1.0
    assert 0.09 <= sel[0.1] <= 0.11 and 0.008 <= sel[0.01] <= 0.013
    assert sel[0.001] <= 0.003  # the smallest window is never degenerate, so a few hits at small scales
    tree = shapely.STRtree(data.all_geoms())  # the recorded counts are those of the rounded WKT
    window = shapely.from_wkt(data.windows[0.1]["wkt"])
    assert len(tree.query(window, predicate="intersects")) == data.windows[0.1]["intersects"]
    u = np.concatenate([data.u[k] for k in geographica.KINDS])
    assert abs((u % 10 == 0).mean() - 0.1) < 0.02 and abs((u % 100 == 0).mean() - 0.01) < 0.006


def test_hexagon_parcels_tile_and_touch_exactly():
    data = geographica.generate(1000, seed=42)
    parcels = data.geoms["parcel"]
    tree = shapely.STRtree(parcels)
    left, right = tree.query(parcels, predicate="touches")
    rows = round(np.sqrt(len(parcels) / 1.155))
    cols = len(parcels) // rows
    edges = cols * (rows - 1) + (cols - 1) * (2 * rows - 1)  # flat-top, odd columns shifted up
    assert len(left) == 2 * edges
    assert not tree.query(parcels, predicate="overlaps")[0].size  # a tiling: no overlaps
