"""Catalogue and LUCAS test data in the shapes of docs/data-model.md, split over three sources:
the provider's products (``products``), our predictions and the survey (``predictions``), the code lists."""

from __future__ import annotations

from ontologies import CODELIST_FILES

D, GEO, XSD = "https://w3id.org/eekg/data/", "http://www.opengis.net/ont/geosparql#", "http://www.w3.org/2001/XMLSchema#"
EO, POLAR, FOOD = "https://w3id.org/eekg/ont/eo#", "https://w3id.org/eekg/ont/polar#", "https://w3id.org/eekg/ont/food#"
SOSA, PROV, DCT = "http://www.w3.org/ns/sosa/", "http://www.w3.org/ns/prov#", "http://purl.org/dc/terms/"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SEAICE, CROP, LC1 = "https://w3id.org/eekg/codes/sea-ice/", "https://w3id.org/eekg/codes/crop-type/", "https://w3id.org/eekg/codes/lucas-lc1/"
METRE_LAT = 1 / 111_200  # degrees of latitude per metre near 48 N (a little more than the truth: safely inside)

# (identifier, mission, type, start, footprint box, [(class, area) of its predicted regions])
PRODUCTS = [
    ("S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F", "Sentinel-1A", "GRD", "2018-03-05T07:35:20Z",
     (10, 78, 20, 80), [("young-ice", 40), ("level-first-year-ice", 30), ("water", 30)]),
    ("S1B_EW_GRDM_1SDH_20180320T072000_20180320T072100_010000_012345_ABCD", "Sentinel-1B", "GRD", "2018-03-20T07:20:00Z",
     (12, 78.5, 22, 80.5), [("young-ice", 20), ("deformed-ice", 50), ("water", 30)]),
    ("S1A_EW_GRDM_1SDH_20180402T073000_20180402T073100_021261_024A00_1234", "Sentinel-1A", "GRD", "2018-04-02T07:30:00Z",
     (10, 78, 20, 80), [("young-ice", 50), ("water", 50)]),
    ("S1A_EW_GRDM_1SDH_20180310T100000_20180310T100100_020940_024000_5678", "Sentinel-1A", "GRD", "2018-03-10T10:00:00Z",
     (-60, 60, -50, 62), [("young-ice", 90), ("water", 10)]),
    ("S2A_MSIL2A_20180315T095031_N0206_R079_T33UWP_20180315T121339", "Sentinel-2A", "S2MSI2A", "2018-03-15T09:50:31Z",
     (14, 79, 16, 80), []),
]
# LUCAS points near crop regions: (point id, LC1, metres north of the region's top edge, region crop)
LUCAS = [("47622810", "B16", 5, "maize"), ("47642810", "B11", 5, "maize"), ("47662810", "B11", 50, "winter-wheat"),
         ("47682810", "A00", 1, "maize"), ("47702810", "E20", 3, "grassland")]


def _box(w, s, e, n) -> str:
    return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"


def _t(s, p, o) -> str:
    return f"<{s}> <{p}> {o} .\n"


def _wkt(text: str) -> str:
    return f'"{text}"^^<{GEO}wktLiteral>'


def catalogue_data() -> dict[str, bytes]:
    products, predictions = [], []
    for identifier, mission, kind, start, (w, s, e, n), regions in PRODUCTS:
        p = f"{D}product/{identifier}"
        cls = EO + ("Sentinel1Product" if mission.startswith("Sentinel-1") else "Sentinel2Product")
        products += [_t(p, TYPE, f"<{cls}>"), _t(p, DCT + "identifier", f'"{identifier}"'), _t(p, EO + "mission", f'"{mission}"'),
                     _t(p, EO + "productType", f'"{kind}"'), _t(p, EO + "sensingStart", f'"{start}"^^<{XSD}dateTime>'),
                     _t(p, GEO + "hasGeometry", f"<{p}/geometry>"), _t(f"{p}/geometry", GEO + "asWKT", _wkt(_box(w, s, e, n)))]
        for i, (ice, area) in enumerate(regions):
            o, r = f"{D}sea-ice/{identifier}/r{i}", f"{D}sea-ice/{identifier}/r{i}/region"
            x = w + (e - w) * (i + 0.5) / (len(regions) + 1)
            predictions += [_t(o, TYPE, f"<{POLAR}SeaIceObservation>"), _t(o, POLAR + "iceClass", f"<{SEAICE}{ice}>"),
                            _t(o, PROV + "wasDerivedFrom", f"<{p}>"), _t(o, SOSA + "hasFeatureOfInterest", f"<{r}>"),
                            _t(r, GEO + "hasGeometry", f"<{r}/geometry>"),
                            _t(f"{r}/geometry", GEO + "asWKT", _wkt(_box(x, s + 0.1, x + 0.1, s + 0.2))),
                            _t(f"{r}/geometry", GEO + "hasMetricArea", f'"{area}"^^<{XSD}double>')]
    survey = []
    for i, (point_id, lc1, metres, crop) in enumerate(LUCAS):
        w, s = 16.0 + 0.01 * i, 48.0
        o, r = f"{D}crop-type/33UWP/2018/c{i}", f"{D}crop-type/33UWP/2018/c{i}/region"
        predictions += [_t(o, TYPE, f"<{FOOD}CropTypeObservation>"), _t(o, FOOD + "cropType", f"<{CROP}{crop}>"),
                        _t(o, SOSA + "hasFeatureOfInterest", f"<{r}>"), _t(r, GEO + "hasGeometry", f"<{r}/geometry>"),
                        _t(f"{r}/geometry", GEO + "asWKT", _wkt(_box(w, s, w + 0.005, s + 0.005)))]
        obs, pt = f"{D}lucas/2018/{point_id}", f"{D}lucas/2018/{point_id}/point"
        survey += [_t(obs, TYPE, f"<{FOOD}LucasObservation>"), _t(obs, FOOD + "landCover", f"<{LC1}{lc1}>"),
                   _t(obs, SOSA + "hasFeatureOfInterest", f"<{pt}>"), _t(pt, FOOD + "pointId", f'"{point_id}"'),
                   _t(pt, GEO + "hasGeometry", f"<{pt}/geometry>"),
                   _t(f"{pt}/geometry", GEO + "asWKT", _wkt(f"POINT({w + 0.0025} {s + 0.005 + metres * METRE_LAT})"))]
    import pyoxigraph as ox

    codes = b"".join(ox.serialize(list(ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)), format=ox.RdfFormat.N_QUADS)
                     for f in CODELIST_FILES)
    return {"products": "".join(products + survey).encode(), "predictions": "".join(predictions).encode(), "codes": codes}
