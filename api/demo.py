"""The demo knowledge graph that the README's first command builds and serves.

It is built the way a user builds one: the sample prediction files of ``api/demo_data/`` (made by
``make_samples.py``) go through the mappings of ``mappings/rml/`` with SHACL validation, next to the
ontologies and code lists, so that queries can use the classes' labels.

Beside them, in the named graph ``PREDICTED_GRAPH``, a sea-ice map predicted by the model shipped in
``ml/shipped/`` from the real Sentinel-1 patches of ``../shared/data/polar-patch`` (docs/ml.md): the
model's regions, vectorised, written as GeoParquet and mapped like the samples.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from api.mapping import map_into_store
from kg.embedded import EmbeddedStore
from kg.errors import GeoKGError
from kg.store import LoadReport
from ontologies import CODELIST_FILES, ONTOLOGY_FILES

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
RML = Path(__file__).resolve().parents[1] / "mappings" / "rml"
DEMO_INPUTS = (  # (mapping, sample file), catalogue first: the predictions refer to its products
    ("products", "products.csv"),
    ("sea_ice", "sea_ice.parquet"),
    ("crop_type", "crop_type.geojson"),
    ("at_parcels", "at_parcels.shp"),
    ("lucas", "lucas.csv"),
)
_MARKER = ".eekg-demo"  # only a directory carrying this marker is ever wiped
PREDICTED_GRAPH = "https://w3id.org/eekg/data/graph/sea-ice-predicted"
DEMO_MODEL = "sea-ice-demo"
log = logging.getLogger("eekg.demo")


def build_demo(store_dir: Path) -> tuple[EmbeddedStore, LoadReport]:
    """(Re)build the demo store in ``store_dir`` and return it open, with what was loaded."""
    store_dir = Path(store_dir)
    if store_dir.exists() and any(store_dir.iterdir()):
        if not (store_dir / _MARKER).exists():
            raise GeoKGError(f"{store_dir} exists and is not a demo store; choose an empty or new directory with --store.")
        shutil.rmtree(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    (store_dir / _MARKER).touch()
    store = EmbeddedStore(store_dir)
    reports = [store.load([*ONTOLOGY_FILES, *CODELIST_FILES])]
    for mapping, sample in DEMO_INPUTS:
        reports.append(map_into_store(store, RML / f"{mapping}.rml.ttl", [DEMO_DATA / sample], validate="strict")[1])
    predicted = add_predicted_sea_ice(store)
    if predicted is not None:
        reports.append(predicted)
    return store, LoadReport(
        files=tuple(str(DEMO_DATA / sample) for _, sample in DEMO_INPUTS),
        triples=store.size().triples,  # the predictions repeat their product nodes: count each triple once
        geometries=sum(r.geometries for r in reports),
        seconds=sum(r.seconds for r in reports),
    )


def add_predicted_sea_ice(store: EmbeddedStore, patches: Path | None = None) -> LoadReport | None:
    """Predict the sea-ice map of the polar-patch scene with the shipped model and map it into
    ``PREDICTED_GRAPH`` (cells of 256 scene pixels, about 10 km); None, with a warning, without the data."""
    from ml.errors import DataError
    from ml.inference import prediction_polygons, sea_ice_map, write_geoparquet
    from ml.polar import load_patches
    from ml.registry import SHIPPED, Registry

    try:
        scene = load_patches(patches)
    except DataError as error:
        log.warning("The demo has no predicted sea-ice map: %s", error.message)
        return None
    model, card = Registry(SHIPPED, shipped=None).load(DEMO_MODEL)
    frame = prediction_polygons(sea_ice_map(model, card, scene, cell=256), card,
                                product_id=S1_PRODUCT, time="2018-03-05T07:35:20Z")
    with tempfile.TemporaryDirectory(prefix="eekg-demo-") as folder:
        path = write_geoparquet(frame, Path(folder) / "sea_ice_predicted.parquet")
        return map_into_store(store, RML / "sea_ice.rml.ttl", [path], graph=PREDICTED_GRAPH, validate="strict")[1]


# The demo catalogue's Sentinel-1 product (products.csv), whose footprint holds the assumed placement of the
# polar-patch scene (ml/georef.py); also the default source of 'eekg ml predict' sea-ice maps.
S1_PRODUCT = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
