"""The namespaces of docs/data-model.md, as rdflib ``Namespace`` objects (plain ``str`` subclasses).

>>> POLAR.SeaIceObservation
rdflib.term.URIRef('https://w3id.org/eekg/ont/polar#SeaIceObservation')
>>> str(SEAICE["young-ice"])
'https://w3id.org/eekg/codes/sea-ice/young-ice'
>>> ATCROP + "140"
'https://w3id.org/eekg/codes/at-crop-2021/140'
"""

from __future__ import annotations

from rdflib import Namespace

# Ours: ontologies, functions, shapes.
POLAR = Namespace("https://w3id.org/eekg/ont/polar#")
FOOD = Namespace("https://w3id.org/eekg/ont/food#")
EO = Namespace("https://w3id.org/eekg/ont/eo#")
EEKGFN = Namespace("https://w3id.org/eekg/fn#")
SHAPES = Namespace("https://w3id.org/eekg/shapes#")

# Ours: code lists (SKOS concept schemes); each scheme's IRI is the namespace + "scheme".
SEAICE = Namespace("https://w3id.org/eekg/codes/sea-ice/")
CROP = Namespace("https://w3id.org/eekg/codes/crop-type/")
LC1 = Namespace("https://w3id.org/eekg/codes/lucas-lc1/")
ATCROP = Namespace("https://w3id.org/eekg/codes/at-crop-2021/")
# Our citation scheme for terms of the WMO Sea-Ice Nomenclature (WMO No. 259), which has no RDF IRIs.
WMO = Namespace("https://w3id.org/eekg/codes/wmo-sea-ice/")

# Ours: instance data.
DATA = Namespace("https://w3id.org/eekg/data/")

# Reused vocabularies.
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
SF = Namespace("http://www.opengis.net/ont/sf#")
SOSA = Namespace("http://www.w3.org/ns/sosa/")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SH = Namespace("http://www.w3.org/ns/shacl#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

# Prefix -> namespace, for Turtle output and SPARQL prologues (``d`` is the data prefix of the contract).
PREFIXES: dict[str, str] = {
    "polar": str(POLAR),
    "food": str(FOOD),
    "eo": str(EO),
    "eekgfn": str(EEKGFN),
    "shapes": str(SHAPES),
    "seaice": str(SEAICE),
    "crop": str(CROP),
    "lc1": str(LC1),
    "atcrop": str(ATCROP),
    "wmo": str(WMO),
    "d": str(DATA),
    "geo": str(GEO),
    "sf": str(SF),
    "sosa": str(SOSA),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "dcat": str(DCAT),
    "skos": str(SKOS),
    "sh": str(SH),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def sparql_prologue(*prefixes: str) -> str:
    """``PREFIX`` lines for the given prefixes (all of them when none is given).

    >>> sparql_prologue("polar", "seaice")
    'PREFIX polar: <https://w3id.org/eekg/ont/polar#>\\nPREFIX seaice: <https://w3id.org/eekg/codes/sea-ice/>\\n'
    """
    names = prefixes or tuple(PREFIXES)
    unknown = [p for p in names if p not in PREFIXES]
    if unknown:
        raise ValueError(f"Got prefixes {unknown}; must be among {sorted(PREFIXES)}")
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in names)
