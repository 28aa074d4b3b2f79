"""The semantic catalogue (with its OpenSearch and OData faces) and LUCAS validation, over a
federation of the real Oxigraph server (products, survey), our server (predictions) and the code lists."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from catalogue_data import PRODUCTS, catalogue_data
from federation_support import eekg_server, oxigraph_server, store_of, union_store

from federation import EndpointSource, Federation, StoreSource
from federation.catalogue import Search, search
from federation.lucas import validate_crop_map
from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError, InvalidGeometry

MARCH = dict(start=datetime(2018, 3, 1, tzinfo=timezone.utc), end=datetime(2018, 4, 1, tzinfo=timezone.utc))
SVALBARD = "POLYGON((10 78, 30 78, 30 82, 10 82, 10 78))"


@pytest.fixture(scope="module")
def parts():
    return catalogue_data()


@pytest.fixture(scope="module")
def catalogue_federation(parts):
    with oxigraph_server(parts["products"]) as products, eekg_server(store_of(parts["predictions"])) as predictions:
        with Federation([EndpointSource("provider", products), EndpointSource("predictions", predictions),
                         StoreSource("codes", store_of(parts["codes"]))]) as federation:
            yield federation


@pytest.fixture(scope="module")
def one_store(parts):
    return union_store(parts)


def _ids(products) -> list[str]:
    return [p.identifier[:25] for p in products]


def test_scenes_over_a_box_in_march_with_young_ice(catalogue_federation, one_store):
    wanted = Search(area=SVALBARD, mission="Sentinel-1", observed="young-ice", min_share=0.3, **MARCH)
    found = search(catalogue_federation, wanted)
    assert _ids(found) == ["S1A_EW_GRDM_1SDH_20180305"]
    assert found[0].share == pytest.approx(0.4)
    assert search(one_store, wanted) == found


def test_each_condition_narrows_the_answer(catalogue_federation):
    assert len(search(catalogue_federation, Search())) == len(PRODUCTS)
    assert _ids(search(catalogue_federation, Search(area=SVALBARD, **MARCH))) == [
        "S1A_EW_GRDM_1SDH_20180305", "S2A_MSIL2A_20180315T09503", "S1B_EW_GRDM_1SDH_20180320"]  # earliest first
    assert len(search(catalogue_federation, Search(mission="Sentinel-1", observed="young-ice", min_share=0.3))) == 3
    ice = search(catalogue_federation, Search(area=SVALBARD, observed="ice", min_share=0.6, **MARCH))  # narrower classes count
    assert [(p.identifier[:25], round(p.share, 6)) for p in ice] == [("S1A_EW_GRDM_1SDH_20180305", 0.7), ("S1B_EW_GRDM_1SDH_20180320", 0.7)]
    assert _ids(search(catalogue_federation, Search(product_type="S2MSI2A"))) == ["S2A_MSIL2A_20180315T09503"]


def test_bad_searches_say_what_to_fix(catalogue_federation):
    with pytest.raises(GeoKGError, match="'youngice' is not a sea-ice or crop-type class; known ones are"):
        search(catalogue_federation, Search(observed="youngice"))
    with pytest.raises(InvalidGeometry, match="not valid WKT"):
        search(catalogue_federation, Search(area="POLYGON((10 78, 30"))
    with pytest.raises(GeoKGError, match="start must come before end"):
        search(catalogue_federation, Search(start=MARCH["end"], end=MARCH["start"]))
    with pytest.raises(GeoKGError, match="between 0 and 1"):
        search(catalogue_federation, Search(observed="young-ice", min_share=30))


def test_lucas_validation_over_the_federation(catalogue_federation, one_store):
    result = validate_crop_map(catalogue_federation, 10)
    assert [(p.point_id, p.land_cover, p.positive) for p in result.points] == [
        ("47622810", "B16", True), ("47642810", "B11", False), ("47662810", "B11", False), ("47702810", "E20", True)]
    assert [(c.land_cover, c.crop_types, c.points, c.positive, c.share_positive) for c in result.by_class()] == [
        ("B11", ("winter-wheat",), 2, 0, 0.0), ("B16", ("maize",), 1, 1, 1.0), ("E20", ("grassland",), 1, 1, 1.0)]
    assert validate_crop_map(one_store, 10) == result
    wider = validate_crop_map(catalogue_federation, 100)  # the wheat region 50 m away now counts
    assert [p.point_id for p in wider.points if not p.positive] == ["47642810"]
    with pytest.raises(GeoKGError, match="not between 0 and"):
        validate_crop_map(catalogue_federation, -1)


# --- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(one_store):
    with eekg_server(one_store) as url:
        yield url.removesuffix("/sparql")


def test_catalogue_search_endpoint(server):
    response = httpx.get(server + "/catalogue/search", params={
        "bbox": "10,78,30,82", "start": "2018-03-01T00:00:00Z", "end": "2018-04-01T00:00:00Z", "mission": "Sentinel-1",
        "class": "young-ice", "minShare": "0.3"})
    assert response.status_code == 200, response.text
    answer = response.json()
    [product] = answer["products"]
    assert product["identifier"].startswith("S1A_EW_GRDM_1SDH_20180305") and product["share"] == pytest.approx(0.4)
    assert "SELECT" in answer["sparql"] and answer["next_page"] is None
    pages = [httpx.get(server + "/catalogue/search", params={"pageSize": 2, "page": n}).json() for n in (1, 2, 3)]
    assert [len(p["products"]) for p in pages] == [2, 2, 1] and pages[0]["next_page"] == 2
    assert len({p["identifier"] for page in pages for p in page["products"]}) == len(PRODUCTS)
    big = httpx.get(server + "/catalogue/search", params={"class": "young-ice", "minArea": 45}).json()["products"]
    assert [p["identifier"][:25] for p in big] == ["S1A_EW_GRDM_1SDH_20180310", "S1A_EW_GRDM_1SDH_20180402"]
    bad = httpx.get(server + "/catalogue/search", params={"bbox": "30,78,10,82"})
    assert bad.status_code == 400 and "west < east" in bad.json()["message"]
    bad = httpx.get(server + "/catalogue/search", params={"minShare": "0.3"})
    assert bad.status_code == 400 and "add class=" in bad.json()["message"]


def test_lucas_endpoint(server):
    answer = httpx.post(server + "/lucas/validate", json={"distance": 10}).json()
    assert (answer["points"], answer["positive"], answer["negative"]) == (4, 2, 2)
    assert [p["point_id"] for p in answer["results"] if not p["positive"]] == ["47642810", "47662810"]
    assert answer["classes"][0] == {"land_cover": "B11", "crop_types": ["winter-wheat"], "points": 2, "positive": 0,
                                    "negative": 2, "share_positive": 0.0}
    bad = httpx.post(server + "/lucas/validate", json={"distance": -3})
    assert bad.status_code in (400, 422)


def _lucas_store(regions: list[tuple[str, str]], points: list[tuple[str, str, str]]) -> EmbeddedStore:
    """Crop regions (crop, WKT) and LUCAS points (id, LC1, WKT) in the shapes of docs/data-model.md."""
    from catalogue_data import CROP, FOOD, GEO, LC1, SOSA, TYPE
    from ontologies import CODELIST_FILES

    d, lines = "https://w3id.org/eekg/data/", []
    wkt = lambda text: '"' + text + f'"^^<{GEO}wktLiteral>'  # noqa: E731
    for i, (crop, geometry) in enumerate(regions):
        o, r = f"<{d}crop-type/X/2018/c{i}>", f"<{d}crop-type/X/2018/c{i}/region>"
        lines += [f"{o} <{TYPE}> <{FOOD}CropTypeObservation> .", f"{o} <{FOOD}cropType> <{CROP}{crop}> .",
                  f"{o} <{SOSA}hasFeatureOfInterest> {r} .", f"{r} <{GEO}hasGeometry> <{d}g{i}> .", f"<{d}g{i}> <{GEO}asWKT> {wkt(geometry)} ."]
    for point_id, lc1, geometry in points:
        o, p = f"<{d}lucas/{point_id}>", f"<{d}lucas/{point_id}/point>"
        lines += [f"{o} <{TYPE}> <{FOOD}LucasObservation> .", f"{o} <{FOOD}landCover> <{LC1}{lc1}> .",
                  f"{o} <{SOSA}hasFeatureOfInterest> {p} .", f'{p} <{FOOD}pointId> "{point_id}" .',
                  f"{p} <{GEO}hasGeometry> <{d}p{point_id}> .", f"<{d}p{point_id}> <{GEO}asWKT> {wkt(geometry)} ."]
    store = EmbeddedStore()
    store.load(list(CODELIST_FILES))
    store.load_data("\n".join(lines).encode() + b"\n", "ntriples")
    return store


def test_lucas_distance_is_in_metres_wherever_the_point_lies():
    """10 m is 10 m on the ellipsoid: at 70 N a metre east is 2.9 times more longitude than at the
    equator; a region in a projected CRS (ETRS89-LAEA, EPSG:3035) is measured in its metres."""
    from pyproj import Geod, Transformer

    geod = Geod(ellps="WGS84")
    east = lambda lon, lat, metres: geod.fwd(lon, lat, 90, metres)[0]  # noqa: E731
    north = lambda lon, lat, metres: geod.fwd(lon, lat, 0, metres)[1]  # noqa: E731
    arctic = "POLYGON((20 70, 20.01 70, 20.01 70.005, 20 70.005, 20 70))"
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True).transform(16.0, 48.0)
    laea = f"<http://www.opengis.net/def/crs/EPSG/0/3035> POLYGON(({y} {x}, {y} {x + 100}, {y + 100} {x + 100}, {y + 100} {x}, {y} {x}))"
    lon, lat = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True).transform(x + 108, y + 50)  # 8 m east of it
    far_lon, _ = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True).transform(x + 112, y + 50)  # 12 m east
    store = _lucas_store(
        [("maize", arctic), ("winter-wheat", laea)],
        [("1", "B16", f"POINT({east(20.01, 70.0025, 9.5)} 70.0025)"), ("2", "B16", f"POINT({east(20.01, 70.0025, 10.5)} 70.0025)"),
         ("3", "B16", f"POINT(20.005 {north(20.005, 70.005, 9.5)})"), ("4", "B16", f"POINT(20.005 {north(20.005, 70.005, 10.5)})"),
         ("5", "B11", f"POINT({lon} {lat})"), ("6", "B11", f"POINT({far_lon} {lat})"),
         ("7", "B11", f"POINT({east(20.01, 70.0025, 1)} 70.0025)")])  # next to maize, but the survey saw wheat
    result = validate_crop_map(store, 10)
    assert [(p.point_id, p.positive) for p in result.points] == [
        ("1", True), ("2", False), ("3", True), ("4", False), ("5", True), ("6", False), ("7", False)]
    assert [(c.land_cover, c.points, c.positive, c.share_positive) for c in result.by_class()] == [
        ("B11", 3, 1, pytest.approx(1 / 3)), ("B16", 4, 2, 0.5)]


def test_lucas_validate_command(parts, tmp_path):
    import json

    from click.testing import CliRunner

    from api.cli import main

    with EmbeddedStore(tmp_path / "store") as store:
        for data in parts.values():
            store.load_data(data, "ntriples")
    done = CliRunner().invoke(main, ["lucas", "validate", "--store", str(tmp_path / "store"), "--points", str(tmp_path / "p.csv")])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert (summary["points"], summary["positive"], summary["negative"]) == (4, 2, 2)
    assert summary["classes"][0] == {"land_cover": "B11", "crop_types": ["winter-wheat"], "points": 2, "positive": 0,
                                     "negative": 2, "share_positive": 0.0}
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0] == "point_id,land_cover,crop_types,positive,point" and rows[1].startswith("47622810,B16,maize,True,")
    neither = CliRunner().invoke(main, ["lucas", "validate"], env={"EEKG_STORE_DIR": ""})
    assert neither.exit_code == 2 and "Give either --config" in neither.output
