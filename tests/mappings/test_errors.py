"""Bad mappings and bad inputs: one clear message each, and the store exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mapping_helpers import DATA, MAPPINGS

from api.mapping import map_into_store
from kg.embedded import EmbeddedStore
from mappings.errors import MappingError

BEFORE = b'<https://w3id.org/eekg/data/x> <http://purl.org/dc/terms/identifier> "there before" .\n'
PRODUCTS = (DATA / "products.csv").read_text()
SEA_ICE = (MAPPINGS / "sea_ice.rml.ttl").read_text()


@pytest.fixture(params=["disk", "memory"])
def store(request, tmp_path):
    """On disk a failed load goes back to a checkpoint; in memory every part is checked first."""
    with EmbeddedStore(tmp_path / "store" if request.param == "disk" else None) as opened:
        opened.load_data(BEFORE, "ntriples")
        yield opened


def unchanged(store) -> bool:
    return store.dump("ntriples") == BEFORE


def mapping_file(tmp_path: Path, text: str, name: str = "broken.rml.ttl") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def csv_file(tmp_path: Path, text: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def fails(store, mapping: Path, inputs, message: str, **options) -> str:
    with pytest.raises(MappingError) as error:
        map_into_store(store, mapping, inputs, **options)
    assert message in error.value.message, error.value.message
    assert unchanged(store)
    return error.value.message


def test_malformed_csv(store, tmp_path):
    lines = PRODUCTS.splitlines()
    broken = csv_file(tmp_path, "\n".join([lines[0], lines[1], lines[2] + ",one too many"]) + "\n")
    fails(store, MAPPINGS / "products.rml.ttl", [broken], "products.csv: not a well-formed CSV file: "
          "Error tokenizing data. C error: Expected 12 fields in line 3, saw 13")
    unquoted = csv_file(tmp_path, PRODUCTS.replace('"POLYGON ((14.99973', 'POLYGON ((14.99973'), "unquoted.csv")
    fails(store, MAPPINGS / "products.rml.ttl", [unquoted], "unquoted.csv: not a well-formed CSV file: ")


def test_a_first_row_with_a_field_too_many_is_not_read_shifted(store, tmp_path):
    lines = PRODUCTS.splitlines()
    broken = csv_file(tmp_path, "\n".join([lines[0], lines[1] + ",one too many", lines[2]]) + "\n")
    fails(store, MAPPINGS / "products.rml.ttl", [broken], "products.csv: not a well-formed CSV file")


def test_a_column_the_mapping_needs_is_missing(store, tmp_path):
    header, *rows = PRODUCTS.splitlines()
    without_tile = "\n".join(line.replace(",33UWP,", ",").replace(",,,", ",,") for line in [header.replace(",tile", ""), *rows])
    message = fails(store, MAPPINGS / "products.rml.ttl", [csv_file(tmp_path, without_tile + "\n")],
                    "the mapping products.rml.ttl reads the columns ['tile'], which this input does not have")
    assert "it has ['identifier', 'mission'" in message


def test_unknown_input_kind(store, tmp_path):
    sheet = tmp_path / "products.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    fails(store, MAPPINGS / "products.rml.ttl", [sheet], "products.xlsx: unknown input kind; name it with one of")


def test_shapefile_without_prj(store, tmp_path):
    for part in DATA.glob("at_parcels.*"):
        if part.suffix != ".prj":
            shutil.copy(part, tmp_path / part.name)
    fails(store, MAPPINGS / "at_parcels.rml.ttl", [tmp_path / "at_parcels.shp"],
          "the input names no CRS (a shapefile needs its .prj file)")


def broken_wkt_products(tmp_path: Path) -> Path:
    header, s1, s2 = PRODUCTS.splitlines()
    return csv_file(tmp_path, "\n".join([header, s1.split(',"POLYGON')[0] + ',"POLYGON ((2.1 79.2, 25.3"', s2]) + "\n")


def test_broken_wkt_in_a_csv_strict_loads_nothing_and_names_the_row(store, tmp_path):
    message = fails(store, MAPPINGS / "products.rml.ttl", [broken_wkt_products(tmp_path)], "products.csv, row 1: invalid WKT")
    assert message.startswith("1 row(s) cannot be mapped, so nothing was loaded: ")
    assert "'POLYGON ((2.1 79.2, 25.3'" in message and "--validate report" in message


def test_broken_wkt_in_a_csv_report_loads_the_other_rows(store, tmp_path):
    run, report = map_into_store(store, MAPPINGS / "products.rml.ttl", [broken_wkt_products(tmp_path)], validate="off")
    assert [(r.row, r.reason.split(" '")[0]) for r in run.rejected] == [(1, "invalid WKT")]
    assert report.triples == 25  # the Sentinel-2 record: 13 triples of the product, 12 of its geometry nodes
    identifiers = store.query("SELECT ?i { ?p <http://purl.org/dc/terms/identifier> ?i }").bindings()
    assert sorted(b["i"].value for b in identifiers) == [
        "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339", "there before"]


def test_self_intersecting_polygon(store, tmp_path):
    text = (DATA / "crop_type.geojson").read_text().replace(
        "[16.01, 48.33], [16.013, 48.33], [16.013, 48.333], [16.01, 48.333]",
        "[16.01, 48.33], [16.013, 48.333], [16.013, 48.33], [16.01, 48.333]")  # a bow tie
    bowtie = tmp_path / "crop_type.geojson"
    bowtie.write_text(text)
    fails(store, MAPPINGS / "crop_type.rml.ttl", [bowtie], "crop_type.geojson, row 1: invalid geometry: Self-intersection[16.0115 48.3315]")


def test_a_mapping_reading_another_source(store, tmp_path):
    other = mapping_file(tmp_path, SEA_ICE.replace('rml:source "{input}"', 'rml:source "regions.csv"'))
    fails(store, other, [DATA / "sea_ice.parquet"],
          'reads regions.csv; mappings run by eekg read the input given to them, written rml:source "{input}"')


def test_an_unknown_function(store, tmp_path):
    other = mapping_file(tmp_path, SEA_ICE.replace("eekgfn:metricArea", "eekgfn:metricVolume"))
    message = fails(store, other, [DATA / "sea_ice.parquet"], "unknown function https://w3id.org/eekg/fn#metricVolume")
    assert "the runner provides eekgfn: asWKT, centroidWKT" in message


def test_a_function_input_the_function_does_not_take(store, tmp_path):
    other = mapping_file(tmp_path, SEA_ICE.replace("rml:parameter eekgfn:value", "rml:parameter eekgfn:text"))
    fails(store, other, [DATA / "sea_ice.parquet"], "has no parameter eekgfn:text; it takes ['value']")


def test_a_broken_turtle_mapping(store, tmp_path):
    other = mapping_file(tmp_path, SEA_ICE.replace(":Region a rml:TriplesMap ;", ":Region a rml:TriplesMap"))
    fails(store, other, [DATA / "sea_ice.parquet"], "broken.rml.ttl: not a valid Turtle RML mapping")


@pytest.mark.parametrize("which", ["mapping", "input"])
def test_a_missing_file(store, tmp_path, which):
    mapping = tmp_path / "nowhere.rml.ttl" if which == "mapping" else MAPPINGS / "sea_ice.rml.ttl"
    inputs = [DATA / "sea_ice.parquet"] if which == "mapping" else [tmp_path / "nowhere.parquet"]
    fails(store, mapping, inputs, "nowhere.rml.ttl: no such mapping file." if which == "mapping" else "nowhere.parquet: no such file.")


def test_a_failure_in_a_later_input_loads_nothing_of_the_earlier_ones(store, tmp_path):
    fails(store, MAPPINGS / "products.rml.ttl", [DATA / "products.csv", broken_wkt_products(tmp_path)], "row 1: invalid WKT")
