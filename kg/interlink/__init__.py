"""Geospatial interlinking: the topological relations between two datasets, as GeoSPARQL links.

JedAI-spatial's pipeline (docs/interlink.md): **filtering** on an equigrid of the source's mean MBR
size (``grid.py``, ``candidates.py``: the source indexed per tile, the target streamed, each pair
found once by its reference point), optional **weighting** of the candidate pairs with a **budget**
of verified pairs (``weighting.py``, ``budget.py``), and **verification** by the DE-9IM matrix,
vectorised (``verification.py``); locally (``local.py``) or on Spark (``spark.py``), with the same
links. ``datasets.py`` reads the datasets, ``run.py`` runs it all, ``links.py`` writes the links and
their provenance.

    source = read_dataset("class=https://w3id.org/eekg/ont/food#Parcel", store)
    target = read_dataset("regions.geojson id=region_id")
    run = interlink(source, target, budget=100_000, weighting="x2*mbro")
    graph, triples = write_to_store(run, store)
"""

from kg.interlink.datasets import Dataset, DatasetSpec, read_dataset
from kg.interlink.links import write_to_file, write_to_store
from kg.interlink.run import Interlinking, interlink
from kg.interlink.verification import RELATIONS

__all__ = ["RELATIONS", "Dataset", "DatasetSpec", "Interlinking", "interlink", "read_dataset", "write_to_file", "write_to_store"]
