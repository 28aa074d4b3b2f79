"""The Turtle files parse, ship inside the package, document every term, and match docs/data-model.md."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

import ontologies
from ontologies import build_codelists, namespaces, validation
from ontologies.namespaces import EO, FOOD, POLAR, SOSA

ROOT = Path(__file__).resolve().parents[2]
DATA_MODEL = ROOT / "docs" / "data-model.md"
OUR_ONTOLOGIES = (str(POLAR), str(FOOD), str(EO))
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, SOSA.ObservableProperty)


@pytest.mark.parametrize("path", ontologies.ALL_FILES, ids=lambda p: p.name)
def test_every_turtle_file_parses_with_rdflib_and_pyoxigraph(path: Path) -> None:
    graph = Graph().parse(path, format="turtle")
    triples = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(graph) > 0
    assert len(triples) == len(graph)


def test_the_package_lists_every_turtle_file_it_ships() -> None:
    shipped = set(ontologies.PACKAGE_DIR.rglob("*.ttl"))
    assert shipped == set(ontologies.ALL_FILES)
    assert all(p.is_relative_to(ontologies.PACKAGE_DIR) for p in ontologies.ALL_FILES)


@pytest.mark.parametrize("path", ontologies.ALL_FILES, ids=lambda p: p.name)
def test_no_machine_paths_in_the_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    checkout = str(Path(__file__).resolve().parents[2])  # wherever the repository lies on this machine
    assert checkout not in text and "file://" not in text


@pytest.mark.parametrize("path", ontologies.ONTOLOGY_FILES, ids=lambda p: p.name)
def test_each_ontology_has_a_header_with_version_label_and_comment(path: Path) -> None:
    graph = Graph().parse(path)
    (header,) = graph.subjects(RDF.type, OWL.Ontology)
    assert graph.value(header, OWL.versionInfo) is not None
    assert graph.value(header, OWL.versionIRI) is not None
    assert graph.value(header, RDFS.label) is not None
    assert graph.value(header, RDFS.comment) is not None


def _our_terms(graph: Graph) -> set[URIRef]:
    return {
        s
        for t in TERM_TYPES
        for s in graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(OUR_ONTOLOGIES)
    }


def test_every_class_and_property_of_ours_has_an_english_label_and_comment() -> None:
    graph = ontologies.ontology_graph()
    terms = _our_terms(graph)
    assert len(terms) >= 40
    for term in sorted(terms):
        for prop in (RDFS.label, RDFS.comment):
            values = [v for v in graph.objects(term, prop) if isinstance(v, Literal) and v.language == "en"]
            assert len(values) == 1, f"{term} needs one English {prop}"


def test_every_term_of_ours_that_the_ontologies_use_is_defined() -> None:
    graph = ontologies.ontology_graph()
    defined = _our_terms(graph)
    used = {
        node
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(OUR_ONTOLOGIES) and "#" in str(node)
    }
    assert used <= defined, sorted(used - defined)


def test_alignments_to_reused_vocabularies() -> None:
    graph = ontologies.ontology_graph()
    sub = lambda a, b: (a, RDFS.subClassOf, b) in graph  # noqa: E731
    assert sub(POLAR.SeaIceObservation, SOSA.Observation)
    assert sub(FOOD.CropTypeObservation, SOSA.Observation)
    assert sub(FOOD.LucasObservation, SOSA.Observation)
    for feature in (POLAR.SeaIceRegion, FOOD.CropRegion, FOOD.Parcel, FOOD.LucasPoint):
        assert sub(feature, namespaces.GEO.Feature) and sub(feature, SOSA.FeatureOfInterest)
    assert sub(EO.Product, namespaces.DCAT.Dataset)
    assert sub(EO.Sentinel1Product, EO.Product) and sub(EO.Sentinel2Product, EO.Product)
    assert sub(EO.Model, namespaces.PROV.SoftwareAgent)
    assert (FOOD.pointId, RDFS.subPropertyOf, namespaces.DCTERMS.identifier) in graph


def test_every_ontology_term_the_data_model_names_is_defined() -> None:
    text = DATA_MODEL.read_text(encoding="utf-8")
    named = {(p, n) for p, n in re.findall(r"\b(polar|food|eo):([A-Za-z][A-Za-z0-9]*)", text)}
    assert len(named) >= 40
    defined = _our_terms(ontologies.ontology_graph())
    base = {"polar": POLAR, "food": FOOD, "eo": EO}
    missing = sorted(f"{p}:{n}" for p, n in named if base[p][n] not in defined)
    assert not missing, f"named in docs/data-model.md but not defined: {missing}"


def test_namespaces_match_the_data_model_table() -> None:
    text = DATA_MODEL.read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(\w+):` \| `([^`]+)` \|", text, flags=re.MULTILINE))
    assert len(table) == 11
    constant = {"d": "DATA"}
    for prefix, iri in table.items():
        assert str(getattr(namespaces, constant.get(prefix, prefix.upper()))) == iri, prefix
        assert namespaces.PREFIXES[prefix] == iri


def test_the_loader_caches_its_graphs() -> None:
    shapes, codes = ontologies.shacl_graphs()
    assert ontologies.shapes_graph() is shapes and ontologies.codelists_graph() is codes
    assert len(ontologies.codelist_membership_graph()) < len(codes)


@pytest.mark.parametrize("module", [ontologies, namespaces, validation, build_codelists], ids=lambda m: m.__name__)
def test_doctests(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
