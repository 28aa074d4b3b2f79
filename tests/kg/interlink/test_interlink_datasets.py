"""Datasets from a real store (by class, graph, pattern) and from files (GeoParquet, GeoJSON,
Shapefile, N-Triples), in their CRSs; bad input is one clear error."""

from __future__ import annotations

import geopandas
import pytest
import shapely
from interlink_helpers import EX

from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError, InvalidGeometry, LoadError, UnknownCRS
from kg.interlink import interlink, read_dataset
from kg.interlink.datasets import DatasetSpec
from kg.interlink.verification import BITS
from mappings.errors import MappingError

GEO = "http://www.opengis.net/ont/geosparql#"
WKT = f"^^<{GEO}wktLiteral>"
PARCEL, REGION = EX + "Parcel", EX + "Region"


def feature(iri: str, cls: str, wkt: str, *, default: bool = True) -> str:
    geometry = f"<{iri}/geometry>"
    return (f"<{iri}> a <{cls}> ; <{GEO}hasGeometry> {geometry} .\n"
            + (f"<{iri}> <{GEO}hasDefaultGeometry> {geometry} .\n" if default else "")
            + f'{geometry} <{GEO}asWKT> "{wkt}"{WKT} ; <{GEO}hasCentroid> <{iri}/centroid> .\n'
            + f'<{iri}/centroid> <{GEO}asWKT> "POINT(0 0)"{WKT} .\n')  # as the mappings write them: not an entity


@pytest.fixture
def store():
    """Parcels in the default graph and regions in a named graph, as the mapping stage writes them."""
    store = EmbeddedStore()
    parcels = "".join(feature(f"{EX}p{k}", PARCEL, f"POLYGON(({k} 0, {k + 1} 0, {k + 1} 1, {k} 1, {k} 0))") for k in range(4))
    store.load_data(parcels.encode(), "turtle")
    regions = (feature(f"{EX}r0", REGION, "POLYGON((0 0, 2 0, 2 1, 0 1, 0 0))")
               + feature(f"{EX}r1", REGION, "<http://www.opengis.net/def/crs/EPSG/0/4326> POLYGON((0 2, 0 4, 1 4, 1 2, 0 2))"))
    store.load_data(regions.encode(), "turtle", graph=EX + "regions")
    return store


def test_by_class_graph_and_pattern(store):
    parcels = read_dataset(f"class={PARCEL}", store)
    assert sorted(parcels.iris) == [f"{EX}p{k}" for k in range(4)]
    regions = read_dataset(f"graph={EX}regions", store)
    assert sorted(regions.iris) == [EX + "r0", EX + "r1"]
    assert read_dataset(f"class={REGION} graph={EX}regions", store).iris.tolist() == regions.iris.tolist()
    pattern = read_dataset(f"pattern={{ ?entity a <{PARCEL}> ; <{GEO}hasGeometry>/<{GEO}asWKT> ?wkt FILTER(?entity != <{EX}p0>) }}", store)
    assert sorted(pattern.iris) == [f"{EX}p{k}" for k in range(1, 4)]
    run = interlink(parcels, regions)
    links = {(parcels.iris[s], regions.iris[t], int(m)) for s, t, m in zip(run.found.s, run.found.t, run.found.masks)}
    # r0 covers x 0..2, r1 (in EPSG:4326, latitude first) x 2..4: parcels inside or touching at x = 2 and 4
    pairs = [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (3, 1)]
    assert {(s, t) for s, t, _ in links} == {(f"{EX}p{k}", f"{EX}r{r}") for k, r in pairs}


def test_a_crs_iri_is_honoured(store):
    """r1 is written in EPSG:4326 (latitude first): it is the square (0..1) x (2..4) in longitude/latitude."""
    regions = read_dataset(f"graph={EX}regions", store)
    shape = regions.shapes_in("http://www.opengis.net/def/crs/OGC/1.3/CRS84")[regions.iris.tolist().index(EX + "r1")]
    assert shapely.equals(shape, shapely.box(2, 0, 4, 1))
    same = read_dataset(f"pattern={{ VALUES ?entity {{ <{EX}x> }} BIND(\"POLYGON((2 0, 4 0, 4 1, 2 1, 2 0))\"^^<{GEO}wktLiteral> AS ?wkt) }}", store)
    run = interlink(same, regions)
    assert {regions.iris[t] for t, m in zip(run.found.t, run.found.masks) if m & 1} == {EX + "r1"}  # sfEquals


def test_from_files_in_every_format(tmp_path):
    frame = geopandas.GeoDataFrame({"parcel_id": ["a", "b"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)], crs="OGC:CRS84")
    frame.to_file(tmp_path / "parcels.geojson", driver="GeoJSON")
    frame.to_parquet(tmp_path / "parcels.parquet")
    frame.to_crs("EPSG:3035").to_file(tmp_path / "parcels.shp")
    (tmp_path / "parcels.nt").write_text(f'<{EX}a> <{GEO}asWKT> "POINT(0.5 0.5)"{WKT} .\n')  # the literal on the entity
    geojson = read_dataset(f"{tmp_path / 'parcels.geojson'} id=parcel_id base={EX}parcel/")
    assert geojson.iris.tolist() == [EX + "parcel/a", EX + "parcel/b"]
    parquet = read_dataset(str(tmp_path / "parcels.parquet"))
    assert parquet.iris.tolist() == [(tmp_path / "parcels.parquet").as_uri() + "#1", (tmp_path / "parcels.parquet").as_uri() + "#2"]
    shapefile = read_dataset(f"{tmp_path / 'parcels.shp'} id=parcel_id")
    assert shapely.hausdorff_distance(shapefile.shapes[1], shapely.box(5, 5, 6, 6)) < 1e-6  # moved back to CRS84
    ntriples = read_dataset(str(tmp_path / "parcels.nt"))
    assert ntriples.iris.tolist() == [EX + "a"]
    for dataset in (geojson, parquet, shapefile):
        run = interlink(dataset, ntriples)
        assert run.found.s.tolist() == [0] and run.links == 2
        assert run.found.masks.tolist() == [BITS["sfIntersects"] | BITS["sfContains"]]


@pytest.mark.parametrize("spec, error, message", [
    ("class=http://example.org/Nothing", GeoKGError, "has no entity with a geometry; check the IRIs"),
    ("pattern={ ?entity ?p ?o }", GeoKGError, "binds no ?wkt"),
    ("missing.geojson", MappingError, "missing.geojson: no such file"),
    ("data.xyz", MappingError, "unknown input kind"),
    ("class=http://example.org/A something", GeoKGError, "Cannot read the dataset"),
    ("id=x", GeoKGError, "names nothing to read"),
    ("class=Parcel", GeoKGError, "class='Parcel' is not an IRI"),
])
def test_bad_specs_and_selections(store, spec, error, message):
    with pytest.raises(error, match=message.replace("?", r"\?").replace("(", r"\(")):
        read_dataset(spec, store)


def test_bad_geometries_name_their_entity(tmp_path):
    store = EmbeddedStore()  # the store refuses such literals; a pattern can still make them
    unknown = f'BIND(<{EX}bad> AS ?entity) BIND("<http://www.opengis.net/def/crs/EPSG/0/999999> POINT(1 1)"^^<{GEO}wktLiteral> AS ?wkt)'
    with pytest.raises(UnknownCRS, match=f"the geometry of <{EX}bad> cannot be used: Unknown CRS IRI"):
        read_dataset(f"pattern={{ {unknown} }}", store)
    with pytest.raises(InvalidGeometry, match=f"<{EX}s> cannot be used: invalid WKT literal"):
        read_dataset(f'pattern={{ BIND(<{EX}s> AS ?entity) BIND("POLYGON((0 0, 1"^^<{GEO}wktLiteral> AS ?wkt) }}', store)
    with pytest.raises(InvalidGeometry, match="plain string"):
        read_dataset(f'pattern={{ BIND(<{EX}s> AS ?entity) BIND("POINT(1 1)" AS ?wkt) }}', store)
    bad_file = tmp_path / "bad.nt"
    bad_file.write_text(f'<{EX}a> <{GEO}asWKT> "POINT(1"{WKT} .\n')
    with pytest.raises(LoadError, match="bad.nt.*invalid WKT literal"):
        read_dataset(str(bad_file))
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(MappingError, match="broken.geojson: cannot be read as geojson"):
        read_dataset(str(broken))


def test_an_entity_with_two_geometries_and_no_default_must_be_chosen():
    store = EmbeddedStore()
    data = feature(EX + "p", PARCEL, "POINT(1 1)", default=False) + f'<{EX}p> <{GEO}hasGeometry> <{EX}p/other> .\n<{EX}p/other> <{GEO}asWKT> "POINT(2 2)"{WKT} .\n'
    store.load_data(data.encode(), "turtle")
    with pytest.raises(GeoKGError, match=f"<{EX}p> has 2 geometries and none is its geo:hasDefaultGeometry"):
        read_dataset(f"class={PARCEL}", store)
    store.load_data(f"<{EX}p> <{GEO}hasDefaultGeometry> <{EX}p/other> .".encode(), "ntriples")
    chosen = read_dataset(f"class={PARCEL}", store)
    assert chosen.shapes[0].equals(shapely.Point(2, 2))


def test_invalid_and_empty_geometries(store):
    bowtie = f'pattern={{ VALUES (?entity ?wkt) {{ (<{EX}bow> "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"^^<{GEO}wktLiteral>) (<{EX}e> "POINT EMPTY"^^<{GEO}wktLiteral>) (<{EX}ok> "POINT(0.5 0.5)"^^<{GEO}wktLiteral>) }} }}'
    source = read_dataset(bowtie, store)
    parcels = read_dataset(f"class={PARCEL}", store)
    with pytest.raises(InvalidGeometry, match=f"1 invalid geometries, the first of <{EX}bow> \\(Self-intersection"):
        interlink(source, parcels)
    run = interlink(source, parcels, on_invalid="skip")
    assert run.left_out["source"] == {"empty": 1, "invalid": 1}
    assert source.iris[run.found.s].tolist() == [EX + "ok"]


def test_spec_syntax():
    spec = DatasetSpec.parse(f"graph=<{EX}g> pattern={{ ?entity <{GEO}hasGeometry>/<{GEO}asWKT> ?wkt }}")
    assert spec.selection.graph == EX + "g" and spec.selection.pattern.startswith("{ ?entity")
    with pytest.raises(GeoKGError, match="give class= or pattern=, not both"):
        DatasetSpec.parse(f"class={EX}C pattern={{ }}")


def test_relations_are_computed_in_the_sources_projected_crs(store):
    """A square of 2 km in EPSG:3035 (northing first in its literals) around a CRS84 point."""
    from kg.geosparql.crs import transformer
    from kg.geosparql.literals import wkt_text

    laea = "http://www.opengis.net/def/crs/EPSG/0/3035"
    x, y = transformer("http://www.opengis.net/def/crs/OGC/1.3/CRS84", laea).transform(10.0, 52.0)
    square = wkt_text(shapely.box(x - 1000, y - 1000, x + 1000, y + 1000), laea)
    source = read_dataset(f'pattern={{ BIND(<{EX}square> AS ?entity) BIND("{square}"^^<{GEO}wktLiteral> AS ?wkt) }}', store)
    target = read_dataset(f'pattern={{ VALUES (?entity ?wkt) {{ (<{EX}in> "POINT(10 52)"^^<{GEO}wktLiteral>) '
                          f'(<{EX}out> "POINT(10.1 52)"^^<{GEO}wktLiteral>) }} }}', store)
    run = interlink(source, target)
    assert run.crs == laea and 1500 < run.grid.width < 2500  # metres
    assert target.iris[run.found.t].tolist() == [EX + "in"] and run.found.masks.tolist() == [BITS["sfIntersects"] | BITS["sfContains"]]
