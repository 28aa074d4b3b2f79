"""The GeoSPARQL functions on Spark: the shared implementations of ``kg.geosparql``, called in UDFs.

- ``eekg_geof(iri, a, b, c)``: any ``geof:`` function of ``kg.geosparql.registry.FUNCTIONS`` on
  N-Triples term strings, as a pandas UDF (one Arrow batch at a time); its answer is a term string.
- :func:`refine`: the exact test of candidate pairs of geometry literals (from the grid), vectorised
  with shapely where both geometries are in one CRS and the relation is a GEOS predicate (what
  ``kg.geosparql.topology`` computes), by the shared function otherwise; a pair is kept only in
  the grid cell of its reference point, so no pair is reported twice.

A user error inside an executor (a malformed literal) travels back in the exception text behind
``MARKER`` and becomes the same :class:`~kg.errors.GeoKGError` the embedded store raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyoxigraph import NamedNode

from kg.errors import GeoKGError, InvalidGeometry
from kg.geosparql.context import EvaluationContext
from kg.geosparql.registry import FUNCTIONS, custom_aggregates
from kg.geosparql.topology import PREDICATES
from kg.geosparql.vocab import GEOF
from kg.spark.terms import parse_terms, term_text

MARKER = "EEKG-USER-ERROR:"
_CARRIED = re.compile(re.escape(MARKER) + r"(.*?)(?:\n|$)")
# Relations that hold only between geometries that meet (their boxes overlap): answered through the grid.
MEETING = frozenset(
    GEOF + name for name in ("sfIntersects", "sfTouches", "sfWithin", "sfContains", "sfOverlaps", "sfCrosses", "sfEquals",
                             "ehEquals", "ehMeet", "ehOverlap", "ehCovers", "ehCoveredBy", "ehInside", "ehContains",
                             "rcc8eq", "rcc8ec", "rcc8po", "rcc8tppi", "rcc8tpp", "rcc8ntpp", "rcc8ntppi")
)
DISTANCE = GEOF + "distance"
METRE_UNITS = frozenset(("http://www.opengis.net/def/uom/OGC/1.0/metre", "http://www.opengis.net/def/uom/OGC/1.0/meter",
                         "http://qudt.org/vocab/unit/M"))
_METRES_PER_DEGREE = 110_574.0  # the fewest along a meridian: boxes widened by metres never come out short


def call(iri: str, terms: list):
    """The shared implementation of a geof: function on pyoxigraph terms; None when an argument is unbound."""
    if any(t is None for t in terms):
        return None
    return FUNCTIONS[iri](*terms)


def carried(error: GeoKGError) -> RuntimeError:
    """An exception an executor raises so that the driver can raise ``error`` again (see :func:`user_error`)."""
    return RuntimeError(f"{MARKER}{type(error).__name__}:{error.message}")


def user_error(error: Exception) -> GeoKGError | None:
    """The user error carried back from an executor in a Spark failure, if there is one."""
    found = _CARRIED.search(str(error))
    if not found:
        return None
    kind, _, message = found.group(1).partition(":")
    from kg import errors

    cls = getattr(errors, kind, InvalidGeometry)
    try:
        return cls(message)
    except TypeError:
        return InvalidGeometry(message)


def register(spark) -> None:
    """Register ``eekg_geof1`` .. ``eekg_geof3`` (by number of arguments) and ``eekg_geoagg`` (a
    geof: aggregate over an array of terms, ``kg.spark.aggregates``) with the session."""
    from pyspark.sql.functions import pandas_udf

    def evaluate(iri: pd.Series, *args: pd.Series) -> pd.Series:
        columns = [parse_terms(a.tolist()) for a in args]
        out = []
        for name, row in zip(iri, zip(*columns)):
            try:
                value = call(name, list(row))
            except GeoKGError as error:
                raise carried(error) from None
            out.append(None if value is None else term_text(value))
        return pd.Series(out, dtype=object)

    def aggregate(iri: pd.Series, groups: pd.Series) -> pd.Series:
        """A geof: aggregate of each group's terms (an array per row), by the embedded store's
        accumulators, which name their failures the same way."""
        context = EvaluationContext()
        accumulators = custom_aggregates(context)
        out = []
        for name, terms in zip(iri, groups):
            accumulator = accumulators[NamedNode(name)]()
            for term in parse_terms(list(terms)):
                accumulator.accumulate(term)
            value = accumulator.finish()
            try:
                context.raise_if_failed()
            except GeoKGError as error:
                raise carried(error) from None
            out.append(None if value is None else term_text(value))
        return pd.Series(out, dtype=object)

    spark.udf.register("eekg_geoagg", pandas_udf(aggregate, "string"))
    spark.udf.register("eekg_geof1", pandas_udf(lambda i, a: evaluate(i, a), "string"))
    spark.udf.register("eekg_geof2", pandas_udf(lambda i, a, b: evaluate(i, a, b), "string"))
    spark.udf.register("eekg_geof3", pandas_udf(lambda i, a, b, c: evaluate(i, a, b, c), "string"))


@dataclass(frozen=True)
class Test:
    """An exact spatial test: ``relation`` (a geof: IRI) or distance ``op`` ``limit`` in ``unit``."""

    function: str
    unit: str | None = None
    op: str | None = None
    limit: float | None = None

    @property
    def margin_degrees(self) -> float:
        """How far (in degrees) boxes must be widened so that candidates include every answer."""
        return 0.0 if self.function != DISTANCE else self.limit / _METRES_PER_DEGREE * 1.001

    def holds(self, a: list, b: list, wa: np.ndarray, wb: np.ndarray, same_crs: np.ndarray) -> np.ndarray:
        """Whether the test holds for each pair of literals (N-Triples strings, their WKB, same CRS)."""
        result = np.zeros(len(a), dtype=bool)
        fast = PREDICATES.get(self.function.removeprefix(GEOF)) if self.function != DISTANCE else None
        slow = np.ones(len(a), dtype=bool)
        if fast is not None and len(a):
            mask = same_crs
            if mask.any():
                result[mask] = fast(_shapes(wa[mask]), _shapes(wb[mask]))
            slow = ~mask
        positions = np.flatnonzero(slow)
        if len(positions):
            first = parse_terms([a[i] for i in positions])
            second = parse_terms([b[i] for i in positions])
            unit = NamedNode(self.unit) if self.unit else None
            for k, i in enumerate(positions):
                try:
                    value = call(self.function, [first[k], second[k]] + ([unit] if unit is not None else []))
                except GeoKGError as error:
                    raise carried(error) from None
                result[i] = _compare(value, self.op, self.limit) if self.op else (value is not None and value.value == "true")
        return result


def _shapes(wkb: np.ndarray) -> np.ndarray:
    """Shapes of WKB values, each distinct one parsed (and prepared) once: a region meets many parcels."""
    codes, distinct = pd.factorize(wkb)
    shapes = shapely.from_wkb(np.asarray(distinct, dtype=object))
    shapely.prepare(shapes)
    return shapes[codes]


def _compare(value, op: str, limit: float) -> bool:
    if value is None:
        return False
    x = float(value.value)
    return {"<": x < limit, "<=": x <= limit, ">": x > limit, ">=": x >= limit, "=": x == limit}[op]


def widen(boxes: np.ndarray, test: Test) -> np.ndarray:
    """Boxes (minx, miny, maxx, maxy in CRS84) widened by a distance test's limit, in degrees.

    A metre is at most 1/110574 degree of latitude and 1/(111320 cos(lat)) of longitude.
    """
    margin = test.margin_degrees
    if not margin:
        return boxes
    latitude = np.minimum(np.maximum(np.abs(boxes[:, 1]), np.abs(boxes[:, 3])) + margin, 89.9)
    dx = margin * _METRES_PER_DEGREE / (111_320.0 * np.cos(np.radians(latitude)))
    return np.column_stack([boxes[:, 0] - dx, boxes[:, 1] - margin, boxes[:, 2] + dx, boxes[:, 3] + margin])


def refine_pairs(frame: pd.DataFrame, test: Test, grid) -> pd.DataFrame:
    """The candidate pairs (one row per pair and shared cell) that pass the test, each in one cell only.

    Columns in: ta, tb (terms), wa, wb (WKB), ca, cb (CRS), cell, the boxes ax0..ay1 (already widened
    for a distance) and bx0..by1. The reference point is the lower-left corner of the boxes' overlap.
    """
    ref_x = np.maximum(frame["ax0"].to_numpy(), frame["bx0"].to_numpy())
    ref_y = np.maximum(frame["ay0"].to_numpy(), frame["by0"].to_numpy())
    overlap = ((frame["ax0"].to_numpy() <= frame["bx1"].to_numpy()) & (frame["bx0"].to_numpy() <= frame["ax1"].to_numpy())
               & (frame["ay0"].to_numpy() <= frame["by1"].to_numpy()) & (frame["by0"].to_numpy() <= frame["ay1"].to_numpy()))
    mine = overlap & (grid.keys(ref_x, ref_y) == frame["cell"].to_numpy())
    return holding_pairs(frame[mine], test)


def holding_pairs(frame: pd.DataFrame, test: Test) -> pd.DataFrame:
    """The pairs (ta, tb) of the frame (ta, tb, wa, wb, ca, cb) for which the test holds."""
    keep = test.holds(frame["ta"].tolist(), frame["tb"].tolist(), frame["wa"].to_numpy(), frame["wb"].to_numpy(),
                      (frame["ca"].to_numpy() == frame["cb"].to_numpy()))
    return frame.loc[keep, ["ta", "tb"]]


def select_geometries(frame: pd.DataFrame, test: Test, constant: str, constant_first: bool) -> pd.DataFrame:
    """The stored geometries (term, wkb, crs) for which the test with the constant literal holds."""
    terms = frame["term"].tolist()
    other = [constant] * len(terms)
    wkb = frame["wkb"].to_numpy()
    constant_geom = parse_terms([constant])[0]
    from kg.geosparql.literals import geometry_of

    g = geometry_of(constant_geom)
    same = frame["crs"].to_numpy() == g.crs
    w_const = np.array([shapely.to_wkb(g.shape)] * len(terms), dtype=object)
    if constant_first:
        keep = test.holds(other, terms, w_const, wkb, same)
    else:
        keep = test.holds(terms, other, wkb, w_const, same)
    return frame.loc[keep, ["term"]]
