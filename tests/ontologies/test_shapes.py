"""The SHACL shapes: valid SHACL, conform on the contract's example records, fail with a clear message on broken ones.

The valid records are in tests/ontologies/data/ (one file per kind of record, exactly as
docs/data-model.md writes them); each broken record is a valid one changed by one SPARQL Update.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
from pyshacl.errors import ReportableRuntimeError
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SH

import ontologies
from ontologies import validate
from ontologies.namespaces import EO, FOOD, GEO, POLAR, SHAPES, sparql_prologue

DATA = Path(__file__).parent / "data"
EXAMPLES = sorted(DATA.glob("*.ttl"))
RECORD_CLASSES = {
    POLAR.SeaIceObservation, POLAR.SeaIceRegion, FOOD.CropTypeObservation, FOOD.CropRegion, FOOD.Parcel,
    FOOD.LucasObservation, FOOD.LucasPoint, EO.Sentinel1Product, EO.Sentinel2Product, EO.Model, GEO.Geometry,
}  # fmt: skip

S1 = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
S2 = "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339"
SEA_ICE_OBS = f"<https://w3id.org/eekg/data/sea-ice/{S1}/r17>"
SEA_ICE_REGION = f"<https://w3id.org/eekg/data/sea-ice/{S1}/r17/region>"
SEA_ICE_GEOMETRY = f"<https://w3id.org/eekg/data/sea-ice/{S1}/r17/region/geometry>"
S1_PRODUCT = f"<https://w3id.org/eekg/data/product/{S1}>"
S2_PRODUCT = f"<https://w3id.org/eekg/data/product/{S2}>"
CROP_OBS = "<https://w3id.org/eekg/data/crop-type/33UWP/2021/p4711>"
PARCEL = "<https://w3id.org/eekg/data/at-parcel/2021/1234567>"
LUCAS_OBS = "<https://w3id.org/eekg/data/lucas/2018/47902826>"
LUCAS_POINT = "<https://w3id.org/eekg/data/lucas/2018/47902826/point>"
LUCAS_GEOMETRY = "<https://w3id.org/eekg/data/lucas/2018/47902826/point/geometry>"
MODEL = "<https://w3id.org/eekg/data/model/sea-ice-cnn/1.0.0>"


def load(name: str) -> Graph:
    return Graph().parse(DATA / name, format="turtle")


def replace(subject: str, prop: str, new: str) -> str:
    """A SPARQL Update that replaces the values of ``prop`` on ``subject`` by ``new`` (or deletes them)."""
    insert = f"INSERT {{ {subject} {prop} {new} }}" if new else ""
    return f"DELETE {{ {subject} {prop} ?old }} {insert} WHERE {{ {subject} {prop} ?old }}"


# --------------------------------------------------------------------------------------------------
# The shapes graph itself


def test_the_shapes_graph_is_valid_shacl() -> None:
    conforms, _, _ = pyshacl.validate(Graph(), shacl_graph=ontologies.shapes_graph(), meta_shacl=True)
    assert conforms


def test_the_meta_shacl_check_catches_a_broken_shape() -> None:
    broken = Graph()
    broken += ontologies.shapes_graph()
    broken.add((SHAPES.ModelShape, SH.minCount, Literal("one")))  # sh:minCount on a node shape, not an integer
    with pytest.raises(ReportableRuntimeError):
        pyshacl.validate(Graph(), shacl_graph=broken, meta_shacl=True)


def test_there_is_a_node_shape_for_every_kind_of_record() -> None:
    shapes = ontologies.shapes_graph()
    targets = set(shapes.objects(None, SH.targetClass))
    assert RECORD_CLASSES <= targets
    assert (SHAPES.ProductRecordShape, SH.targetSubjectsOf, EO.mission) in shapes
    assert (SHAPES.FeatureGeometryShape, SH.targetObjectsOf, GEO.hasGeometry) in shapes


def test_every_constraint_a_record_can_fail_has_a_message() -> None:
    shapes = ontologies.shapes_graph()
    node_shapes = {s for s in shapes.subjects(RDF.type, SH.NodeShape) if shapes.value(s, SH.targetClass)
                   or shapes.value(s, SH.targetSubjectsOf) or shapes.value(s, SH.targetObjectsOf)}  # fmt: skip
    assert len(node_shapes) >= 13
    for node_shape in node_shapes:
        for prop in shapes.objects(node_shape, SH.property):
            assert shapes.value(prop, SH.message) is not None, (node_shape, shapes.value(prop, SH.path))
        for constraint in shapes.objects(node_shape, SH.sparql):
            assert shapes.value(constraint, SH.message) is not None, node_shape


# --------------------------------------------------------------------------------------------------
# Valid records conform


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_contract_examples_conform(path: Path) -> None:
    assert validate(load(path.name)) == []


def test_all_examples_together_conform_and_cover_every_record_kind() -> None:
    data = Graph()
    for path in EXAMPLES:
        data += load(path.name)
    assert validate(data) == []
    assert RECORD_CLASSES <= set(data.objects(None, RDF.type))


def test_validate_accepts_turtle_text_and_leaves_the_data_alone() -> None:
    data = load("sea-ice.ttl")
    before = len(data)
    assert validate(data) == []
    assert len(data) == before
    assert validate((DATA / "lucas.ttl").read_text(encoding="utf-8")) == []


def test_pyshacl_directly_with_the_code_lists_merged_in() -> None:
    shapes, codes = ontologies.shacl_graphs()
    conforms, _, text = pyshacl.validate(load("crop-type.ttl") + codes, shacl_graph=shapes)
    assert conforms, text


def test_without_the_code_lists_coded_values_are_reported() -> None:
    conforms, _, text = pyshacl.validate(load("sea-ice.ttl"), shacl_graph=ontologies.shapes_graph())
    assert not conforms and "polar:iceClass must be exactly one concept of the sea-ice code list" in text


# --------------------------------------------------------------------------------------------------
# Broken records fail with the right message

BROKEN = [
    # sea-ice prediction polygon
    ("missing geometry", "sea-ice.ttl", replace(SEA_ICE_REGION, "geo:hasGeometry", ""),
     SEA_ICE_REGION, "A feature needs exactly one geometry"),
    ("default geometry differs", "sea-ice.ttl", replace(SEA_ICE_REGION, "geo:hasDefaultGeometry", "<urn:x:other>"),
     SEA_ICE_REGION, "geo:hasDefaultGeometry, the same node as its geo:hasGeometry"),
    ("confidence 1.7", "sea-ice.ttl", replace(SEA_ICE_OBS, "eo:confidence", '"1.7"^^xsd:double'),
     SEA_ICE_OBS, "eo:confidence must lie between 0 and 1"),
    ("confidence as a string", "sea-ice.ttl", replace(SEA_ICE_OBS, "eo:confidence", '"0.93"'),
     SEA_ICE_OBS, "exactly one eo:confidence, an xsd:double"),
    ("two confidences", "sea-ice.ttl", f'INSERT DATA {{ {SEA_ICE_OBS} eo:confidence "0.5"^^xsd:double }}',
     SEA_ICE_OBS, "exactly one eo:confidence"),
    ("unknown ice class", "sea-ice.ttl", replace(SEA_ICE_OBS, "polar:iceClass", "seaice:thick-ice"),
     SEA_ICE_OBS, "polar:iceClass must be exactly one concept of the sea-ice code list"),
    ("ice class from another code list", "sea-ice.ttl", replace(SEA_ICE_OBS, "polar:iceClass", "crop:maize"),
     SEA_ICE_OBS, "polar:iceClass must be exactly one concept of the sea-ice code list"),
    ("ice class as a literal", "sea-ice.ttl", replace(SEA_ICE_OBS, "polar:iceClass", '"young-ice"'),
     SEA_ICE_OBS, "polar:iceClass must be exactly one concept"),
    ("result time without time zone", "sea-ice.ttl",
     replace(SEA_ICE_OBS, "sosa:resultTime", '"2018-03-05T07:35:20"^^xsd:dateTime'),
     SEA_ICE_OBS, "xsd:dateTime with a time zone"),
    ("result time as a date", "sea-ice.ttl", replace(SEA_ICE_OBS, "sosa:resultTime", '"2018-03-05"^^xsd:date'),
     SEA_ICE_OBS, "xsd:dateTime with a time zone"),
    ("no model", "sea-ice.ttl", replace(SEA_ICE_OBS, "prov:wasAttributedTo", ""),
     SEA_ICE_OBS, "exactly one prov:wasAttributedTo"),
    ("no feature of interest", "sea-ice.ttl", replace(SEA_ICE_OBS, "sosa:hasFeatureOfInterest", ""),
     SEA_ICE_OBS, "exactly one sosa:hasFeatureOfInterest, its polar:SeaIceRegion"),
    ("wrong observed property", "sea-ice.ttl", replace(SEA_ICE_OBS, "sosa:observedProperty", "food:cropTypeProperty"),
     SEA_ICE_OBS, "observes exactly polar:seaIceType"),
    ("malformed S1 identifier", "sea-ice.ttl", replace(S1_PRODUCT, "dcterms:identifier", f'"{S1}.SAFE"'),
     S1_PRODUCT, "not a Sentinel-1 product name"),
    ("identifier not matching the IRI", "sea-ice.ttl",
     replace(S1_PRODUCT, "dcterms:identifier", f'"{S1[:-4]}AAAA"'),
     S1_PRODUCT, "A product's IRI must be d:product/{identifier}"),
    ("derived from a Sentinel-2 product", "sea-ice.ttl",
     f"DELETE DATA {{ {S1_PRODUCT} a eo:Sentinel1Product }} ; INSERT DATA {{ {S1_PRODUCT} a eo:Sentinel2Product }}",
     SEA_ICE_OBS, "prov:wasDerivedFrom, the eo:Sentinel1Product"),
    ("model without version", "sea-ice.ttl", replace(MODEL, "eo:modelVersion", ""),
     MODEL, "exactly one non-empty eo:modelVersion"),
    ("region as a blank node", "sea-ice.ttl",
     replace(SEA_ICE_OBS, "sosa:hasFeatureOfInterest", "[ a polar:SeaIceRegion ]"),
     SEA_ICE_OBS, "exactly one sosa:hasFeatureOfInterest"),
    # geometry nodes
    ("garbage WKT", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:asWKT", '"POLYGN((0 0, 1 0, 1 1, 0 0))"^^geo:wktLiteral'),
     SEA_ICE_GEOMETRY, "geo:asWKT must be WKT"),
    ("WKT as a plain string", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:asWKT", '"POLYGON((0 0, 1 0, 1 1, 0 0))"'),
     SEA_ICE_GEOMETRY, "exactly one geo:asWKT, a geo:wktLiteral"),
    ("point as a region", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:asWKT", '"POINT(20.2 81.25)"^^geo:wktLiteral'),
     SEA_ICE_REGION, "must be a POLYGON or MULTIPOLYGON"),
    ("polygon without area", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:hasMetricArea", ""),
     SEA_ICE_GEOMETRY, "A polygonal geometry needs geo:hasMetricArea"),
    ("negative area", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:hasMetricArea", '"-1.0"^^xsd:double'),
     SEA_ICE_GEOMETRY, "geo:hasMetricArea, when present, must be one xsd:double of at least 0"),
    ("no dimension", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:dimension", ""),
     SEA_ICE_GEOMETRY, "exactly one geo:dimension"),
    ("isEmpty as a string", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:isEmpty", '"false"'),
     SEA_ICE_GEOMETRY, "exactly one geo:isEmpty, an xsd:boolean"),
    ("no centroid", "sea-ice.ttl", replace(SEA_ICE_GEOMETRY, "geo:hasCentroid", ""),
     SEA_ICE_GEOMETRY, "needs geo:hasCentroid"),
    # crop-type prediction polygon
    ("unknown crop type", "crop-type.ttl", replace(CROP_OBS, "food:cropType", "crop:wheat"),
     CROP_OBS, "food:cropType must be exactly one concept of the crop-type code list"),
    ("agronomic year as an integer", "crop-type.ttl", replace(CROP_OBS, "food:agronomicYear", "2021"),
     CROP_OBS, "exactly one food:agronomicYear, an xsd:gYear"),
    ("tile with the T", "crop-type.ttl", replace(CROP_OBS, "eo:tile", '"T33UWP"'),
     CROP_OBS, "eo:tile must be one Sentinel-2 MGRS tile"),
    ("no tile", "crop-type.ttl", replace(CROP_OBS, "eo:tile", ""),
     CROP_OBS, "needs its eo:tile"),
    ("malformed S2 identifier", "crop-type.ttl", replace(S2_PRODUCT, "dcterms:identifier", '"S2A_MSIL2A_20210615"'),
     S2_PRODUCT, "not a Sentinel-2 product name"),
    # Austrian parcel
    ("unknown Austrian code", "at-parcel.ttl", replace(PARCEL, "food:declaredCrop", "atcrop:999"),
     PARCEL, "food:declaredCrop must be exactly one Austrian crop code of 2021"),
    ("negative declared area", "at-parcel.ttl", replace(PARCEL, "food:declaredArea", '"-1.0"^^xsd:double'),
     PARCEL, "food:declaredArea, when given, must be one xsd:double of at least 0"),
    ("declared crop name without language", "at-parcel.ttl", replace(PARCEL, "food:declaredCropName", '"WINTERWEICHWEIZEN"'),
     PARCEL, "the declared name tagged @de"),
    ("parcel without geometry", "at-parcel.ttl", replace(PARCEL, "geo:hasGeometry", ""),
     PARCEL, "A feature needs exactly one geometry"),
    # LUCAS
    ("unknown LC1 code", "lucas.ttl", replace(LUCAS_OBS, "food:landCover", "lc1:Z99"),
     LUCAS_OBS, "food:landCover must be exactly one LUCAS 2018 LC1 code"),
    ("position source in capitals", "lucas.ttl", replace(LUCAS_OBS, "food:positionSource", '"GPS"'),
     LUCAS_OBS, 'food:positionSource must be exactly one of "gps" or "theoretical"'),
    ("survey date as published", "lucas.ttl", replace(LUCAS_OBS, "food:surveyDate", '"14/06/18"'),
     LUCAS_OBS, "exactly one food:surveyDate, an xsd:date"),
    ("GPS precision missing-value code left negative", "lucas.ttl",
     replace(LUCAS_OBS, "food:gpsPrecision", '"-8.0"^^xsd:double'),
     LUCAS_OBS, "food:gpsPrecision, when present"),
    ("point id as a number", "lucas.ttl", replace(LUCAS_POINT, "food:pointId", '"4.7902826E7"'),
     LUCAS_POINT, "the 8-digit POINT_ID as a string"),
    ("polygon as a LUCAS point", "lucas.ttl",
     replace(LUCAS_GEOMETRY, "geo:asWKT", '"POLYGON((16 48, 16.1 48, 16.1 48.1, 16 48))"^^geo:wktLiteral'),
     LUCAS_POINT, "The geometry of a LUCAS point must be a POINT"),
    # product catalogue records
    ("cloud cover 120", "product-s2.ttl", replace(S2_PRODUCT, "eo:cloudCover", '"120.0"^^xsd:double'),
     S2_PRODUCT, "eo:cloudCover, when present, must be one xsd:double from 0 to 100"),
    ("cloud cover on a radar product", "product-s1.ttl", f'INSERT DATA {{ {S1_PRODUCT} eo:cloudCover "3.0"^^xsd:double }}',
     S1_PRODUCT, "A Sentinel-1 (radar) product has no eo:cloudCover"),
    ("Sentinel-1 mission on a Sentinel-2 product", "product-s2.ttl", replace(S2_PRODUCT, "eo:mission", '"Sentinel-1A"'),
     S2_PRODUCT, "A Sentinel-2 product's eo:mission must be"),
    ("sensing stop before start", "product-s1.ttl",
     replace(S1_PRODUCT, "eo:sensingStop", '"2018-03-05T07:30:00Z"^^xsd:dateTime'),
     S1_PRODUCT, "eo:sensingStart, an xsd:dateTime not after eo:sensingStop"),
    ("unknown instrument mode", "product-s1.ttl", replace(S1_PRODUCT, "eo:instrumentMode", '"XW"'),
     S1_PRODUCT, "exactly one eo:instrumentMode"),
    ("polarisation with a comma", "product-s1.ttl", replace(S1_PRODUCT, "eo:polarisation", '"HH,HV"'),
     S1_PRODUCT, "eo:polarisation, when present"),
    ("relative orbit 0", "product-s1.ttl", replace(S1_PRODUCT, "eo:relativeOrbit", "0"),
     S1_PRODUCT, "eo:relativeOrbit, when present, must be one xsd:integer from 1 to 175"),
    ("orbit as a double", "product-s1.ttl", replace(S1_PRODUCT, "eo:absoluteOrbit", '"20867.0"^^xsd:double'),
     S1_PRODUCT, "eo:absoluteOrbit, when present, must be one positive xsd:integer"),
    ("footprint missing", "product-s1.ttl", replace(S1_PRODUCT, "geo:hasGeometry", ""),
     S1_PRODUCT, "A feature needs exactly one geometry"),
    ("catalogue record without class", "product-s1.ttl", f"DELETE DATA {{ {S1_PRODUCT} a eo:Sentinel1Product }}",
     S1_PRODUCT, "must be typed eo:Sentinel1Product or eo:Sentinel2Product"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("file", "update", "focus", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_broken_records_fail_with_a_clear_message(file: str, update: str, focus: str, message: str) -> None:
    data = load(file)
    data.update(sparql_prologue() + update)
    violations = validate(data)
    assert violations, "the broken record conforms"
    matching = [v for v in violations if message in v.message]
    assert matching, f"expected {message!r}; got {[v.message for v in violations]}"
    assert any(v.focus == focus.strip("<>") for v in matching), [v.focus for v in matching]
    assert all(v.message != "(no message)" for v in violations)


def test_a_violation_names_path_value_and_shape() -> None:
    data = load("sea-ice.ttl")
    data.update(sparql_prologue() + replace(SEA_ICE_OBS, "eo:confidence", '"1.7"^^xsd:double'))
    (violation,) = validate(data)
    assert violation.path == str(EO.confidence)
    assert violation.value == "1.7"
    assert violation.shape == str(SHAPES.confidenceRange)
    assert violation.severity == "Violation"


# --------------------------------------------------------------------------------------------------
# Product identifier patterns against real product names


def pattern(shape: URIRef) -> re.Pattern[str]:
    shapes = ontologies.shapes_graph()
    (value,) = [shapes.value(p, SH.pattern) for p in shapes.objects(shape, SH.property)
                if shapes.value(p, SH.path) == ontologies.namespaces.DCTERMS.identifier and shapes.value(p, SH.pattern)]  # fmt: skip
    return re.compile(str(value))


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("S1A_EW_GRDM_1SSH_20181103T235855_20181103T235955_024430_02AD5D_5616", True),
        ("S1A_IW_GRDH_1SDV_20150222T170750_20150222T170815_004739_005DD8_3768", True),
        ("S1A_IW_GRDH_1SDV_20151021T063752_20151021T063817_008247_00B9CD_2770", True),
        ("S1B_IW_SLC__1SDV_20190101T050000_20190101T050027_014293_01A9A0_1C2B", True),
        ("S1A_S3_GRDH_1SDV_20200101T000000_20200101T000025_030591_038135_9F1E", True),  # stripmap beam S3
        ("S1B_WV_OCN__2SSV_20190101T000000_20190101T000100_014293_01A9A0_0A1B", True),
        ("S1A_IW_GRDH_1SDV_20151021T063752_20151021T063817_008247_00B9CD_2770.SAFE", False),
        ("S1A_IW_GRDH_1SDV_20151021T063752_20151021T063817_008247_00B9CD_2770_COG", False),
        ("S1A_SM_GRDH_1SDV_20200101T000000_20200101T000025_030591_038135_9F1E", False),  # SM is S1..S6 in names
        ("S1A_IW_GRD_1SDV_20151021T063752_20151021T063817_008247_00B9CD_2770", False),  # resolution class missing
        ("s1a_iw_grdh_1sdv_20151021t063752_20151021t063817_008247_00b9cd_2770", False),
    ],
)
def test_sentinel1_identifier_pattern(name: str, valid: bool) -> None:
    assert bool(pattern(SHAPES.Sentinel1ProductShape).match(name)) is valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("S2A_MSIL1C_20170105T013442_N0204_R031_T53NMJ_20170105T013443", True),
        ("S2B_MSIL2A_20210615T095029_N0300_R079_T33UWP_20210615T121339", True),
        ("S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339.SAFE", False),
        ("S2A_MSIL1B_20170105T013442_N0204_R031_T53NMJ_20170105T013443", False),
        ("S2A_MSIL1C_20170105T013442_N0204_R031_53NMJ_20170105T013443", False),
        ("S2A_MSIL1C_20170105T013442_N0204_R031_T53NMI_20170105T013443", False),  # no I in MGRS squares
    ],
)
def test_sentinel2_identifier_pattern(name: str, valid: bool) -> None:
    assert bool(pattern(SHAPES.Sentinel2ProductShape).match(name)) is valid
