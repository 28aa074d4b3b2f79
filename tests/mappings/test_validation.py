"""SHACL validation while mapping: strict loads nothing, report loads the valid records and names the rest."""

from __future__ import annotations

import geopandas
import pandas as pd
import pytest
import shapely
from mapping_helpers import CASES, DATA, MAPPINGS, mapped

import ontologies
from api.mapping import map_into_store
from kg.embedded import EmbeddedStore
from mappings.errors import MappingError

S1 = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
COUNT = "SELECT (COUNT(*) AS ?n) {{ ?s a <{cls}> }}"
OBSERVATION = "https://w3id.org/eekg/ont/polar#SeaIceObservation"


@pytest.fixture(scope="module")
def bad_sea_ice(tmp_path_factory):
    """Four regions: row 2 has a confidence of 1.7, row 3 an ice class that is not in the code list."""
    path = tmp_path_factory.mktemp("inputs") / "sea_ice.parquet"
    geopandas.GeoDataFrame(
        {"region_id": ["a", "b", "c", "d"], "ice_class": ["young-ice", "ice", "slush", "water"],
         "confidence": [0.9, 1.7, 0.8, 0.6], "product_id": [S1] * 4,
         "time": pd.to_datetime(["2018-03-05T07:35:20Z"] * 4, utc=True),
         "model": ["polar-unet"] * 4, "model_version": ["1.2.0"] * 4},
        geometry=[shapely.box(10 + i, 80, 11 + i, 80.5) for i in range(4)], crs="OGC:CRS84",
    ).to_parquet(path)
    return path


@pytest.fixture
def store(tmp_path):
    with EmbeddedStore(tmp_path / "store") as opened:
        yield opened


def count(store, cls: str) -> int:
    return int(store.query(COUNT.format(cls=cls)).bindings()[0]["n"].value)


def test_every_test_input_maps_to_records_that_conform_to_the_shapes():
    data = "".join(str(t) + " .\n" for mapping, input_name, *_ in CASES for t in mapped(mapping, input_name))
    assert ontologies.validate(data, data_format="nt") == []


def test_strict_rejects_the_invalid_records_with_their_rows_and_the_shapes_messages(store, bad_sea_ice):
    with pytest.raises(MappingError) as error:
        map_into_store(store, MAPPINGS / "sea_ice.rml.ttl", [bad_sea_ice], validate="strict")
    message = error.value.message
    assert message.startswith("2 row(s) cannot be mapped, so nothing was loaded: ")
    assert "sea_ice.parquet, row 2: eo:confidence must lie between 0 and 1 (a probability, not a percentage). (confidence = 1.7)" in message
    assert "sea_ice.parquet, row 3: polar:iceClass must be exactly one concept of the sea-ice code list" in message
    assert "(iceClass = https://w3id.org/eekg/codes/sea-ice/slush)" in message
    assert store.size().triples == 0


def test_report_loads_the_valid_records_only_and_lists_the_others(store, bad_sea_ice):
    run, report = map_into_store(store, MAPPINGS / "sea_ice.rml.ttl", [bad_sea_ice], validate="report")
    assert [r.row for r in run.rejected] == [2, 3]
    assert "eo:confidence must lie between 0 and 1" in run.rejected[0].reason
    assert count(store, OBSERVATION) == 2 and report.geometries == 4  # two regions, two centroids
    regions = store.query("SELECT ?r { ?o <http://www.w3.org/ns/sosa/hasFeatureOfInterest> ?r } ORDER BY ?r").bindings()
    assert [b["r"].value.rsplit("/", 2)[1] for b in regions] == ["a", "d"]
    # the model and the product that the valid records share are kept
    assert count(store, "https://w3id.org/eekg/ont/eo#Model") == 1
    assert count(store, "https://w3id.org/eekg/ont/eo#Sentinel1Product") == 1
    assert ontologies.validate(store.dump("ntriples").decode(), data_format="nt") == []


def test_off_loads_every_record_without_checking(store, bad_sea_ice):
    run, _ = map_into_store(store, MAPPINGS / "sea_ice.rml.ttl", [bad_sea_ice], validate="off")
    assert run.rejected == [] and count(store, OBSERVATION) == 4


def test_a_lucas_point_with_an_unknown_land_cover_is_reported(store, tmp_path):
    lines = (DATA / "lucas.csv").read_text().splitlines()
    bad = tmp_path / "lucas.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace('"B11"', '"B99"'), *lines[2:]]) + "\n")
    run, _ = map_into_store(store, MAPPINGS / "lucas.rml.ttl", [bad], validate="report")
    assert [(r.row, r.reason.split(";")[0].split(" (")[0]) for r in run.rejected] == [
        (1, "food:landCover must be exactly one LUCAS 2018 LC1 code")]
    assert count(store, "https://w3id.org/eekg/ont/food#LucasObservation") == 4


def test_an_unknown_validation_mode(store):
    with pytest.raises(MappingError, match="Got validate='lenient'; use strict, report or off."):
        map_into_store(store, MAPPINGS / "sea_ice.rml.ttl", [DATA / "sea_ice.parquet"], validate="lenient")
