"""One table from GeoSPARQL 1.1 function IRI to implementation, for every store.

``FUNCTIONS`` and ``AGGREGATES`` hold the plain implementations (terms in, term out; they raise
:class:`~kg.errors.GeoKGError` subclasses with a message starting with the function's name).
``custom_functions(context)`` / ``custom_aggregates(context)`` give the dictionaries pyoxigraph's
``Store.query(custom_functions=..., custom_aggregate_functions=...)`` takes, wrapped so that a
failure is recorded on the :class:`EvaluationContext` instead of vanishing.

>>> from pyoxigraph import Store
>>> from kg.geosparql.context import EvaluationContext
>>> context = EvaluationContext()
>>> query = 'ASK { FILTER(<%ssfIntersects>("POINT(1 1)"^^<%swktLiteral>, "POINT(1 1)"^^<%swktLiteral>)) }'
>>> bool(Store().query(query % (GEOF, GEO, GEO), custom_functions=custom_functions(context)))
True
"""

from __future__ import annotations

from typing import Callable

from pyoxigraph import NamedNode

from kg.errors import GeoKGError, InvalidGeometry
from kg.geosparql import accessors, aggregates, constructive, measurement, topology
from kg.geosparql.context import EvaluationContext, guarded
from kg.geosparql.vocab import GEO, GEOF


def _named(name: str, function: Callable) -> Callable:
    """``function`` with its errors' messages prefixed by ``geof:name``."""
    label = f"geof:{name}"

    def call(*args):
        try:
            return function(*args)
        except GeoKGError as error:
            if not error.message.startswith(label):
                error.message = f"{label}: {error.message}"
                error.args = (error.message,)
            raise
        except TypeError as error:  # wrong number of arguments
            if "positional argument" not in str(error):
                raise
            raise InvalidGeometry(f"{label}: wrong number of arguments ({len(args)} given); {_signature(function)}.") from None

    call.__name__ = label
    call.__doc__ = function.__doc__
    call.implementation = function
    return call


def _signature(function: Callable) -> str:
    code = function.__code__
    names = code.co_varnames[: code.co_argcount]
    required = code.co_argcount - len(function.__defaults__ or ())
    return f"expected {required}" + (f" to {len(names)}" if len(names) > required else "") + f" ({', '.join(names)})"


_IMPLEMENTATIONS: dict[str, Callable] = {
    **topology.RELATIONS,
    "relate": topology.relate,
    # measures
    "distance": measurement.distance,
    "metricDistance": measurement.metric_distance,
    "area": measurement.area,
    "metricArea": measurement.metric_area,
    "length": measurement.length,
    "metricLength": measurement.metric_length,
    "perimeter": measurement.perimeter,
    "metricPerimeter": measurement.metric_perimeter,
    # constructors
    "buffer": constructive.buffer,
    "metricBuffer": constructive.metric_buffer,
    "boundary": constructive.boundary,
    "boundingCircle": constructive.bounding_circle,
    "centroid": constructive.centroid,
    "envelope": constructive.envelope,
    "convexHull": constructive.convex_hull,
    "concaveHull": constructive.concave_hull,
    "intersection": constructive.intersection,
    "union": constructive.union,
    "difference": constructive.difference,
    "symDifference": constructive.sym_difference,
    "transform": constructive.transform,
    # accessors
    "getSRID": accessors.get_srid,
    "minX": accessors.min_x,
    "maxX": accessors.max_x,
    "minY": accessors.min_y,
    "maxY": accessors.max_y,
    "minZ": accessors.min_z,
    "maxZ": accessors.max_z,
    "numGeometries": accessors.num_geometries,
    "geometryN": accessors.geometry_n,
    "geometryType": accessors.geometry_type,
    "isEmpty": accessors.is_empty,
    "isSimple": accessors.is_simple,
    "is3D": accessors.is_3d,
    "isMeasured": accessors.is_measured,
    "dimension": accessors.dimension,
    "coordinateDimension": accessors.coordinate_dimension,
    "spatialDimension": accessors.spatial_dimension,
    # serialisations
    "asWKT": accessors.as_wkt,
    "asGeoJSON": accessors.as_geojson,
    "asGML": accessors.as_gml,
    "asKML": accessors.as_kml,
    "asDGGS": accessors.as_dggs,
}

FUNCTIONS: dict[str, Callable] = {GEOF + name: _named(name, f) for name, f in _IMPLEMENTATIONS.items()}

_AGGREGATE_CLASSES = {
    "aggBoundingBox": aggregates.BoundingBox,
    "aggBoundingCircle": aggregates.BoundingCircle,
    "aggCentroid": aggregates.Centroid,
    "aggConcaveHull": aggregates.ConcaveHull,
    "aggConvexHull": aggregates.ConvexHull,
    "aggUnion": aggregates.Union,
}
AGGREGATES: dict[str, Callable[[], object]] = {GEOF + name: cls for name, cls in _AGGREGATE_CLASSES.items()}

# The GeoSPARQL 1.1 functions we register but cannot compute (they raise UnsupportedFeature).
UNSUPPORTED = (GEOF + "asDGGS",)


def custom_functions(context: EvaluationContext) -> dict[NamedNode, Callable]:
    """Every geof: function, guarded by ``context``, keyed as pyoxigraph wants."""
    return {NamedNode(iri): guarded(function, function.__name__, context) for iri, function in FUNCTIONS.items()}


class _GuardedAccumulator:
    """An accumulator whose failures go to the context; after one, the aggregate is unbound."""

    __slots__ = ("inner", "name", "context", "failed")

    def __init__(self, inner, name: str, context: EvaluationContext):
        self.inner, self.name, self.context, self.failed = inner, name, context, False

    def _report(self, error: Exception) -> None:
        self.failed = True
        if isinstance(error, GeoKGError):
            if not error.message.startswith(self.name):
                error.message = f"{self.name}: {error.message}"
                error.args = (error.message,)
            self.context.report(error)
        else:
            self.context.report(InvalidGeometry(f"{self.name} failed: {type(error).__name__}: {error}"))

    def accumulate(self, term) -> None:
        if self.failed or self.context.expired():
            return
        try:
            self.inner.accumulate(term)
        except Exception as error:
            self._report(error)

    def finish(self):
        if self.failed or self.context.expired():
            return None
        try:
            return self.inner.finish()
        except Exception as error:
            self._report(error)
            return None


def custom_aggregates(context: EvaluationContext) -> dict[NamedNode, Callable[[], _GuardedAccumulator]]:
    """Every geof: aggregate, its failures recorded on ``context``, keyed as pyoxigraph wants."""

    def factory(name: str, cls) -> Callable[[], _GuardedAccumulator]:
        label = f"geof:{name}"
        return lambda: _GuardedAccumulator(cls(), label, context)

    return {NamedNode(GEOF + name): factory(name, cls) for name, cls in _AGGREGATE_CLASSES.items()}


def all_iris() -> list[str]:
    """Every function and aggregate IRI we register (for docs and service descriptions)."""
    return sorted(FUNCTIONS) + sorted(AGGREGATES)


__all__ = ["FUNCTIONS", "AGGREGATES", "UNSUPPORTED", "custom_functions", "custom_aggregates", "all_iris", "GEO", "GEOF"]
