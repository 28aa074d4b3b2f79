"""The semantic catalogue: EO products found by what the knowledge graph says about them.

"Which Sentinel-1 scenes over this box in March show more than 30 % young ice?" is a search with
an area, a time range, a mission and an observed class with a minimum share; the answer is the
data provider's product identifiers (``S1A_EW_GRDM_1SDH_...``). The share is the area of the
product's predicted regions (inside the area, when one is given) whose class is the one asked
for or a narrower one (``skos:broader*``), over the area of all its predicted regions there
(``geo:hasMetricArea``). It runs as one SPARQL query on any store, so over the federation too:
products, predictions and code lists may sit in different sources.

>>> print(search_query(Search(mission="Sentinel-1", observed="young-ice", min_share=0.3)).splitlines()[-4])
  } GROUP BY ?product ?id ?mission ?start ?footprint HAVING (SUM(?hit) / SUM(?inside) > 0.3) ORDER BY ?start ?id LIMIT 100 }
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from kg.errors import GeoKGError, InvalidGeometry
from kg.geosparql.literals import check_literals
from kg.geosparql.vocab import GEO
from kg.geosparql.vocab import WKT_LITERAL as WKT
from kg.store import Store
from ontologies.namespaces import CROP, DCTERMS, EO, FOOD, POLAR, PROV, SEAICE, SKOS, SOSA

MAX_RESULTS = 1000
# Observed classes by code list: the namespace and the observation property that carries them.
_CLASS_PROPERTIES = {str(SEAICE): str(POLAR.iceClass), str(CROP): str(FOOD.cropType)}


@dataclass(frozen=True)
class Search:
    """What a platform asks the catalogue; every field is optional."""

    area: str | None = None  # CRS84 WKT (a bbox becomes a polygon, see ``bbox_area``)
    start: datetime | None = None  # sensing start at or after
    end: datetime | None = None  # sensing start before
    mission: str | None = None  # prefix of eo:mission: "Sentinel-1" or "Sentinel-1A"
    product_type: str | None = None  # eo:productType, exactly: "GRD", "S2MSI2A"
    observed: str | None = None  # a concept IRI, or a notation of the sea-ice or crop code list
    min_share: float = 0.0  # share of the observed class, 0..1 (strictly more than this; 0: the class is present)
    min_area: float = 0.0  # or area of the observed class in m2 (at least this)
    limit: int = 100
    offset: int = 0  # for pages: skip this many products


@dataclass(frozen=True)
class Product:
    """One product found, as the data provider names it."""

    identifier: str
    mission: str
    product_type: str | None
    sensing_start: str
    sensing_stop: str | None
    footprint: str  # WKT
    share: float | None  # of the observed class, when one was asked for


def search(store: Store, query: Search, *, timeout: float | None = None) -> list[Product]:
    """The products matching a search, earliest first."""
    rows = store.query(search_query(query), timeout=timeout).bindings()
    value = lambda row, key: row[key].value if key in row else None  # noqa: E731
    return [Product(value(r, "id"), value(r, "mission"), value(r, "type"), value(r, "start"), value(r, "stop"),
                    value(r, "footprint"), float(r["share"].value) if "share" in r else None) for r in rows]


def search_query(query: Search) -> str:
    """The SPARQL query a search runs (shown to users who want to refine it).

    The products' patterns, the observations' patterns and the time and thematic conditions form
    one sub-select, so that the engine joins observations to the products those conditions leave
    (a time range is the most selective condition a platform sends). With a time range, the area
    condition then runs on the rows left; without one, it runs in the sub-select, where the spatial
    index answers it. The share of a class is area-weighted over the product's regions that meet
    the area (``?inside`` is a region's area there, 0 elsewhere). Optional metadata is read for
    the page of products only, after grouping.
    """
    _check(query)
    area = _wkt(query.area) if query.area else None
    conditions = []
    if query.start:
        conditions.append(f"?start >= {_datetime(query.start)}")
    if query.end:
        conditions.append(f"?start < {_datetime(query.end)}")
    if query.mission:
        conditions.append(f"STRSTARTS(?mission, {_string(query.mission)})")
    if query.product_type:
        conditions.append(f"?type = {_string(query.product_type)}")
    timed = bool(query.start or query.end)
    placed = f"geof:sfIntersects(?footprint, {area})" if area else None
    if placed and not timed:
        conditions.append(placed)
    inner = "?product ?id ?mission ?start ?footprint" + (" ?type" if query.product_type else "")
    # sensing start first: the engine starts there (2x faster at 1e5 products than from the identifiers)
    patterns = f"""?product <{EO.sensingStart}> ?start ; <{EO.mission}> ?mission ; <{DCTERMS.identifier}> ?id ;
        <{GEO}hasGeometry> ?fgeom . ?fgeom <{GEO}asWKT> ?footprint ."""
    if query.product_type:
        patterns += f"\n    ?product <{EO.productType}> ?type ."
    found = inner  # what the page of products carries out of the middle select
    tail = f"ORDER BY ?start ?id LIMIT {query.limit}" + (f" OFFSET {query.offset}" if query.offset else "")
    observed = ""
    if query.observed:
        concept, prop = concept_of(query.observed)
        inner += " ?class ?rwkt ?area"
        patterns += f"""
    ?obs <{PROV.wasDerivedFrom}> ?product ; <{prop}> ?class ; <{SOSA.hasFeatureOfInterest}> ?region .
    ?region <{GEO}hasGeometry> ?rgeom . ?rgeom <{GEO}asWKT> ?rwkt ; <{GEO}hasMetricArea> ?area ."""
        inside = f"IF(geof:sfIntersects(?rwkt, {area}), ?area, 0)" if area else "?area"
        observed = f"""    BIND({inside} AS ?inside)
    BIND(IF(EXISTS {{ ?class <{SKOS.broader}>* <{concept}> }}, ?inside, 0) AS ?hit)
"""
        having = f"SUM(?hit) / SUM(?inside) > {float(query.min_share)!r}"
        if query.min_area:
            having += f" && SUM(?hit) >= {float(query.min_area)!r}"
        tail = f"GROUP BY {found} HAVING ({having}) " + tail
        found += " (SUM(?hit) / SUM(?inside) AS ?share)"
    where = "".join(f"\n      FILTER({c})" for c in conditions)
    outer = f"    FILTER({placed})\n" if placed and timed else ""
    typed = "" if query.product_type else f"  OPTIONAL {{ ?product <{EO.productType}> ?type }}\n"
    share = " ?share" if query.observed else ""
    return f"""SELECT ?id ?mission ?type ?start ?stop ?footprint{share} WHERE {{
  {{ SELECT {found} WHERE {{
    {{ SELECT {inner} WHERE {{
      {patterns.replace(chr(10), chr(10) + "  ")}{where}
    }} }}
{outer}{observed}  }} {tail} }}
  OPTIONAL {{ ?product <{EO.sensingStop}> ?stop }}
{typed}}} ORDER BY ?start ?id"""


def concept_of(observed: str) -> tuple[str, str]:
    """The concept IRI of a class named by IRI or notation, and the observation property carrying it.

    >>> concept_of("young-ice")[0]
    'https://w3id.org/eekg/codes/sea-ice/young-ice'
    """
    if observed.startswith(("http://", "https://")):
        for namespace, prop in _CLASS_PROPERTIES.items():
            if observed.startswith(namespace):
                return observed, prop
        raise GeoKGError(f"{observed!r} is not a class of the sea-ice or crop-type code list; "
                         f"name one of {sorted(_CLASS_PROPERTIES)} or its notation (young-ice, maize ...).")
    for namespace, prop in _CLASS_PROPERTIES.items():
        if _notations(namespace) and observed in _notations(namespace):
            return namespace + observed, prop
    known = sorted(_notations(str(SEAICE)) | _notations(str(CROP)))
    raise GeoKGError(f"{observed!r} is not a sea-ice or crop-type class; known ones are {known}.")


def bbox_area(bbox: str) -> str:
    """A ``west,south,east,north`` box (CRS84 degrees) as WKT, or a clear error.

    >>> bbox_area("10,78,30,82")
    'POLYGON((10.0 78.0, 30.0 78.0, 30.0 82.0, 10.0 82.0, 10.0 78.0))'
    """
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise GeoKGError(f"bbox={bbox!r} is not four numbers west,south,east,north (degrees), e.g. bbox=10,78,30,82.") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise GeoKGError(f"bbox={bbox!r} is not a box: give west < east within -180..180 and south < north within -90..90.")
    return f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"


def _notations(namespace: str) -> frozenset[str]:
    from ontologies import codelists_graph

    return _notation_cache.setdefault(namespace, frozenset(
        str(s)[len(namespace):] for s in codelists_graph().subjects(SKOS.inScheme, None) if str(s).startswith(namespace)))


_notation_cache: dict[str, frozenset[str]] = {}


def _check(query: Search) -> None:
    if not 0 <= query.min_share < 1:
        raise GeoKGError(f"The minimum share {query.min_share} is not between 0 and 1 (0.3 means 30 %).")
    if query.offset < 0 or query.min_area < 0:
        raise GeoKGError("The page offset and the minimum area cannot be negative.")
    if not 1 <= query.limit <= MAX_RESULTS:
        raise GeoKGError(f"Ask for between 1 and {MAX_RESULTS} results, not {query.limit}.")
    if query.start and query.end and query.start >= query.end:
        raise GeoKGError(f"The time range {query.start.isoformat()} .. {query.end.isoformat()} is empty: start must come before end.")
    if query.area:
        problems = check_literals([ox.Literal(query.area, datatype=ox.NamedNode(WKT))])
        if problems:
            raise InvalidGeometry(f"The search area is not valid WKT: {problems[0][1]}")


def _wkt(text: str) -> str:
    return str(ox.Literal(text, datatype=ox.NamedNode(WKT)))


def _string(text: str) -> str:
    return str(ox.Literal(text))


def _datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise GeoKGError(f"The time {moment.isoformat()} has no time zone; write it in UTC, e.g. 2018-03-01T00:00:00Z.")
    return str(ox.Literal(moment.isoformat().replace("+00:00", "Z"), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")))
