"""The spatial aggregates: accumulators with ``accumulate(term)`` and ``finish() -> term``.

Every input is moved into the CRS of the first one; the result is a ``geo:wktLiteral`` in that
CRS (``GEOMETRYCOLLECTION EMPTY`` for an empty group). Computations are planar in that CRS.

>>> from pyoxigraph import Literal, NamedNode
>>> wkt = lambda s: Literal(s, datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
>>> box = BoundingBox()
>>> box.accumulate(wkt("POINT(0 0)")); box.accumulate(wkt("POINT(2 1)"))
>>> box.finish().value
'POLYGON ((0 0, 2 0, 2 1, 0 1, 0 0))'
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import shapely

from kg.geosparql.crs import reproject
from kg.geosparql.literals import EMPTY, geometry_of, wkt_literal
from kg.geosparql.vocab import CRS84


class _Collecting(ABC):
    """Collects the input shapes in the CRS of the first; subclasses say what to make of them."""

    def __init__(self):
        self.shapes: list[shapely.Geometry] = []
        self.crs: str | None = None

    def accumulate(self, term) -> None:
        if term is None:
            return
        geom = geometry_of(term)
        if self.crs is None:
            self.crs = geom.crs
        shape = geom.shape if geom.crs == self.crs else reproject(geom.shape, geom.crs, self.crs)
        self._add(shape)

    def _add(self, shape: shapely.Geometry) -> None:
        if not shape.is_empty:
            self.shapes.append(shape)

    def finish(self):
        if not self.shapes:
            return wkt_literal(EMPTY, self.crs or CRS84)
        return wkt_literal(self._result(), self.crs)

    def _collection(self) -> shapely.Geometry:
        return shapely.GeometryCollection(self.shapes)

    @abstractmethod
    def _result(self) -> shapely.Geometry:
        """The aggregate of the collected shapes (each aggregate says how)."""


class BoundingBox(_Collecting):
    """geof:aggBoundingBox: the envelope of all inputs (keeps only the running bounds)."""

    def _add(self, shape):
        if shape.is_empty:
            return
        bounds = shapely.bounds(shape)
        if self.shapes:
            (x1, y1, x2, y2) = self.shapes[0]
            bounds = (min(x1, bounds[0]), min(y1, bounds[1]), max(x2, bounds[2]), max(y2, bounds[3]))
        self.shapes = [tuple(bounds)]

    def _result(self):
        x1, y1, x2, y2 = self.shapes[0]
        return shapely.envelope(shapely.MultiPoint([(x1, y1), (x2, y2)]))


class BoundingCircle(_Collecting):
    """geof:aggBoundingCircle: the minimum bounding circle of all inputs."""

    def _result(self):
        return shapely.minimum_bounding_circle(self._collection())


class Centroid(_Collecting):
    """geof:aggCentroid: the centroid of the union of all inputs (overlaps counted once)."""

    def _result(self):
        return shapely.centroid(shapely.union_all(self.shapes))


class ConcaveHull(_Collecting):
    """geof:aggConcaveHull: the GEOS concave hull (ratio 0.3, no holes) of all inputs."""

    ratio = 0.3

    def _result(self):
        return shapely.concave_hull(self._collection(), ratio=self.ratio)


class ConvexHull(_Collecting):
    """geof:aggConvexHull: the convex hull of all inputs."""

    def _result(self):
        return shapely.convex_hull(self._collection())


class Union(_Collecting):
    """geof:aggUnion: the union of all inputs."""

    def _result(self):
        return shapely.union_all(self.shapes)
