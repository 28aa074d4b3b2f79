"""The adapter to the Copernicus catalogue (OData or OpenSearch): finds products and ingests their records.

``CopernicusCatalogue`` asks the OData interface, ``{url}/Products`` with a ``$filter`` of the
Copernicus Data Space catalogue (collection, sensing start, footprint intersection, product type),
paging with ``$skip``; ``CopernicusOpenSearch`` asks the OpenSearch (Resto) interface,
``{url}/collections/Sentinel1/search.json`` with ``startDate``, ``completionDate``, ``geometry``
and ``productType``, paging with ``page``. Neither follows the service's links to further pages:
the adapter contacts only the URL it was given. Each answer becomes a
:class:`federation.products.ProductRecord`: the identifier's fields, completed with the footprint,
the sensing times and the attributes (cloud cover, orbits). ``ingest`` loads the records into a store.

>>> odata_filter("SENTINEL-1", start="2018-03-01T00:00:00Z", product_type="GRD")
"Collection/Name eq 'SENTINEL-1' and ContentDate/Start ge 2018-03-01T00:00:00Z and Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and att/OData.CSC.StringAttribute/Value eq 'GRD')"
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import numpy as np
import shapely

from federation.errors import FederationError, SourceTimeout
from federation.products import ProductRecord, parse_identifier, with_metadata
from kg.errors import GeoKGError
from kg.store import Store

COLLECTIONS = ("SENTINEL-1", "SENTINEL-2")
PAGE = 100


@dataclass(frozen=True)
class Ingested:
    """What one ingestion did."""

    products: int
    triples: int
    skipped: list[str]  # names that are no Sentinel-1/2 product identifiers


def odata_filter(collection: str, *, start: str | None = None, end: str | None = None, footprint: str | None = None,
                 product_type: str | None = None) -> str:
    """The OData ``$filter`` for a collection, a sensing-start range, a CRS84 WKT area and a product type."""
    if collection not in COLLECTIONS:
        raise GeoKGError(f"Unknown collection {collection!r}; the adapter reads {list(COLLECTIONS)}.")
    clauses = [f"Collection/Name eq '{collection}'"]
    if start:
        clauses.append(f"ContentDate/Start ge {start}")
    if end:
        clauses.append(f"ContentDate/Start lt {end}")
    if footprint:
        try:
            shape = shapely.from_wkt(footprint)
        except shapely.errors.GEOSException:
            raise GeoKGError(f"The footprint {footprint[:80]!r} is not WKT; write e.g. POLYGON((10 78, 30 78, 30 82, 10 82, 10 78)).") from None
        clauses.append(f"OData.CSC.Intersects(area=geography'SRID=4326;{shapely.to_wkt(shape, rounding_precision=-1)}')")
    if product_type:
        clauses.append("Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
                       f"att/OData.CSC.StringAttribute/Value eq '{product_type}')")
    return " and ".join(clauses)


class _Catalogue:
    """What both interfaces share: one client, one URL, errors naming the catalogue."""

    def __init__(self, url: str, *, timeout: float = 60.0):
        if urlsplit(url).scheme not in ("http", "https"):
            raise GeoKGError(f"The catalogue URL {url!r} is not an http(s) address.")
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def _get(self, path: str, parameters: dict, key: str) -> list[dict]:
        """The list under ``key`` in the JSON answer to ``GET {url}{path}``."""
        try:
            response = self._client.get(self.url + path, params=parameters)
        except httpx.TimeoutException:
            raise SourceTimeout("copernicus", f"at {self.url} did not answer in time; try again or narrow the search.") from None
        except httpx.HTTPError as error:
            raise FederationError("copernicus", f"at {self.url} cannot be reached ({type(error).__name__}).") from None
        if response.status_code != 200:
            raise FederationError("copernicus", f"at {self.url} failed to answer the search (HTTP {response.status_code}: "
                                                f"{response.text[:300]}). Check the URL ({self._root}), or try again later.")
        try:
            value = response.json()[key]
            assert isinstance(value, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise FederationError("copernicus", f"at {self.url} did not answer in the {self._format} format "
                                                f"(no \"{key}\" list).") from None
        return value

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CopernicusCatalogue(_Catalogue):
    """An OData catalogue at ``url`` (e.g. https://catalogue.dataspace.copernicus.eu/odata/v1)."""

    _root, _format = "the OData root, ending /odata/v1", "OData"

    def products(self, collection: str, *, start=None, end=None, footprint=None, product_type=None,
                 limit: int = 10_000) -> tuple[list[ProductRecord], list[str]]:
        """The records of the products matching, and the names that are no product identifiers."""
        query = {"$filter": odata_filter(collection, start=start, end=end, footprint=footprint, product_type=product_type),
                 "$orderby": "ContentDate/Start asc", "$expand": "Attributes", "$top": str(min(PAGE, limit))}
        records, skipped, skip = [], [], 0
        while len(records) + len(skipped) < limit:
            page = self._get("/Products", {**query, "$skip": str(skip)}, "value")
            for entry in page:
                try:
                    records.append(_record(entry))
                except GeoKGError:
                    skipped.append(str(entry.get("Name")))
            if len(page) < int(query["$top"]):
                break
            skip += len(page)
        return records, skipped



OPENSEARCH_COLLECTIONS = {"SENTINEL-1": "Sentinel1", "SENTINEL-2": "Sentinel2"}


class CopernicusOpenSearch(_Catalogue):
    """An OpenSearch (Resto) catalogue at ``url`` (e.g. https://catalogue.dataspace.copernicus.eu/resto/api).
    ``end`` bounds the products' completion date (the interface's ``completionDate``)."""

    _root, _format = "the Resto API root, ending /resto/api", "OpenSearch GeoJSON"

    def products(self, collection: str, *, start=None, end=None, footprint=None, product_type=None,
                 limit: int = 10_000) -> tuple[list[ProductRecord], list[str]]:
        """The records of the products matching, and the names that are no product identifiers."""
        if collection not in OPENSEARCH_COLLECTIONS:
            raise GeoKGError(f"Unknown collection {collection!r}; the adapter reads {list(OPENSEARCH_COLLECTIONS)}.")
        query = {"maxRecords": str(min(PAGE, limit)), "sortParam": "startDate", "sortOrder": "ascending"}
        if footprint:
            try:
                query["geometry"] = shapely.to_wkt(shapely.from_wkt(footprint), rounding_precision=-1)
            except shapely.errors.GEOSException:
                raise GeoKGError(f"The footprint {footprint[:80]!r} is not WKT; write e.g. POLYGON((10 78, 30 78, 30 82, 10 82, 10 78)).") from None
        query.update({k: v for k, v in (("startDate", start), ("completionDate", end), ("productType", product_type)) if v})
        path = f"/collections/{OPENSEARCH_COLLECTIONS[collection]}/search.json"
        records, skipped, page = [], [], 1
        while len(records) + len(skipped) < limit:
            features = self._get(path, {**query, "page": str(page)}, "features")
            for feature in features:
                properties = feature.get("properties") or {}
                name = str(properties.get("title", ""))
                try:
                    records.append(_completed(name, feature.get("geometry"), properties.get("startDate"),
                                              properties.get("completionDate"), properties))
                except GeoKGError:
                    skipped.append(name)
            if len(features) < int(query["maxRecords"]):
                break
            page += 1
        return records, skipped


def ingest(store: Store, records: list[ProductRecord], skipped: list[str] | None = None) -> Ingested:
    """Load product records into a store (all of them, or none when one is bad)."""
    data = "".join(r.ntriples() for r in records).encode()
    loaded = store.load_data(data, "ntriples") if data else None
    return Ingested(len(records), loaded.triples if loaded else 0, list(skipped or []))


def _record(entry: dict) -> ProductRecord:
    """A product record from one OData answer entry."""
    attributes = {a.get("Name"): a.get("Value") for a in entry.get("Attributes", []) if isinstance(a, dict)}
    footprint = entry.get("GeoFootprint")
    if footprint is None and isinstance(entry.get("Footprint"), str) and ";" in entry["Footprint"]:
        footprint = shapely.from_wkt(entry["Footprint"].split(";", 1)[1].rstrip("'"))
    dates = entry.get("ContentDate") or {}
    return _completed(str(entry.get("Name", "")), footprint, dates.get("Start"), dates.get("End"), attributes)


def _completed(name: str, footprint, start: str | None, stop: str | None, attributes: dict) -> ProductRecord:
    """The record an identifier gives, completed with a footprint (GeoJSON or a shape), times and attributes."""
    record = parse_identifier(name)
    shape = shapely.geometry.shape(footprint) if isinstance(footprint, dict) else footprint
    cloud = attributes.get("cloudCover")
    return with_metadata(
        record,
        sensing_start=_utc(start), sensing_stop=_utc(stop),
        cloud_cover=float(cloud) if cloud is not None and record.mission.startswith("Sentinel-2") else None,
        absolute_orbit=_int(attributes.get("orbitNumber")), relative_orbit=_int(attributes.get("relativeOrbitNumber")),
        footprint=shapely.to_wkt(shape, rounding_precision=-1) if shape is not None else None,
        footprint_area=_metric_area(shape) if shape is not None else None,
    )


def _utc(text: str | None) -> str | None:
    return None if not text else text.replace("+00:00", "Z")


def _int(value) -> int | None:
    return None if value is None else int(value)


def _metric_area(shape) -> float:
    from mappings.functions import geodesic_areas  # the mapping stage's: holes subtracted, rings oriented

    return float(geodesic_areas(np.array([shape], dtype=object))[0])
