"""The SPARQL 1.1 Service Description of the endpoint, as RDF.

It states only what is true of this service: SPARQL 1.1 Query and Update, the result and RDF
formats offered, empty named graphs (``sd:EmptyGraphs``; the default graph is not the union of the
named graphs), and every GeoSPARQL function and aggregate the store evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import pyoxigraph as ox

from api.errors import BadRequest
from api.negotiation import GRAPH_OFFERS, RESULT_OFFERS
from kg.formats import rdf_format, result_format

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREFIXES = {
    "sd": SD,
    "formats": "http://www.w3.org/ns/formats/",
    "geof": "http://www.opengis.net/def/function/geosparql/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dcterms": "http://purl.org/dc/terms/",
}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _iris(functions: object) -> list[str]:
    """IRIs of a registry table (a mapping or a collection of IRIs or named nodes), sorted."""
    return sorted({getattr(item, "value", str(item)) for item in functions})


def geosparql_extensions() -> tuple[list[str], list[str]]:
    """The IRIs of the GeoSPARQL functions and aggregates the store evaluates."""
    from kg.geosparql.registry import AGGREGATES, FUNCTIONS

    return _iris(FUNCTIONS), _iris(AGGREGATES)


def description_triples(endpoint: str, functions: Iterable[str], aggregates: Iterable[str]) -> list[ox.Triple]:
    """The service description of the endpoint at ``endpoint``."""
    try:
        endpoint_node = ox.NamedNode(endpoint)
    except ValueError:
        raise BadRequest(f"Cannot describe the service at {endpoint!r}: the request's Host is not valid.") from None
    service = ox.BlankNode("service")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), endpoint_node),
        ox.Triple(service, ox.NamedNode(PREFIXES["dcterms"] + "title"),
                  ox.Literal("ExtremeEarth GeoSPARQL knowledge graph")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")),
        ox.Triple(service, _sd("feature"), _sd("EmptyGraphs")),
    ]
    for offer in RESULT_OFFERS:
        triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(result_format(offer.name).iri)))
    for offer in GRAPH_OFFERS:
        triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(rdf_format(offer.name).iri)))
    for iri in functions:
        triples.append(ox.Triple(service, _sd("extensionFunction"), ox.NamedNode(iri)))
        triples.append(ox.Triple(ox.NamedNode(iri), RDF_TYPE, _sd("Function")))
    for iri in aggregates:
        triples.append(ox.Triple(service, _sd("extensionAggregate"), ox.NamedNode(iri)))
        triples.append(ox.Triple(ox.NamedNode(iri), RDF_TYPE, _sd("Aggregate")))
    return triples


@lru_cache(maxsize=64)
def service_description(endpoint: str, format: str) -> bytes:
    """The service description serialised in an RDF format (cached: it changes only with the code)."""
    functions, aggregates = geosparql_extensions()
    triples = description_triples(endpoint, functions, aggregates)
    return ox.serialize(triples, format=rdf_format(format), prefixes=PREFIXES)
