"""Writes the binary test inputs of data/ (run from the repository root; the outputs are committed).

    uv run python tests/mappings/make_test_data.py

- ``at_parcels.shp`` (+ .dbf .shx .prj .cpg): three Austrian parcels near Tulln in EPSG:31287
  (MGI / Austria Lambert), so that reading it exercises the transform to CRS84;
- ``sea_ice.parquet``: four sea-ice polygons north of Svalbard in EPSG:3413 (NSIDC polar
  stereographic north), the CRS sea-ice charts use, with a real UTC timestamp column;
- ``lucas.csv``: five LUCAS 2018 points near Tulln in the published layout (every column).

The geometries are defined here in longitude/latitude; the tests compare the mapped WKT with
these (``PARCELS``, ``SEA_ICE``, ``LUCAS_POINTS``), so they are the hand-checked truth.
"""

from __future__ import annotations

from pathlib import Path

import geopandas
import pandas as pd
import shapely

from api.demo_data.make_samples import write_lucas_csv  # the LUCAS 2018 layout, every column

HERE = Path(__file__).resolve().parent / "data"

# (parcel_id, crop_code, crop_name, year, area_ha, lon/lat ring)
PARCELS = [
    ("2021-3311-0001", 138, "WINTERWEICHWEIZEN", 2021, 2.17,
     [(16.0100, 48.3300), (16.0130, 48.3300), (16.0130, 48.3330), (16.0100, 48.3330)]),
    ("2021-3311-0002", 105, "KÖRNERMAIS", 2021, 1.45,
     [(16.0135, 48.3300), (16.0160, 48.3300), (16.0160, 48.3320), (16.0135, 48.3325)]),
    ("2021-3311-0003", 651, "ZUCKERRÜBEN", 2021, None,
     [(16.0100, 48.3335), (16.0150, 48.3335), (16.0125, 48.3360)]),
]

S1_PRODUCT = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
# (region_id, ice_class, confidence, lon/lat ring)
SEA_ICE = [
    ("r0001", "level-first-year-ice", 0.93, [(12.0, 81.0), (14.0, 81.0), (14.0, 81.5), (12.0, 81.5)]),
    ("r0002", "young-ice", 0.71, [(14.0, 81.0), (16.0, 81.0), (16.0, 81.5), (14.0, 81.5)]),
    ("r0003", "open-water-in-leads", 0.64, [(12.0, 80.5), (16.0, 80.5), (16.0, 81.0), (12.0, 81.0)]),
    ("r0004", "deformed-ice", 0.88, [(16.0, 80.5), (18.0, 80.5), (17.0, 81.5)]),
]

# The columns the mapping reads, per point; every other column gets the file's usual filler.
# POINT_ID is the point's ETRS89-LAEA grid position in km (X then Y); TH_* its position in WGS84.
LUCAS_POINTS = [
    # surveyed with GPS: precision 5 m, observed from 12 m
    dict(POINT_ID="47662820", TH_LAT="48.330421701", TH_LONG="16.006489039", SURVEY_DATE="14/06/18",
         GPS_LAT="48.330398", GPS_LONG="16.006551", GPS_PREC="5", OBS_DIST="12", OBS_TYPE="1", GPS_EW="1",
         LC1="B11", LC1_SPEC="8", LC1_PERC="100"),
    # photo-interpreted in the office: no GPS position (88.888888), no precision (8888), no distance
    dict(POINT_ID="47682820", TH_LAT="48.328955427", TH_LONG="16.033377750", SURVEY_DATE="02/08/18",
         GPS_LAT="88.888888", GPS_LONG="88.888888", GPS_PREC="8888", OBS_DIST="", OBS_TYPE="7", GPS_EW="8",
         LC1="B16", LC1_SPEC="8", LC1_PERC="100", OFFICE_PI="1"),
    # a precision of 8 m and a distance of 88 m are values, not missing-value codes
    dict(POINT_ID="47642822", TH_LAT="48.349807712", TH_LONG="15.981730263", SURVEY_DATE="21/09/18",
         GPS_LAT="48.349851", GPS_LONG="15.981802", GPS_PREC="8", OBS_DIST="88", OBS_TYPE="2", GPS_EW="1",
         LC1="E20", LC1_SPEC="8", LC1_PERC="100"),
    # woodland with a species
    dict(POINT_ID="47722824", TH_LAT="48.361850802", TH_LONG="16.091491340", SURVEY_DATE="05/07/18",
         GPS_LAT="48.361897", GPS_LONG="16.091533", GPS_PREC="4", OBS_DIST="0", OBS_TYPE="1", GPS_EW="1",
         LC1="C10", LC1_SPEC="Quercus", LC1_PERC="100"),
    # a GPS position without a recorded precision
    dict(POINT_ID="47662816", TH_LAT="48.294569756", TH_LONG="16.002213165", SURVEY_DATE="30/05/18",
         GPS_LAT="48.294540", GPS_LONG="16.002249", GPS_PREC="8888", OBS_DIST="8888", OBS_TYPE="1", GPS_EW="1",
         LC1="A22", LC1_SPEC="8", LC1_PERC="100"),
]
def write_parcels(path: Path) -> None:
    frame = geopandas.GeoDataFrame(
        {"parcel_id": [p[0] for p in PARCELS], "crop_code": [p[1] for p in PARCELS],
         "crop_name": [p[2] for p in PARCELS], "year": [p[3] for p in PARCELS],
         "area_ha": [p[4] for p in PARCELS]},
        geometry=[shapely.Polygon(p[5]) for p in PARCELS], crs="OGC:CRS84",
    )
    frame.to_crs("EPSG:31287").to_file(path, driver="ESRI Shapefile", encoding="UTF-8")


def write_sea_ice(path: Path) -> None:
    n = len(SEA_ICE)
    frame = geopandas.GeoDataFrame(
        {"region_id": [r[0] for r in SEA_ICE], "ice_class": [r[1] for r in SEA_ICE],
         "confidence": [r[2] for r in SEA_ICE], "product_id": [S1_PRODUCT] * n,
         "time": pd.to_datetime(["2018-03-05T07:35:20Z"] * n, utc=True),
         "model": ["polar-unet"] * n, "model_version": ["1.2.0"] * n},
        geometry=[shapely.Polygon(r[3]) for r in SEA_ICE], crs="OGC:CRS84",
    )
    frame.to_crs("EPSG:3413").to_parquet(path)


if __name__ == "__main__":
    write_parcels(HERE / "at_parcels.shp")
    write_sea_ice(HERE / "sea_ice.parquet")
    write_lucas_csv(HERE / "lucas.csv", LUCAS_POINTS)
