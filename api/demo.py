"""The demo knowledge graph that the README's first command builds and serves.

It is built the way a user builds one: the sample prediction files of ``api/demo_data/`` (made by
``make_samples.py``) go through the mappings of ``mappings/rml/`` with SHACL validation, next to the
ontologies and code lists, so that queries can use the classes' labels.
"""

from __future__ import annotations

import shutil
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
    return store, LoadReport(
        files=tuple(str(DEMO_DATA / sample) for _, sample in DEMO_INPUTS),
        triples=store.size().triples,  # the predictions repeat their product nodes: count each triple once
        geometries=sum(r.geometries for r in reports),
        seconds=sum(r.seconds for r in reports),
    )
