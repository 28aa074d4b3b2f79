"""The demo's predicted sea-ice map: made by the shipped model from the real patches, in its own graph."""

from __future__ import annotations

from api.demo import PREDICTED_GRAPH, add_predicted_sea_ice
from kg.embedded import EmbeddedStore
from ontologies import CODELIST_FILES, ONTOLOGY_FILES


def test_the_demo_map_is_predicted_by_the_shipped_model_and_loaded():
    store = EmbeddedStore()
    store.load([*ONTOLOGY_FILES, *CODELIST_FILES])
    report = add_predicted_sea_ice(store)
    assert report is not None and report.geometries > 50
    rows = store.query(f"""
        PREFIX polar: <https://w3id.org/eekg/ont/polar#> PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX eo: <https://w3id.org/eekg/ont/eo#>
        SELECT ?name ?version (COUNT(?o) AS ?n) (COUNT(DISTINCT ?class) AS ?classes) (MIN(?c) AS ?low) {{
          GRAPH <{PREDICTED_GRAPH}> {{ ?o polar:iceClass ?class ; eo:confidence ?c ; prov:wasAttributedTo ?m .
                                      ?m eo:modelName ?name ; eo:modelVersion ?version }} }} GROUP BY ?name ?version""").bindings()
    assert len(rows) == 1 and rows[0]["name"].value == "sea-ice-demo" and rows[0]["version"].value == "1"
    assert int(rows[0]["n"].value) > 25 and int(rows[0]["classes"].value) == 3 and float(rows[0]["low"].value) > 0.3
