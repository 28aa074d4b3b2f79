"""Writes the demo's sample inputs in this folder (seeded, deterministic; the outputs are committed).

    uv run python api/demo_data/make_samples.py

The demo (``eekg demo``) builds its knowledge graph from these files through the mappings of
``mappings/rml/``, as a user would from real prediction files:

- ``sea_ice.parquet``: a sea-ice class map north of Svalbard (80-82°N, 10-25°E) as a model would
  vectorise it from one Sentinel-1 EW scene: polygons of the ``seaice:`` classes, GeoParquet in CRS84;
- ``crop_type.geojson``: crop-type predictions for fields near Tulln, Austria (48.33°N 16.02°E), from
  one Sentinel-2 L2A product of tile 33UWP;
- ``at_parcels.shp`` (+ .dbf .shx .prj .cpg): a few of those fields as declared by their farmers
  (INVEKOS crop codes), an ESRI Shapefile in EPSG:31287 (MGI / Austria Lambert);
- ``lucas.csv``: LUCAS 2018 survey points among the fields, in Eurostat's published layout;
- ``products.csv``: the catalogue records of the Sentinel-1 and Sentinel-2 products referenced.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas
import numpy as np
import pyproj
import shapely

HERE = Path(__file__).resolve().parent
SEED = 20180305

S1_PRODUCT = "S1A_EW_GRDM_1SDH_20180305T073520_20180305T073620_020867_023C3E_6B7F"
S2_PRODUCT = "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339"
S2_EARLIER = "S2B_MSIL2A_20210421T095029_N0300_R079_T33UWP_20210421T120538"

# --- sea ice -----------------------------------------------------------------------------------

SEA_ICE_CONFIDENCE = {  # typical confidence of each class in a SAR classifier
    "water": 0.95, "open-water-in-leads": 0.7, "brash-pancake-ice": 0.68, "young-ice": 0.78,
    "level-first-year-ice": 0.9, "deformed-ice": 0.8, "land": 0.99,
}


def sea_ice_map(rng: np.random.Generator) -> list[tuple[str, shapely.Geometry]]:
    """A classified 0.5° x 0.1° grid, dissolved into one polygon per connected patch of a class.

    Open water in the south-west (the warm Atlantic inflow keeps "Whalers Bay" open), a marginal
    ice zone of brash/pancake and young ice, pack ice (level first-year, with deformed patches and
    leads) further north, and the north coast of Nordaustlandet as land.
    """
    lons, lats = np.arange(10.0, 25.0, 0.5), np.round(np.arange(80.0, 82.0, 0.1), 1)
    phases = rng.uniform(0, 2 * np.pi, 4)
    cells: dict[str, list] = {}
    for lat in lats:
        for lon in lons:
            x, y = (lon - 10) / 15, (lat - 80) / 2  # 0..1 across the scene
            wave = 0.12 * np.sin(7 * x + phases[0]) + 0.08 * np.sin(11 * y + 5 * x + phases[1])
            score = 1.6 * y + 0.9 * x + wave + rng.normal(0, 0.09)
            ridges = np.sin(9 * x + phases[2]) * np.sin(6 * y + phases[3])
            if lat < 80.3 and 18.0 <= lon < 23.0 and not (lat >= 80.2 and lon >= 22.0):
                kind = "land"
            elif score < 0.45:
                kind = "water"
            elif score < 0.7:
                kind = "brash-pancake-ice"
            elif score < 1.0:
                kind = "young-ice"
            elif any(abs(lat + 0.05 - line) < 0.05 for line in (81.3 + 0.035 * (lon - 10), 81.85 - 0.03 * (lon - 10))) and rng.random() < 0.85:
                kind = "open-water-in-leads"
            elif ridges + rng.normal(0, 0.15) > 0.45:
                kind = "deformed-ice"
            else:
                kind = "level-first-year-ice"
            cells.setdefault(kind, []).append(shapely.box(lon, lat, lon + 0.5, round(lat + 0.1, 1)))
    patches = []
    for kind in sorted(cells):
        merged = shapely.union_all(cells[kind], grid_size=1e-9)
        patches += [(kind, shapely.normalize(part)) for part in getattr(merged, "geoms", [merged])]
    return sorted(patches, key=lambda p: (-p[1].centroid.y, p[1].centroid.x))


def write_sea_ice(path: Path, rng: np.random.Generator) -> int:
    patches = sea_ice_map(rng)
    n = len(patches)
    frame = geopandas.GeoDataFrame(
        {"region_id": [f"r{i:03d}" for i in range(1, n + 1)],
         "ice_class": [kind for kind, _ in patches],
         "confidence": [round(min(0.99, SEA_ICE_CONFIDENCE[k] + rng.normal(0, 0.04)), 2) for k, _ in patches],
         "product_id": [S1_PRODUCT] * n, "time": ["2018-03-05T07:35:20Z"] * n,
         "model": ["seaice-unet"] * n, "model_version": ["1.2.0"] * n},
        geometry=[shape for _, shape in patches], crs="OGC:CRS84")
    frame.to_parquet(path, index=False)
    return n


# --- fields near Tulln -----------------------------------------------------------------------

# Crop types and how often the model predicts them in the Tullnerfeld.
CROPS = {"winter-wheat": 5, "maize": 4, "soy": 2, "beet": 2, "grassland": 2, "rapeseed": 1, "sunflower": 1,
         "winter-barley": 2, "potato": 1}
# The INVEKOS code and German name a farmer declares for each predicted crop type.
DECLARED = {"winter-wheat": (138, "WINTERWEICHWEIZEN"), "maize": (105, "KÖRNERMAIS"), "soy": (308, "SOJABOHNEN"),
            "beet": (651, "ZUCKERRÜBEN"), "grassland": (717, "MÄHWIESE/-WEIDE DREI UND MEHR NUTZUNGEN"),
            "rapeseed": (301, "WINTERRAPS"), "sunflower": (307, "SONNENBLUMEN"), "winter-barley": (110, "WINTERGERSTE")}
UTM33 = pyproj.Transformer.from_crs("EPSG:32633", "OGC:CRS84", always_xy=True)
LAEA_TO_UTM33 = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:32633", always_xy=True)
# The LUCAS 2 km grid points (ETRS89-LAEA, km) in the Tullnerfeld south of Tulln.
LUCAS_GRID = [(x, y) for y in range(2810, 2818, 2) for x in range(4762, 4770, 2)]


def fields(rng: np.random.Generator) -> list[tuple[str, float, shapely.Polygon]]:
    """Two long fields (about 200 m x 400 m, slightly uneven) at each LUCAS grid point south of Tulln:
    the first holds the point; crop type and the model's confidence."""
    crops = [c for c, weight in CROPS.items() for _ in range(weight)]
    out = []
    for x_km, y_km in LUCAS_GRID:
        x, y = LAEA_TO_UTM33.transform(x_km * 1000, y_km * 1000)
        x, y = x - rng.uniform(40, 160), y - rng.uniform(80, 320)  # the field's south-west corner
        for _ in range(2):
            w, h = 200 + rng.uniform(-25, 25), 400 + rng.uniform(-40, 40)
            corners = [(x, y), (x + w, y + rng.uniform(-8, 8)), (x + w, y + h), (x + rng.uniform(-8, 8), y + h)]
            lon, lat = UTM33.transform(*zip(*corners))
            ring = [(round(a, 6), round(b, 6)) for a, b in zip(lon, lat)]
            crop = crops[int(rng.integers(len(crops)))]
            out.append((crop, round(float(rng.uniform(0.55, 0.97)), 2), shapely.Polygon(ring)))
            x += w + rng.uniform(8, 20)  # the next field, east of a field track
    return out


def write_crop_types(path: Path, predicted) -> None:
    features = [
        {"type": "Feature",
         "properties": {"region_id": str(i), "crop_type": crop, "confidence": confidence, "tile": "33UWP",
                        "product_id": S2_PRODUCT, "agronomic_year": 2021, "time": "2021-09-30T12:00:00Z",
                        "model": "pse-tae", "model_version": "2021.1"},
         "geometry": shapely.geometry.mapping(shape)}
        for i, (crop, confidence, shape) in enumerate(predicted, start=1)]
    collection = {"type": "FeatureCollection", "name": "crop_type_33UWP_2021", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=None, separators=(",", ":")).replace(
        '{"type":"Feature"', '\n{"type":"Feature"') + "\n", encoding="utf-8")


def write_parcels(path: Path, predicted) -> None:
    """Every third field as declared; the first declared field disagrees with the prediction."""
    geod = pyproj.Geod(ellps="WGS84")
    rows = []
    for i, (crop, _, shape) in enumerate(predicted[::3]):
        declared = ("maize" if crop == "soy" else "soy") if i == 0 else crop
        code, name = DECLARED.get(declared, DECLARED["winter-wheat"])
        area_ha = round(abs(geod.geometry_area_perimeter(shape)[0]) / 1e4, 2)
        rows.append((f"2021-3311-{i + 1:04d}", code, name, 2021, area_ha, shape))
    frame = geopandas.GeoDataFrame(
        {"parcel_id": [r[0] for r in rows], "crop_code": [r[1] for r in rows], "crop_name": [r[2] for r in rows],
         "year": [r[3] for r in rows], "area_ha": [r[4] for r in rows]},
        geometry=[r[5] for r in rows], crs="OGC:CRS84")
    frame.to_crs("EPSG:31287").to_file(path, driver="ESRI Shapefile", encoding="UTF-8")


# --- LUCAS -------------------------------------------------------------------------------------

# The columns of the LUCAS 2018 microdata file (Eurostat), in order.
LUCAS_2018_COLUMNS = (
    "POINT_ID NUTS0 NUTS1 NUTS2 NUTS3 TH_LAT TH_LONG OFFICE_PI EX_ANTE SURVEY_DATE CAR_LATITUDE CAR_EW "
    "CAR_LONGITUDE GPS_PROJ GPS_PREC GPS_ALTITUDE GPS_LAT GPS_EW GPS_LONG OBS_DIST OBS_DIRECT OBS_TYPE LC1 "
    "LC1_SPEC LC1_PERC LC2 LC2_SPEC LC2_PERC LU1 LU1_TYPE LU1_PERC LU2 LU2_TYPE LU2_PERC PARCEL_AREA_HA "
    "TREE_HEIGHT_SURVEY TREE_HEIGHT_MATURITY FEATURE_WIDTH LNDMNG_PLOUGH LM_PLOUGH_SLOPE LM_PLOUGH_DIRECT "
    "LM_STONE_WALLS CROP_RESIDUES LM_GRASS_MARGINS GRAZING SPECIAL_STATUS LC_LU_SPECIAL_REMARK CPRN_CANDO "
    "CPRN_LC CPRN_LC1N CPRNC_LC1E CPRNC_LC1S CPRNC_LC1W CPRN_LC1N_BRDTH CPRN_LC1E_BRDTH CPRN_LC1S_BRDTH "
    "CPRN_LC1W_BRDTH CPRN_LC1N_NEXT CPRN_LC1E_NEXT CPRN_LC1S_NEXT CPRN_LC1W_NEXT CPRN_URBAN "
    "CPRN_IMPERVIOUS_PERC INSPIRE_PLCC1 INSPIRE_PLCC2 INSPIRE_PLCC3 INSPIRE_PLCC4 INSPIRE_PLCC5 "
    "INSPIRE_PLCC6 INSPIRE_PLCC7 INSPIRE_PLCC8 EUNIS_COMPLEX GRASSLAND_SAMPLE GRASS_CANDO WM WM_SOURCE "
    "WM_TYPE WM_DELIVERY EROSION_CANDO SOIL_STONES_PERC BIO_SAMPLE SOIL_BIO_TAKEN BULK0_10_SAMPLE "
    "SOIL_BLK_0_10_TAKEN BULK10_20_SAMPLE SOIL_BLK_10_20_TAKEN BULK20_30_SAMPLE SOIL_BLK_20_30_TAKEN "
    "STANDARD_SAMPLE SOIL_STD_TAKEN ORGANIC_SAMPLE SOIL_ORG_DEPTH_CANDO PHOTO_POINT PHOTO_NORTH PHOTO_EAST "
    "PHOTO_SOUTH PHOTO_WEST"
).split()
_LUCAS_FILLER = {
    "NUTS0": "AT", "NUTS1": "AT1", "NUTS2": "AT12", "NUTS3": "AT123", "OFFICE_PI": "0", "EX_ANTE": "0",
    "CAR_LATITUDE": "88.888888", "CAR_EW": "8", "CAR_LONGITUDE": "88.888888", "GPS_PROJ": "1",
    "GPS_ALTITUDE": "190", "OBS_DIRECT": "1", "LC2": "8", "LC2_SPEC": "8", "LC2_PERC": "0", "LU1": "U111",
    "LU1_TYPE": "8", "LU1_PERC": "100", "LU2": "8", "LU2_TYPE": "8", "LU2_PERC": "0", "PARCEL_AREA_HA": "5",
}
_LUCAS_NUMERIC = {"POINT_ID", "TH_LAT", "TH_LONG", "CAR_LATITUDE", "CAR_LONGITUDE", "GPS_PREC", "GPS_ALTITUDE",
                  "GPS_LAT", "GPS_LONG", "OBS_DIST", "LC1_PERC", "LC2_PERC", "LU1_PERC", "LU2_PERC"}
LAEA_TO_CRS84 = pyproj.Transformer.from_crs("EPSG:3035", "OGC:CRS84", always_xy=True)
# The LUCAS LC1 code a surveyor records for each crop type.
LC1_OF = {"winter-wheat": "B11", "maize": "B16", "soy": "B43", "beet": "B22", "grassland": "E20", "rapeseed": "B32",
          "sunflower": "B31", "winter-barley": "B13", "potato": "B21"}


def write_lucas_csv(path: Path, points: list[dict[str, str]]) -> None:
    """As Eurostat publishes it: numbers bare, codes quoted, 8/88/8888/88.888888 where not relevant."""
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(",".join(c if c == "POINT_ID" else f'"{c}"' for c in LUCAS_2018_COLUMNS) + "\n")
        for point in points:
            values = []
            for column in LUCAS_2018_COLUMNS:
                value = point.get(column, _LUCAS_FILLER.get(column, "8"))
                values.append(value if column in _LUCAS_NUMERIC or value == "" else f'"{value}"')
            out.write(",".join(values) + "\n")
    with path.open(newline="", encoding="utf-8") as back:  # the layout survives a CSV reader
        assert {len(row) for row in csv.reader(back)} == {len(LUCAS_2018_COLUMNS)}


def lucas_points(rng: np.random.Generator, predicted) -> list[dict[str, str]]:
    """The LUCAS grid points with the land cover of the field each is in; a quarter photo-interpreted."""
    points = []
    for x_km, y_km in LUCAS_GRID:
        lon, lat = LAEA_TO_CRS84.transform(x_km * 1000, y_km * 1000)
        here = shapely.Point(lon, lat)
        crop = next((c for c, _, shape in predicted if shape.contains(here)), None)
        office = rng.random() < 0.25  # photo-interpreted: no GPS position
        day = int(rng.integers(1, 29))
        point = {"POINT_ID": f"{x_km}{y_km}", "TH_LAT": f"{lat:.9f}", "TH_LONG": f"{lon:.9f}",
                 "SURVEY_DATE": f"{day:02d}/{int(rng.integers(5, 10)):02d}/18",
                 "LC1": LC1_OF.get(crop, "E20"), "LC1_SPEC": "8", "LC1_PERC": "100"}
        if office:
            point |= {"OFFICE_PI": "1", "OBS_TYPE": "7", "GPS_PROJ": "8", "GPS_PREC": "8888", "GPS_ALTITUDE": "8888",
                      "GPS_LAT": "88.888888", "GPS_EW": "8", "GPS_LONG": "88.888888", "OBS_DIST": ""}
        else:
            point |= {"OBS_TYPE": "1", "GPS_EW": "1", "GPS_PREC": str(int(rng.integers(2, 12))),
                      "OBS_DIST": str(int(rng.integers(0, 40))),
                      "GPS_LAT": f"{lat + rng.normal(0, 2e-5):.6f}", "GPS_LONG": f"{lon + rng.normal(0, 3e-5):.6f}"}
        points.append(point)
    return points


# --- product catalogue --------------------------------------------------------------------------

PRODUCTS_HEADER = ["identifier", "mission", "instrument_mode", "product_type", "polarisation", "absolute_orbit",
                   "relative_orbit", "sensing_start", "sensing_stop", "cloud_cover", "tile", "geometry"]
S2_TILE_FOOTPRINT = "POLYGON ((14.99973 48.75301, 16.49327 48.74334, 16.46479 47.75582, 14.99973 47.76517, 14.99973 48.75301))"


def write_products(path: Path) -> None:
    rows = [
        [S1_PRODUCT, "Sentinel-1A", "EW", "GRD", "HH HV", "20867", "145", "2018-03-05T07:35:20.412Z",
         "2018-03-05T07:36:20.398Z", "", "", "POLYGON ((7.1 79.6, 27.4 78.9, 31.2 81.8, 4.3 82.7, 7.1 79.6))"],
        [S2_PRODUCT, "Sentinel-2A", "MSI", "S2MSI2A", "", "31196", "79", "2021-06-15T09:50:31.024Z",
         "2021-06-15T09:50:31.024Z", "3.2", "33UWP", S2_TILE_FOOTPRINT],
        [S2_EARLIER, "Sentinel-2B", "MSI", "S2MSI2A", "", "21435", "79", "2021-04-21T09:50:29.024Z",
         "2021-04-21T09:50:29.024Z", "41.7", "33UWP", S2_TILE_FOOTPRINT],
    ]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(PRODUCTS_HEADER)
        writer.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    regions = write_sea_ice(HERE / "sea_ice.parquet", rng)
    predicted = fields(rng)
    write_crop_types(HERE / "crop_type.geojson", predicted)
    write_parcels(HERE / "at_parcels.shp", predicted)
    write_lucas_csv(HERE / "lucas.csv", lucas_points(rng, predicted))
    write_products(HERE / "products.csv")
    print(f"{regions} sea-ice regions, {len(predicted)} crop-type regions")


if __name__ == "__main__":
    main()
