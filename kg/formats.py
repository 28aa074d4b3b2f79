"""RDF and query-result formats by file name, short name or media type, in one table each."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.errors import GeoKGError

# short name -> (pyoxigraph format, media type); the first media type is the one we answer with.
RDF_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
    "n3": RdfFormat.N3,
}
RDF_EXTENSIONS = {
    ".ttl": "turtle", ".nt": "ntriples", ".nq": "nquads", ".trig": "trig", ".rdf": "rdfxml",
    ".owl": "rdfxml", ".xml": "rdfxml", ".jsonld": "jsonld", ".n3": "n3",
}
RESULT_FORMATS = {
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
}


def rdf_format(name: str) -> RdfFormat:
    """The RDF format named by a short name, a media type or a file extension.

    >>> rdf_format("text/turtle").name
    'Turtle'
    >>> rdf_format("nquads").name
    'N-Quads'
    """
    key = name.strip().lower().split(";")[0].strip()
    if key in RDF_FORMATS:
        return RDF_FORMATS[key]
    if key in RDF_EXTENSIONS:
        return RDF_FORMATS[RDF_EXTENSIONS[key]]
    by_media_type = RdfFormat.from_media_type(key)
    if by_media_type is not None:
        return by_media_type
    raise GeoKGError(
        f"Unknown RDF format {name!r}; use one of {sorted(RDF_FORMATS)} "
        f"or a file ending in {sorted(RDF_EXTENSIONS)} (optionally .gz)."
    )


def rdf_format_of_file(path: Path) -> RdfFormat:
    """The RDF format of a file, from its extension (``data.ttl``, ``data.nt.gz``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if not suffixes or suffixes[-1] not in RDF_EXTENSIONS:
        raise GeoKGError(
            f"{path}: cannot tell the RDF format from the file name; name it with one of "
            f"{sorted(RDF_EXTENSIONS)} (optionally .gz) or give the format explicitly."
        )
    return RDF_FORMATS[RDF_EXTENSIONS[suffixes[-1]]]


def result_format(name: str) -> QueryResultsFormat:
    """A SPARQL results format by short name or media type.

    >>> result_format("application/sparql-results+json").name
    'SPARQL Results in JSON'
    """
    key = name.strip().lower()
    if key in RESULT_FORMATS:
        return RESULT_FORMATS[key]
    by_media_type = QueryResultsFormat.from_media_type(key)
    if by_media_type is not None:
        return by_media_type
    raise GeoKGError(f"Unknown SPARQL results format {name!r}; use one of {sorted(RESULT_FORMATS)}.")
