"""Prediction maps: valid polygons of equal class, with confidences, that the mapping stage loads
under its SHACL shapes."""

from __future__ import annotations

from pathlib import Path

import geopandas
import numpy as np
import pytest
import shapely

from api.mapping import map_into_store
from kg.embedded import EmbeddedStore
from ml.errors import InvalidModelInput
from ml.georef import Georeference
from ml.harmonise import composites
from ml.inference import crop_map, prediction_polygons, sea_ice_map, write_geoparquet
from ml.series import load_eopatch
from ml.vectorise import NO_DATA, regions
from ontologies import CODELIST_FILES, ONTOLOGY_FILES

RML = Path(__file__).resolve().parents[2] / "mappings" / "rml"
S1 = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
S2 = "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339"


def test_regions_cover_each_class_exactly_once():
    rng = np.random.default_rng(4)
    classes = rng.integers(-1, 3, (40, 30))
    classes[10:20, 5:25] = 2  # a large block among the noise
    confidence = rng.random((40, 30))
    found = regions(classes, confidence)
    assert shapely.is_valid(found.geometries).all()
    for c in (0, 1, 2):
        mine = found.geometries[found.classes == c]
        assert sum(g.area for g in mine) == (classes == c).sum()  # every cell once, no overlap
        assert shapely.union_all(mine).area == (classes == c).sum()
    assert found.pixels.sum() == (classes != NO_DATA).sum()
    # each region's confidence is the mean over its cells
    big = int(np.argmax(found.pixels))
    cells = np.argwhere(classes == found.classes[big])
    inside = [confidence[r, c] for r, c in cells if found.geometries[big].contains(shapely.Point(c + 0.5, r + 0.5))]
    assert found.confidence[big] == pytest.approx(np.mean(inside))


@pytest.fixture(scope="module")
def store():
    s = EmbeddedStore()
    s.load([*ONTOLOGY_FILES, *CODELIST_FILES])
    return s


def test_a_sea_ice_map_of_patches_passes_the_mapping_stage(registry, patches, store, tmp_path):
    model, card = registry.load("tiny-sea-ice")
    place = Georeference("EPSG:32633", 242_000, 9_204_000, 40)
    class_map = sea_ice_map(model, card, patches, cell=128, georef=place)
    covered = class_map.classes != NO_DATA
    assert 0 < covered.mean() < 1 and ((class_map.confidence[covered] >= 1 / 3) & (class_map.confidence[covered] <= 1)).all()
    frame = prediction_polygons(class_map, card, product_id=S1, time="2018-03-05T07:35:20Z")
    assert len(frame) > 3 and frame.geometry.is_valid.all() and frame.crs.to_epsg() == 32633
    assert set(frame.ice_class) <= {"water", "ice", "land"} and frame.confidence.between(0, 1).all()
    assert (frame.model == "tiny-sea-ice").all() and (frame.model_version == card.version).all()
    assert frame.geometry.area.sum() == pytest.approx(covered.sum() * (128 * 40) ** 2)
    path = write_geoparquet(frame, tmp_path / "sea_ice.parquet")
    assert geopandas.read_parquet(path).crs.to_epsg() == 32633
    run, report = map_into_store(store, RML / "sea_ice.rml.ttl", [path], graph="http://example.org/ice", validate="strict")
    assert run.rows == len(frame) and not run.rejected and report.geometries == 2 * len(frame)
    answer = store.query("""PREFIX polar: <https://w3id.org/eekg/ont/polar#> SELECT (COUNT(*) AS ?n)
        { GRAPH <http://example.org/ice> { ?o polar:iceClass ?c } }""")
    assert int(answer.bindings()[0]["n"].value) == len(frame)


def test_a_crop_map_of_the_real_cube_passes_the_mapping_stage(registry, store, tmp_path):
    model, card = registry.load("tiny-crop")
    patch = load_eopatch()
    cube = composites(patch.ndvi, patch.clouds, patch.timestamps, 2016, period=8)  # 46 steps, as UCR Crop
    class_map = crop_map(model, card, cube.values)
    assert class_map.classes.shape == (101, 100) and (class_map.classes != NO_DATA).all()
    frame = prediction_polygons(class_map, card, product_id=S2, time="2016-12-31T23:59:59Z", tile="33TVM",
                                agronomic_year=2016)
    assert frame.geometry.is_valid.all() and set(frame.crop_type) <= set(card.codes.values())
    uncoded = {card.classes[c] for c in np.unique(class_map.classes)} - set(card.codes)
    assert not uncoded or "left out: no code-list concept" in frame.attrs["notes"][-1]
    assert len(frame) > 0  # some regions have a coded class: the mapping stage has something to check
    path = write_geoparquet(frame, tmp_path / "crop.parquet")
    run, _ = map_into_store(store, RML / "crop_type.rml.ttl", [path], validate="strict")
    assert run.rows == len(frame) and not run.rejected


def test_inputs_that_do_not_fit_are_refused(registry):
    model, card = registry.load("tiny-crop")
    with pytest.raises(InvalidModelInput, match=r"takes \(steps, rows, cols, bands\) with 46 steps"):
        crop_map(model, card, np.zeros((12, 5, 5, 1)))
    model, card = registry.load("tiny-sea-ice")
    with pytest.raises(InvalidModelInput, match="needs its Sentinel-2 tile"):
        prediction_polygons(crop_map(*registry.load("tiny-crop"), np.zeros((46, 2, 2, 1))),
                            registry.card("tiny-crop"), product_id=S2, time="2016-12-31T00:00:00Z")
