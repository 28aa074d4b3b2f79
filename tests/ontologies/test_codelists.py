"""The SKOS code lists: well-formed concepts, the required classes, the generated Austrian list, mappings."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from rdflib import RDF, Graph, Literal, URIRef

import ontologies
from ontologies import build_codelists
from ontologies.namespaces import ATCROP, CROP, LC1, SEAICE, SKOS, WMO

SCHEMES = {SEAICE.scheme: SEAICE, CROP.scheme: CROP, LC1.scheme: LC1, ATCROP.scheme: ATCROP, WMO.scheme: WMO}
MATCHES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)

CROP_TYPES = {
    "grassland", "maize", "legumes", "winter-caraway", "winter-wheat", "rapeseed", "potato", "rye",
    "winter-barley", "beet", "spring-barley", "soy", "sunflower", "permanent-plantations", "triticale", "other-crops",
}  # fmt: skip
SEA_ICE_CLASSES = {
    "water", "open-water-in-leads", "ice", "brash-pancake-ice", "young-ice", "level-first-year-ice", "deformed-ice", "land",
}  # fmt: skip
LC1_CODES = (
    "B11 B12 B13 B14 B15 B16 B17 B18 B19 B21 B22 B23 B31 B32 B33 B34 B35 B36 B37 B41 B42 B43 B44 B45 "
    "B51 B52 B53 B54 B55 B71 B72 B73 B74 B75 B76 B77 B81 B82 B83 B84 E10 E20 E30"
).split()

needs_csv = pytest.mark.skipif(not build_codelists.CSV_PATH.exists(), reason="shared EuroCrops data not present")


@pytest.fixture(scope="module")
def codes() -> Graph:
    return ontologies.codelists_graph()


def concepts(graph: Graph, scheme: URIRef) -> set[URIRef]:
    return set(graph.subjects(SKOS.inScheme, scheme))


def local(concept: URIRef, namespace: str) -> str:
    return str(concept)[len(str(namespace)) :]


def test_every_concept_is_well_formed(codes: Graph) -> None:
    all_concepts = set(codes.subjects(RDF.type, SKOS.Concept))
    assert len(all_concepts) > 300
    for c in sorted(all_concepts):
        schemes = set(codes.objects(c, SKOS.inScheme))
        assert len(schemes) == 1 and schemes <= set(SCHEMES), c
        (scheme,) = schemes
        assert str(c).startswith(str(SCHEMES[scheme])), f"{c} is not in its scheme's namespace"
        labels = list(codes.objects(c, SKOS.prefLabel))
        assert any(isinstance(v, Literal) and v.language == "en" for v in labels), c
        languages = [v.language for v in labels]
        assert len(languages) == len(set(languages)), f"{c}: more than one prefLabel in a language"
        notations = list(codes.objects(c, SKOS.notation))
        assert len(notations) == 1, c
        if scheme != WMO.scheme:
            assert str(notations[0]) == local(c, SCHEMES[scheme]), f"{c}: notation is not the local name"
        top = (c, SKOS.topConceptOf, scheme) in codes
        broader = list(codes.objects(c, SKOS.broader))
        assert top or broader, f"{c} is neither a top concept nor has a broader concept"
        if codes.value(scheme, SKOS.hasTopConcept) is not None:  # stated both ways, then consistently
            assert top == ((scheme, SKOS.hasTopConcept, c) in codes), c


def test_broader_and_narrower_are_symmetric_and_stay_in_their_scheme(codes: Graph) -> None:
    for a, b in codes.subject_objects(SKOS.broader):
        assert (b, SKOS.narrower, a) in codes, (a, b)
        assert codes.value(a, SKOS.inScheme) == codes.value(b, SKOS.inScheme)
    for a, b in codes.subject_objects(SKOS.narrower):
        assert (b, SKOS.broader, a) in codes, (a, b)


def test_the_16_crop_types_and_the_sea_ice_classes_exist(codes: Graph) -> None:
    assert {local(c, CROP) for c in concepts(codes, CROP.scheme)} == CROP_TYPES
    assert {local(c, SEAICE) for c in concepts(codes, SEAICE.scheme)} == SEA_ICE_CLASSES
    for c in concepts(codes, CROP.scheme) | concepts(codes, SEAICE.scheme):
        assert codes.value(c, SKOS.definition) is not None, c
        assert any(v.language == "de" for v in codes.objects(c, SKOS.prefLabel)), c


def test_sea_ice_hierarchy(codes: Graph) -> None:
    assert (SEAICE["open-water-in-leads"], SKOS.broader, SEAICE.water) in codes
    for ice_type in ("brash-pancake-ice", "young-ice", "level-first-year-ice", "deformed-ice"):
        assert (SEAICE[ice_type], SKOS.broader, SEAICE.ice) in codes
    assert set(codes.objects(SEAICE.scheme, SKOS.hasTopConcept)) == {SEAICE.water, SEAICE.ice, SEAICE.land}


def test_sea_ice_classes_align_to_wmo_terms(codes: Graph) -> None:
    wmo_terms = concepts(codes, WMO.scheme)
    aligned = {c for c in concepts(codes, SEAICE.scheme) for m in MATCHES if codes.value(c, m) is not None}
    assert aligned == {SEAICE[c] for c in SEA_ICE_CLASSES - {"land"}}
    for c, target in ((c, t) for m in MATCHES for c, t in codes.subject_objects(m) if str(c).startswith(str(SEAICE))):
        assert target in wmo_terms, (c, target)
        assert any("WMO" in str(n) for n in codes.objects(c, SKOS.note)), c
    assert (SEAICE["young-ice"], SKOS.exactMatch, WMO["young-ice"]) in codes
    assert (SEAICE["deformed-ice"], SKOS.exactMatch, WMO["deformed-ice"]) in codes


def test_lucas_lc1_codes(codes: Graph) -> None:
    lc1 = {local(c, LC1) for c in concepts(codes, LC1.scheme)}
    assert set(LC1_CODES) <= lc1
    assert str(codes.value(LC1.B11, SKOS.prefLabel)) == "Common wheat"
    assert (LC1.B11, SKOS.broader, LC1.B10) in codes and (LC1.B10, SKOS.broader, LC1.B00) in codes
    assert (LC1.E20, SKOS.broader, LC1.E00) in codes


def test_every_mapping_points_at_an_existing_concept(codes: Graph) -> None:
    all_concepts = set(codes.subjects(RDF.type, SKOS.Concept))
    for m in MATCHES:
        for a, b in codes.subject_objects(m):
            assert a in all_concepts and b in all_concepts, (a, m, b)


def test_mapping_directions_follow_the_contract(codes: Graph) -> None:
    for m in MATCHES:
        for a, b in codes.subject_objects(m):
            if str(a).startswith(str(CROP)):
                assert str(b).startswith(str(LC1)) and m in (SKOS.exactMatch, SKOS.broadMatch, SKOS.narrowMatch)
            if str(a).startswith(str(ATCROP)):
                assert str(b).startswith(str(CROP)) and m in (SKOS.exactMatch, SKOS.broadMatch)


def test_every_crop_type_maps_to_lucas_and_receives_austrian_codes(codes: Graph) -> None:
    for c in concepts(codes, CROP.scheme):
        assert any(codes.value(c, m) is not None for m in MATCHES), f"{c} has no LC1 mapping"
        assert any((a, m, c) in codes for m in MATCHES for a in concepts(codes, ATCROP.scheme)), f"nothing maps to {c}"


def test_each_lc1_code_maps_to_at_most_one_crop_type_except_barley(codes: Graph) -> None:
    targets = defaultdict(set)
    for m in MATCHES:
        for a, b in codes.subject_objects(m):
            if str(a).startswith(str(CROP)):
                targets[b].add(a)
    shared = {code for code, crops in targets.items() if len(crops) > 1}
    assert shared == {LC1.B13}  # winter and spring barley are both barley


def test_exact_matches_never_merge_two_concepts_of_one_scheme(codes: Graph) -> None:
    """skos:exactMatch is transitive: two codes of one list must not become 'the same' through a third."""
    neighbours = defaultdict(set)
    for a, b in codes.subject_objects(SKOS.exactMatch):
        neighbours[a].add(b)
        neighbours[b].add(a)
    seen: set[URIRef] = set()
    for start in list(neighbours):
        if start in seen:
            continue
        component, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node not in component:
                component.add(node)
                stack.extend(neighbours[node])
        seen |= component
        schemes = [codes.value(c, SKOS.inScheme) for c in component]
        assert len(schemes) == len(set(schemes)), sorted(component)


@pytest.mark.parametrize(
    ("code", "relation", "crop_type"),
    [
        ("138", SKOS.broadMatch, "winter-wheat"),  # WINTERWEICHWEIZEN
        ("140", SKOS.broadMatch, "winter-wheat"),  # mixed culture: follows the main crop
        ("137", SKOS.broadMatch, "other-crops"),  # spring common wheat is not winter wheat
        ("110", SKOS.exactMatch, "winter-barley"),
        ("111", SKOS.exactMatch, "spring-barley"),
        ("536", SKOS.exactMatch, "winter-caraway"),
        ("535", SKOS.broadMatch, "other-crops"),  # spring caraway
        ("303", SKOS.broadMatch, "rapeseed"),  # WINTERRÜBSEN: turnip rape, mistranslated as beets
        ("651", SKOS.broadMatch, "beet"),
        ("308", SKOS.exactMatch, "soy"),
        ("201", SKOS.broadMatch, "legumes"),
        ("634", SKOS.broadMatch, "grassland"),  # KLEEGRAS
        ("715", SKOS.broadMatch, "grassland"),  # DAUERWEIDE
        ("901", SKOS.broadMatch, "permanent-plantations"),  # WEIN
        ("821", SKOS.broadMatch, "permanent-plantations"),  # HOPFEN
        ("109", SKOS.broadMatch, "maize"),  # SILOMAIS
    ],
)
def test_austrian_code_mappings(codes: Graph, code: str, relation: URIRef, crop_type: str) -> None:
    assert (ATCROP[code], relation, CROP[crop_type]) in codes
    assert sum(1 for m in MATCHES for _ in codes.objects(ATCROP[code], m)) == 1


def test_non_crop_austrian_codes_stay_unmapped(codes: Graph) -> None:
    for code in ("351", "355", "961", "959"):  # hedge, pond, afforestation, 20-year set-aside
        assert all(codes.value(ATCROP[code], m) is None for m in MATCHES), code


def test_mixed_cultures_keep_every_component(codes: Graph) -> None:
    scope = str(codes.value(ATCROP["151"], SKOS.scopeNote))
    assert scope.startswith("Mixed culture of 3 components")
    assert "spring_einkorn" in scope and "fresh_vegetables" in scope
    assert len(list(codes.objects(ATCROP["151"], SKOS.note))) == 3
    assert codes.value(ATCROP["138"], SKOS.scopeNote) is None


def test_german_and_english_labels_and_truncation_notes(codes: Graph) -> None:
    labels = {v.language: str(v) for v in codes.objects(ATCROP["138"], SKOS.prefLabel)}
    assert labels == {"de": "WINTERWEICHWEIZEN", "en": "WINTER SOFT WHEAT"}
    assert "cut short" in str(codes.value(ATCROP["636"], SKOS.editorialNote))  # "ALTERNATE MEADOW (EGART"


def test_austrian_scheme_keeps_the_attribution(codes: Graph) -> None:
    DCTERMS = ontologies.namespaces.DCTERMS
    assert codes.value(ATCROP.scheme, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by-sa/4.0/")
    assert "EuroCrops" in str(codes.value(ATCROP.scheme, DCTERMS.source))


@needs_csv
def test_austrian_codes_are_exactly_the_codes_of_the_csv(codes: Graph) -> None:
    with build_codelists.CSV_PATH.open(encoding="utf-8", newline="") as f:
        csv_codes = {row["original_code"].strip() for row in csv.DictReader(f)} - {""}
    assert {local(c, ATCROP) for c in concepts(codes, ATCROP.scheme)} == csv_codes


@needs_csv
def test_generated_file_is_up_to_date_with_the_csv_and_the_rules() -> None:
    assert build_codelists.main(["--check"]) == 0, "run: uv run python -m ontologies.build_codelists"


def test_continuation_row_before_any_code_is_an_error(tmp_path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text(
        "original_code,original_name,translated_name,HCAT3_name,HCAT3_code,HCAT2_name,HCAT2_code\n"
        ",,X,clover,3301090303,clover,3301090303\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="continuation row"):
        build_codelists.read_table(table)
