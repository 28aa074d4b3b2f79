"""Sentinel-1 and Sentinel-2 product records: read from the providers' identifiers, written as RDF.

The identifier says most of what a catalogue filters on; the footprint, cloud cover and exact
sensing times come from the provider's metadata (``federation.copernicus``). Records are written in
the shape of ``mappings/rml/products.rml.ttl`` (docs/data-model.md), so ingested products and
mapped ones are the same to every query.

>>> record = parse_identifier("S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F")
>>> record.mission, record.mode, record.product_type, record.polarisation, record.absolute_orbit, record.relative_orbit
('Sentinel-1A', 'EW', 'GRD', 'HH HV', 20867, 145)
>>> s2 = parse_identifier("S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339")
>>> s2.mission, s2.product_type, s2.tile, s2.relative_orbit, s2.sensing_start
('Sentinel-2A', 'S2MSI2A', '33UWP', 79, '2021-06-15T09:50:31Z')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pyoxigraph as ox

from kg.errors import GeoKGError

D = "https://w3id.org/eekg/data/product/"
EO, GEO, XSD = "https://w3id.org/eekg/ont/eo#", "http://www.opengis.net/ont/geosparql#", "http://www.w3.org/2001/XMLSchema#"
DCT, TYPE = "http://purl.org/dc/terms/", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_S1 = re.compile(r"^S1([ABCD])_(IW|EW|SM|WV|S[1-6])_(GRD|SLC|RAW|OCN)([FHM_])_([12])S(SH|SV|DH|DV|HH|HV|VV|VH)_"
                 r"(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{6})_([0-9A-F]{6})_([0-9A-F]{4})$")
_S2 = re.compile(r"^S2([ABCD])_MSI(L1C|L2A)_(\d{8}T\d{6})_N(\d{4})_R(\d{3})_T(\d{2}[A-Z]{3})_(\d{8}T\d{6})$")
_POLARISATIONS = {"SH": "HH", "SV": "VV", "DH": "HH HV", "DV": "VV VH", "HH": "HH", "HV": "HV", "VV": "VV", "VH": "VH"}
EXAMPLES = ("S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F",
            "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339")


@dataclass(frozen=True)
class ProductRecord:
    """One product as the catalogue stores it."""

    identifier: str
    mission: str  # Sentinel-1A ...
    mode: str  # EW, IW, SM, WV; MSI
    product_type: str  # GRD, SLC; S2MSI1C, S2MSI2A
    sensing_start: str  # xsd:dateTime, UTC
    sensing_stop: str | None = None
    polarisation: str | None = None  # Sentinel-1: "HH HV"
    absolute_orbit: int | None = None
    relative_orbit: int | None = None
    tile: str | None = None  # Sentinel-2 MGRS tile
    cloud_cover: float | None = None  # Sentinel-2, per cent
    footprint: str | None = None  # CRS84 WKT
    footprint_area: float | None = None  # m2

    @property
    def iri(self) -> str:
        return D + self.identifier

    def ntriples(self) -> str:
        """The record as N-Triples, in the shape of the products mapping."""
        p, g = f"<{self.iri}>", f"<{self.iri}/geometry>"
        cls = "Sentinel1Product" if self.mission.startswith("Sentinel-1") else "Sentinel2Product"
        values = [(TYPE, f"<{EO}{cls}>"), (DCT + "identifier", _str(self.identifier)), (EO + "mission", _str(self.mission)),
                  (EO + "instrumentMode", _str(self.mode)), (EO + "productType", _str(self.product_type)),
                  (EO + "sensingStart", _typed(self.sensing_start, "dateTime"))]
        optional = [(EO + "sensingStop", self.sensing_stop, "dateTime"), (EO + "polarisation", self.polarisation, None),
                    (EO + "absoluteOrbit", self.absolute_orbit, "integer"), (EO + "relativeOrbit", self.relative_orbit, "integer"),
                    (EO + "tile", self.tile, None), (EO + "cloudCover", self.cloud_cover, "double")]
        values += [(k, _typed(str(v), t) if t else _str(v)) for k, v, t in optional if v is not None]
        lines = [f"{p} <{k}> {v} ." for k, v in values]
        if self.footprint:
            lines += [f"{p} <{GEO}hasGeometry> {g} .", f"{p} <{GEO}hasDefaultGeometry> {g} .", f"{g} <{TYPE}> <{GEO}Geometry> .",
                      f"{g} <{GEO}asWKT> {_typed(self.footprint, None, GEO + 'wktLiteral')} ."]
            if self.footprint_area is not None:
                lines.append(f"{g} <{GEO}hasMetricArea> {_typed(repr(float(self.footprint_area)), 'double')} .")
        return "\n".join(lines) + "\n"


def parse_identifier(identifier: str) -> ProductRecord:
    """What a Sentinel-1 or Sentinel-2 product identifier says (``.SAFE`` is dropped); a clear error otherwise."""
    name = identifier.removesuffix(".SAFE")
    if m := _S1.match(name):
        unit, mode, kind, _, _, pol, start, stop, orbit, _, _ = m.groups()
        absolute = int(orbit)
        relative = (absolute - 73) % 175 + 1 if unit == "A" else (absolute - 27) % 175 + 1  # ESA's formulas per satellite
        return ProductRecord(name, f"Sentinel-1{unit}", mode, kind, _time(start), _time(stop), _POLARISATIONS[pol], absolute,
                             relative if unit in "AB" else None)
    if m := _S2.match(name):
        unit, level, start, _, orbit, tile, _ = m.groups()
        return ProductRecord(name, f"Sentinel-2{unit}", "MSI", f"S2MSI{level[1:]}", _time(start), relative_orbit=int(orbit), tile=tile)
    raise GeoKGError(f"{identifier!r} is not a Sentinel-1 or Sentinel-2 product identifier; they look like {EXAMPLES[0]} "
                     f"or {EXAMPLES[1]}.")


def with_metadata(record: ProductRecord, **metadata) -> ProductRecord:
    """The record completed with the provider's metadata (footprint, exact times, cloud cover ...)."""
    return replace(record, **{k: v for k, v in metadata.items() if v is not None})


def _time(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:6]}-{compact[6:8]}T{compact[9:11]}:{compact[11:13]}:{compact[13:15]}Z"


def _str(value) -> str:
    return str(ox.Literal(str(value)))


def _typed(value: str, xsd: str | None, datatype: str | None = None) -> str:
    return str(ox.Literal(value, datatype=ox.NamedNode(datatype or XSD + xsd)))
