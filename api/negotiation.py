"""Content negotiation: which answer format a request gets, and which body formats it may send.

The answer format comes from the ``format=`` parameter when given (a short name or a media type),
otherwise from the ``Accept`` header with its q-values (RFC 9110: the most specific matching range
gives an offer its quality; ties go to the server's order, so ``*/*`` gets the first offer).

>>> choose_offer("text/csv;q=0.5, application/sparql-results+xml", RESULT_OFFERS).name
'xml'
>>> choose_offer("*/*", GRAPH_OFFERS).media_type
'text/turtle; charset=utf-8'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import NotAcceptable, UnsupportedMediaType
from kg.errors import GeoKGError
from kg.formats import rdf_format


@dataclass(frozen=True)
class Offer:
    """An answer format: the name the store serialises by, the media type we answer with, aliases."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    @property
    def essence(self) -> str:
        """The media type without parameters."""
        return self.media_type.split(";")[0].strip()

    def media_types(self) -> tuple[str, ...]:
        return (self.essence, *self.aliases)


# SELECT and ASK answers.
RESULT_OFFERS = (
    Offer("json", "application/sparql-results+json", ("application/json",), ("json", "srj")),
    Offer("xml", "application/sparql-results+xml", ("application/xml", "text/xml"), ("xml", "srx")),
    Offer("csv", "text/csv; charset=utf-8", (), ("csv",)),
    Offer("tsv", "text/tab-separated-values; charset=utf-8", (), ("tsv",)),
)
# CONSTRUCT and DESCRIBE answers, graphs of the Graph Store, the service description.
GRAPH_OFFERS = (
    Offer("turtle", "text/turtle; charset=utf-8", ("application/x-turtle",), ("turtle", "ttl")),
    Offer("ntriples", "application/n-triples", ("text/plain",), ("ntriples", "nt", "n-triples")),
    Offer("jsonld", "application/ld+json", ("application/json",), ("jsonld", "json-ld", "json")),
    Offer("rdfxml", "application/rdf+xml", (), ("rdfxml", "rdf", "xml")),
)
# What a Graph Store request body may be: formats of triples (quads name their own graphs).
GRAPH_BODY_TYPES = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml")


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How specifically this range matches ``media_type``: 2 exact, 1 type/*, 0 */*, -1 no match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else -1


def parse_accept(header: str) -> list[_Range]:
    """The media ranges of an Accept header; malformed entries are skipped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.3, application/json")]
    [('text', '*', 0.3), ('application', 'json', 1.0)]
    """
    ranges = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        kind, slash, sub = pieces[0].lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(_Range(kind, sub, q))
    return ranges


def _quality(offer: Offer, ranges: Sequence[_Range]) -> float:
    """The q of the most specific range matching the offer; aliases count only when named exactly."""
    matches = [(r.specificity(offer.essence), r.q) for r in ranges]
    matches += [(2, r.q) for r in ranges for alias in offer.aliases if r.specificity(alias) == 2]
    matches = [m for m in matches if m[0] >= 0]
    return max(matches)[1] if matches else 0.0


def choose_offer(accept: str | None, offers: Sequence[Offer], format: str | None = None) -> Offer:
    """The offer a request should get, by ``format`` if given, else by its Accept header."""
    if format:
        key = format.strip().lower()
        for offer in offers:
            if key in offer.short_names or key.split(";")[0].strip() in offer.media_types():
                return offer
        raise NotAcceptable(
            f"format={format!r} is not offered for this answer; use one of "
            f"{[o.short_names[0] for o in offers]} or leave it out and send an Accept header.",
            extra={"offered": [o.media_type for o in offers]},
        )
    if not accept or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    scored = [(_quality(offer, ranges), -i, offer) for i, offer in enumerate(offers)]
    q, _, offer = max(scored, key=lambda s: s[:2])
    if q <= 0:
        raise NotAcceptable(
            f"None of the formats in 'Accept: {accept}' is offered for this answer. "
            f"Accept one of the offered media types (or */*), or use the format= parameter.",
            extra={"offered": [o.media_type for o in offers]},
        )
    return offer


def graph_body_format(content_type: str | None) -> str:
    """The RDF format of a Graph Store request body, from its Content-Type, or 415.

    >>> graph_body_format("text/turtle; charset=utf-8")
    'text/turtle'
    """
    essence = (content_type or "").split(";")[0].strip().lower()
    if essence:
        try:
            fmt = rdf_format(essence)
        except GeoKGError:
            fmt = None
        if fmt is not None and fmt.media_type in GRAPH_BODY_TYPES:
            return fmt.media_type
    raise UnsupportedMediaType(
        f"Cannot read a graph sent as {content_type or 'a body without Content-Type'!r}; "
        f"send it with one of the Content-Types {list(GRAPH_BODY_TYPES)}.",
        extra={"accepted": list(GRAPH_BODY_TYPES)},
    )
