"""The distributed store: the knowledge graph as Parquet tables, GeoSPARQL queries as Spark SQL.

- ``warehouse.py``: the layout (one table per predicate, a geometry table with bounding boxes and
  grid cells, statistics) and the import from RDF files (``eekg spark load``);
- ``terms.py``: RDF terms as N-Triples strings, the form every table and every query column holds;
- ``functions.py``: the ``geof:`` functions as pandas UDFs calling ``kg.geosparql`` and the exact
  refinement of grid candidates;
- ``translate.py``: SPARQL algebra (rdflib) to Spark SQL;
- ``paths.py``: property paths (alternatives, closures, negated sets) as DataFrames of pairs;
- ``aggregates.py``: the GeoSPARQL aggregates, through a tagged ``GROUP_CONCAT``;
- ``store.py``: :class:`SparkStore`, the ``kg.store.Store`` over a warehouse (read-only).

See docs/spark.md.
"""
