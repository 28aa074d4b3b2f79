"""Each mapping over a small input in its real layout, against triples written by hand (data/expected/)."""

from __future__ import annotations

import pytest
import shapely
from make_test_data import LUCAS_POINTS, PARCELS, SEA_ICE
from mapping_helpers import CASES, DATA, GEO, assert_same_triples, expected, geodesic_area, map_file, mapped, objects

D = "https://w3id.org/eekg/data/"
FOOD = "https://w3id.org/eekg/ont/food#"
EO = "https://w3id.org/eekg/ont/eo#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
S1 = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"


@pytest.mark.parametrize("mapping,input_name,golden,records", CASES, ids=[c[0] for c in CASES])
def test_records_are_the_hand_written_triples(mapping, input_name, golden, records):
    assert_same_triples(mapped(mapping, input_name), expected(golden))


@pytest.mark.parametrize("mapping,input_name,golden,records", CASES, ids=[c[0] for c in CASES])
def test_every_record_has_one_complete_geometry_node(mapping, input_name, golden, records):
    triples = mapped(mapping, input_name)
    features = {t.subject.value for t in triples if t.predicate.value == GEO + "hasGeometry"}
    assert len(features) == records
    for feature in features:
        assert objects(triples, feature, GEO + "hasDefaultGeometry") == [feature + "/geometry"]
        geometry = feature + "/geometry"
        for predicate in ("asWKT", "dimension", "coordinateDimension", "spatialDimension", "isEmpty", "isSimple", "is3D"):
            assert len(objects(triples, geometry, GEO + predicate)) == 1, (geometry, predicate)
        assert objects(triples, geometry, GEO + "hasCentroid") == [feature + "/centroid"]
        assert len(objects(triples, feature + "/centroid", GEO + "asWKT")) == 1


def test_areas_are_geodesic_square_metres_and_lines_have_no_length():
    triples = mapped("crop_type", "crop_type.geojson")
    for region in ("17", "18"):  # 18 is a MultiPolygon: the area of both parts
        geometry = f"{D}crop-type/33UWP/2021/{region}/region/geometry"
        shape = shapely.from_wkt(objects(triples, geometry, GEO + "asWKT")[0])
        [area] = objects(triples, geometry, GEO + "hasMetricArea")
        assert float(area) == pytest.approx(geodesic_area(shape), rel=1e-7)
        assert objects(triples, geometry, GEO + "hasMetricLength") == []
    assert objects(triples, f"{D}crop-type/33UWP/2021/18/region/geometry", GEO + "dimension") == ["2"]


def test_parcels_come_from_austria_lambert_to_crs84_with_every_declared_value():
    triples = mapped("at_parcels", "at_parcels.shp")
    for parcel_id, code, name, year, area_ha, ring in PARCELS:
        parcel = f"{D}at-parcel/{year}/{parcel_id}"
        shape = shapely.from_wkt(objects(triples, parcel + "/geometry", GEO + "asWKT")[0])
        assert shapely.hausdorff_distance(shape, shapely.Polygon(ring)) < 1e-7  # degrees: about 1 cm
        assert objects(triples, parcel, FOOD + "declaredCrop") == [f"https://w3id.org/eekg/codes/at-crop-2021/{code}"]
        assert objects(triples, parcel, FOOD + "declaredCropName") == [name]
        assert objects(triples, parcel, FOOD + "declaredArea") == ([] if area_ha is None else [str(area_ha)])


def test_sea_ice_from_polar_stereographic_to_crs84():
    triples = mapped("sea_ice", "sea_ice.parquet")
    for region_id, ice_class, confidence, ring in SEA_ICE:
        geometry = f"{D}sea-ice/{S1}/{region_id}/region/geometry"
        shape = shapely.from_wkt(objects(triples, geometry, GEO + "asWKT")[0])
        assert shapely.hausdorff_distance(shape, shapely.Polygon(ring)) < 1e-9
        observation = f"{D}sea-ice/{S1}/{region_id}"
        assert objects(triples, observation, "https://w3id.org/eekg/ont/polar#iceClass") == [
            f"https://w3id.org/eekg/codes/sea-ice/{ice_class}"]


def test_lucas_missing_value_codes_write_no_triple_but_measured_eights_stay():
    triples = mapped("lucas", "lucas.csv")
    by_id = {p["POINT_ID"]: p for p in LUCAS_POINTS}
    assert objects(triples, f"{D}lucas/2018/47642822", FOOD + "gpsPrecision") == ["8"]  # 8 m is a precision
    assert objects(triples, f"{D}lucas/2018/47642822", FOOD + "observationDistance") == ["88"]
    assert objects(triples, f"{D}lucas/2018/47662816", FOOD + "gpsPrecision") == []  # 8888: missing
    assert objects(triples, f"{D}lucas/2018/47662816", FOOD + "observationDistance") == []
    assert objects(triples, f"{D}lucas/2018/47722824", FOOD + "landCoverSpecies") == ["Quercus"]
    assert [t for t in triples if t.predicate.value == FOOD + "landCoverSpecies"] != []
    assert all(t.object.value != "8" for t in triples if t.predicate.value == FOOD + "landCoverSpecies")
    sources = {t.subject.value.rsplit("/", 1)[1]: t.object.value for t in triples
               if t.predicate.value == FOOD + "positionSource"}
    assert sources == {i: ("theoretical" if p["GPS_LAT"] == "88.888888" else "gps") for i, p in by_id.items()}


def test_products_are_typed_by_mission_and_optional_values_are_left_out():
    triples = mapped("products", "products.csv")
    s2 = f"{D}product/S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339"
    assert objects(triples, s2, RDF_TYPE) == [EO + "Sentinel2Product"]
    assert objects(triples, s2, EO + "cloudCover") == ["3.2"] and objects(triples, s2, EO + "tile") == ["33UWP"]
    assert objects(triples, s2, EO + "polarisation") == []
    assert objects(triples, f"{D}product/{S1}", EO + "cloudCover") == []


def test_chunks_give_the_same_triples_as_one_pass():
    run, triples = map_file("lucas", DATA / "lucas.csv", chunk_rows=3)
    assert run.parts == 2 and run.rows == 5
    assert set(triples) == set(mapped("lucas", "lucas.csv"))
