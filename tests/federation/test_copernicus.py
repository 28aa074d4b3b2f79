"""The Copernicus catalogue adapter against a local server answering in the catalogue's OData format
(the real one is not reachable here): its filters, paging, the records it ingests, its errors."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from click.testing import CliRunner

from api.cli import main
from federation.catalogue import Search, search
from federation.copernicus import CopernicusCatalogue, CopernicusOpenSearch, ingest
from federation.errors import FederationError
from kg.embedded import EmbeddedStore
from ontologies import CODELIST_FILES

SVALBARD = "POLYGON((10 78, 30 78, 30 82, 10 82, 10 78))"


def _entry(name: str, start: str, box: tuple, product_type: str, **attributes) -> dict:
    """One product as the Copernicus Data Space OData API answers it."""
    w, s, e, n = box
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    values = [{"@odata.type": "#OData.CSC.StringAttribute", "Name": "productType", "Value": product_type, "ValueType": "String"}]
    values += [{"@odata.type": "#OData.CSC.DoubleAttribute", "Name": k, "Value": v, "ValueType": "Double"} for k, v in attributes.items()]
    return {"@odata.mediaContentType": "application/octet-stream", "Id": f"id-{name[:20]}", "Name": name,
            "ContentType": "application/octet-stream", "Online": True,
            "ContentDate": {"Start": start, "End": start.replace(":20.000", ":59.000")},
            "Footprint": f"geography'SRID=4326;POLYGON (({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))'",
            "GeoFootprint": {"type": "Polygon", "coordinates": [ring]}, "Attributes": values}


CATALOGUE = {
    "SENTINEL-1": [_entry(f"S1A_EW_GRDM_1SDH_201803{d:02d}T073520_201803{d:02d}T073620_0208{d:02d}_023C3E_6B7F.SAFE",
                          f"2018-03-{d:02d}T07:35:20.000Z", (10 + d % 5, 78, 20 + d % 5, 80), "GRD", orbitNumber=20800 + d)
                   for d in range(1, 29)]
    + [_entry("S1A_IW_SLC__1SDV_20180310T050000_20180310T050027_020944_024000_AAAA.SAFE", "2018-03-10T05:00:20.000Z",
              (12, 78, 14, 79), "SLC"),
       _entry("S1A_EW_GRDM_1SDH_20180310T100000_20180310T100100_020940_024000_5678.SAFE", "2018-03-10T10:00:20.000Z",
              (-60, 60, -50, 62), "GRD"),
       _entry("S1A_EW_GRDM_1SDH_20180402T073000_20180402T073100_021261_024A00_1234.SAFE", "2018-04-02T07:30:20.000Z",
              (10, 78, 20, 80), "GRD"),
       _entry("not-a-product-name.SAFE", "2018-03-11T00:00:20.000Z", (12, 78, 13, 79), "GRD")],
    "SENTINEL-2": [_entry("S2A_MSIL2A_20180315T095031_N0206_R079_T33XWJ_20180315T121339.SAFE", "2018-03-15T09:50:20.000Z",
                          (14, 79, 16, 80), "S2MSI2A", cloudCover=12.5)],
}


def _matches(entry: dict, expression: str) -> bool:
    """Evaluates the $filter clauses the Copernicus catalogue documents (only those: others are refused)."""
    known = 0
    if m := re.search(r"Collection/Name eq '([\w-]+)'", expression):
        known += 1
        if entry not in CATALOGUE.get(m.group(1), []):
            return False
    for op, moment in re.findall(r"ContentDate/Start (ge|lt) (\S+)", expression):
        known += 1
        start = entry["ContentDate"]["Start"].replace(".000Z", "Z")
        if (op == "ge" and start < moment) or (op == "lt" and start >= moment):
            return False
    if m := re.search(r"OData\.CSC\.Intersects\(area=geography'SRID=4326;([^']+)'\)", expression):
        known += 1
        if not shapely.intersects(shapely.from_wkt(m.group(1)), shapely.geometry.shape(entry["GeoFootprint"])):
            return False
    if m := re.search(r"att/Name eq 'productType' and att/OData\.CSC\.StringAttribute/Value eq '([^']+)'", expression):
        known += 1
        if entry["Attributes"][0]["Value"] != m.group(1):
            return False
    if known != len(re.split(r" and (?![^()]*\))", expression)):  # a clause of another form
        raise ValueError(f"unknown clauses in {expression}")
    return True


def _feature(entry: dict) -> dict:
    """The same product as the OpenSearch (Resto) interface answers it: a GeoJSON feature."""
    attributes = {a["Name"]: a["Value"] for a in entry["Attributes"]}
    return {"type": "Feature", "id": entry["Id"], "geometry": entry["GeoFootprint"],
            "properties": {"collection": "Sentinel1" if entry["Name"].startswith("S1") else "Sentinel2",
                           "title": entry["Name"], "startDate": entry["ContentDate"]["Start"],
                           "completionDate": entry["ContentDate"]["End"], "productType": attributes["productType"],
                           "cloudCover": attributes.get("cloudCover", -1), "orbitNumber": attributes.get("orbitNumber")}}


def _opensearch(path: str, query: dict) -> dict:
    """Resto's search.json: startDate / completionDate bound the products' times, geometry intersects, page from 1."""
    collection = {"/resto/api/collections/Sentinel1/search.json": "SENTINEL-1",
                  "/resto/api/collections/Sentinel2/search.json": "SENTINEL-2"}[path]
    found = [e for e in CATALOGUE[collection]
             if query.get("startDate", "") <= e["ContentDate"]["Start"].replace(".000Z", "Z")
             and e["ContentDate"]["End"].replace(".000Z", "Z") <= query.get("completionDate", "9")
             and query.get("productType", e["Attributes"][0]["Value"]) == e["Attributes"][0]["Value"]
             and ("geometry" not in query or shapely.intersects(shapely.from_wkt(query["geometry"]),
                                                               shapely.geometry.shape(e["GeoFootprint"])))]
    size, page = int(query.get("maxRecords", 20)), int(query.get("page", 1))
    return {"type": "FeatureCollection", "properties": {"totalResults": len(found)},
            "features": [_feature(e) for e in found[(page - 1) * size:page * size]]}


class ODataServer:
    """The catalogue on 127.0.0.1: GET /odata/v1/Products with $filter, $orderby, $top, $skip, and the
    OpenSearch interface at /resto/api/collections/{Sentinel1,Sentinel2}/search.json; records requests."""

    def __init__(self, fail: int | None = None):
        requests = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                requests.append(query)
                if not fail and parts.path.startswith("/resto/api/collections/"):
                    return self._send(200, _opensearch(parts.path, query))
                if fail or parts.path != "/odata/v1/Products":
                    return self._send(fail or 404, {"detail": "Internal error" if fail else "Not found"})
                try:
                    found = [e for c in CATALOGUE.values() for e in c if _matches(e, query["$filter"])]
                except ValueError as error:
                    return self._send(400, {"detail": str(error)})
                found.sort(key=lambda e: e["ContentDate"]["Start"])
                skip, top = int(query.get("$skip", 0)), int(query.get("$top", 20))
                page = {"@odata.context": "$metadata#Products(Attributes())", "value": found[skip:skip + top]}
                if skip + top < len(found):
                    page["@odata.nextLink"] = f"http://elsewhere.example/odata/v1/Products?$skip={skip + top}"
                self._send(200, page)

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/odata/v1"
        self.opensearch_url = self.url.replace("/odata/v1", "/resto/api")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def odata():
    server = ODataServer()
    yield server
    server.close()


def test_filters_go_to_the_catalogue_and_pages_are_followed(odata, monkeypatch):
    import federation.copernicus as copernicus

    monkeypatch.setattr(copernicus, "PAGE", 10)
    with CopernicusCatalogue(odata.url) as remote:
        records, skipped = remote.products("SENTINEL-1", start="2018-03-01T00:00:00Z", end="2018-04-01T00:00:00Z",
                                           footprint=SVALBARD, product_type="GRD")
    assert len(records) == 28 and skipped == ["not-a-product-name.SAFE"]  # not the SLC, the Greenland scene, April's
    assert [r["$skip"] for r in odata.requests] == ["0", "10", "20"]  # our own paging: nextLink points elsewhere
    sent = odata.requests[0]["$filter"]
    assert sent.startswith("Collection/Name eq 'SENTINEL-1' and ContentDate/Start ge 2018-03-01T00:00:00Z and ")
    first = records[0]
    assert (first.identifier, first.mission, first.mode, first.product_type, first.polarisation, first.absolute_orbit) == (
        "S1A_EW_GRDM_1SDH_20180301T073520_20180301T073620_020801_023C3E_6B7F", "Sentinel-1A", "EW", "GRD", "HH HV", 20801)
    assert first.sensing_start == "2018-03-01T07:35:20.000Z" and first.footprint.startswith("POLYGON ((11 78")
    assert first.footprint_area == pytest.approx(10 * 111_000 * 2 * 111_000 * 0.2, rel=0.15)  # 10 x 2 degrees at 79 N


def test_ingested_records_are_found_by_the_semantic_catalogue(odata):
    store = EmbeddedStore()
    store.load(list(CODELIST_FILES))
    with CopernicusCatalogue(odata.url) as remote:
        s2, _ = remote.products("SENTINEL-2", footprint=SVALBARD)
        s1, skipped = remote.products("SENTINEL-1", product_type="SLC")
    done = ingest(store, s1 + s2, skipped)
    assert (done.products, done.skipped) == (2, [])
    found = search(store, Search(area=SVALBARD))
    assert [(p.identifier[:10], p.product_type) for p in found] == [("S1A_IW_SLC", "SLC"), ("S2A_MSIL2A", "S2MSI2A")]
    cloud = store.query("SELECT ?c { ?p <https://w3id.org/eekg/ont/eo#cloudCover> ?c }").bindings()
    assert [float(r["c"].value) for r in cloud] == [12.5]


def test_the_cli_ingests_into_a_store(odata, tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["catalogue", "ingest", "--url", odata.url, "--collection", "SENTINEL-1", "--start",
                                "2018-04-01T00:00:00Z", "--store", str(tmp_path / "store")])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("1 products, ") and "loaded into" in done.output
    with EmbeddedStore(tmp_path / "store") as store:
        [row] = store.query("SELECT ?id { ?p <http://purl.org/dc/terms/identifier> ?id }").bindings()
    assert row["id"].value.startswith("S1A_EW_GRDM_1SDH_20180402")


def test_the_opensearch_interface_gives_the_same_records(odata, monkeypatch):
    import federation.copernicus as copernicus

    monkeypatch.setattr(copernicus, "PAGE", 10)
    wanted = dict(start="2018-03-01T00:00:00Z", end="2018-04-01T00:00:00Z", footprint=SVALBARD, product_type="GRD")
    with CopernicusOpenSearch(odata.opensearch_url) as remote:
        records, skipped = remote.products("SENTINEL-1", **wanted)
    assert [r["page"] for r in odata.requests] == ["1", "2", "3"]
    assert odata.requests[0]["geometry"].startswith("POLYGON ((10 78") and odata.requests[0]["productType"] == "GRD"
    with CopernicusCatalogue(odata.url) as remote:
        assert (records, skipped) == remote.products("SENTINEL-1", **wanted)
    with CopernicusOpenSearch(odata.opensearch_url) as remote:
        [s2] = remote.products("SENTINEL-2")[0]
    assert (s2.tile, s2.cloud_cover, s2.product_type) == ("33XWJ", 12.5, "S2MSI2A")


def test_a_failing_catalogue_is_named():
    server = ODataServer(fail=500)
    try:
        with CopernicusCatalogue(server.url) as remote, pytest.raises(FederationError, match=r"'copernicus' at .* failed to answer the search \(HTTP 500"):
            remote.products("SENTINEL-1")
    finally:
        server.close()
    with pytest.raises(Exception, match="Unknown collection 'SENTINEL-3'"):
        CopernicusCatalogue("http://127.0.0.1:1/odata/v1").products("SENTINEL-3")
