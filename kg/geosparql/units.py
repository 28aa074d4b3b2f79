"""Units of measure named by IRI: OGC (``uom:metre``, ``uom:degree``, ``uom:radian``), QUDT and EPSG.

A unit is either linear (metres per unit), angular (radians per unit) or an area unit (square
metres per unit). ``geof:area`` also accepts a linear unit and answers in its square
(``uom:metre`` -> square metres), since the OGC register has no area units.

>>> unit("http://www.opengis.net/def/uom/OGC/1.0/metre")
Unit(iri='http://www.opengis.net/def/uom/OGC/1.0/metre', kind='linear', factor=1.0)
>>> unit("http://qudt.org/vocab/unit/HA", kinds=("area",)).factor
10000.0
"""

from __future__ import annotations

import math
from typing import NamedTuple

from kg.errors import InvalidGeometry
from kg.geosparql.vocab import EPSG_UOM, QUDT_UNIT, UOM


class Unit(NamedTuple):
    iri: str
    kind: str  # "linear", "angular" or "area"
    factor: float  # metres, radians or square metres per unit


_FOOT = 0.3048
_US_FOOT = 1200 / 3937
_MILE = 1609.344
_DEGREE = math.pi / 180

_TABLE = {
    # OGC units of measure register (http://www.opengis.net/def/uom/OGC/1.0/)
    UOM + "metre": ("linear", 1.0),
    UOM + "meter": ("linear", 1.0),
    UOM + "degree": ("angular", _DEGREE),
    UOM + "radian": ("angular", 1.0),
    # QUDT units (http://qudt.org/vocab/unit/)
    QUDT_UNIT + "M": ("linear", 1.0),
    QUDT_UNIT + "KiloM": ("linear", 1000.0),
    QUDT_UNIT + "CentiM": ("linear", 0.01),
    QUDT_UNIT + "MilliM": ("linear", 0.001),
    QUDT_UNIT + "FT": ("linear", _FOOT),
    QUDT_UNIT + "FT_US": ("linear", _US_FOOT),
    QUDT_UNIT + "YD": ("linear", 0.9144),
    QUDT_UNIT + "IN": ("linear", 0.0254),
    QUDT_UNIT + "MI": ("linear", _MILE),
    QUDT_UNIT + "MI_N": ("linear", 1852.0),
    QUDT_UNIT + "DEG": ("angular", _DEGREE),
    QUDT_UNIT + "RAD": ("angular", 1.0),
    QUDT_UNIT + "M2": ("area", 1.0),
    QUDT_UNIT + "KiloM2": ("area", 1e6),
    QUDT_UNIT + "HA": ("area", 1e4),
    QUDT_UNIT + "ARE": ("area", 100.0),
    QUDT_UNIT + "AC": ("area", 4046.8564224),
    QUDT_UNIT + "FT2": ("area", _FOOT**2),
    QUDT_UNIT + "MI2": ("area", _MILE**2),
    # EPSG units of measure
    EPSG_UOM + "9001": ("linear", 1.0),
    EPSG_UOM + "9036": ("linear", 1000.0),
    EPSG_UOM + "9002": ("linear", _FOOT),
    EPSG_UOM + "9003": ("linear", _US_FOOT),
    EPSG_UOM + "9102": ("angular", _DEGREE),
    EPSG_UOM + "9101": ("angular", 1.0),
}
UNITS = {iri: Unit(iri, kind, factor) for iri, (kind, factor) in _TABLE.items()}
METRE = UNITS[UOM + "metre"]
SQUARE_METRE = UNITS[QUDT_UNIT + "M2"]


def unit(iri: str, kinds: tuple[str, ...] = ("linear", "angular")) -> Unit:
    """The unit named by ``iri``; :class:`InvalidGeometry` naming it and the accepted ones otherwise."""
    found = UNITS.get(iri.strip())
    if found is not None and found.kind in kinds:
        return found
    accepted = ", ".join(sorted(_short(i) for i, u in UNITS.items() if u.kind in kinds and not i.startswith(EPSG_UOM)))
    accepted += f" (uom: = <{UOM}>, unit: = <{QUDT_UNIT}>; EPSG units <{EPSG_UOM}CODE> also work)"
    what = " or ".join(kinds)
    if found is not None:
        raise InvalidGeometry(f"<{iri}> is an {found.kind} unit, but a {what} unit is needed here; use one of {accepted}.")
    raise InvalidGeometry(f"Unknown unit of measure <{iri[:100]}>; use one of {accepted}.")


def _short(iri: str) -> str:
    for prefix, name in ((UOM, "uom:"), (QUDT_UNIT, "unit:"), (EPSG_UOM, "epsg-uom:")):
        if iri.startswith(prefix):
            return name + iri[len(prefix):]
    return f"<{iri}>"
