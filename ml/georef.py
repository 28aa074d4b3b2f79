"""Geo-referencing of class maps: a pixel grid placed in a CRS by an explicit, stated transform.

Neither data set carries its coordinates: the polar patches have pixel positions in a scene but no
CRS, the eo-learn patch's arrays have no bounding box. So a map's position is always a parameter,
:class:`Georeference`: the CRS, the map coordinates of the grid's upper-left corner and the pixel
size (rows go south, columns east). The defaults below are assumptions stated as such (docs/ml.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class Georeference:
    """Pixel (col, row) -> (x0 + col * pixel, y0 - row * pixel) in ``crs``.

    >>> Georeference("EPSG:32633", 500000, 5100000, 10).to_map(np.array([[2.0, 3.0]])).tolist()
    [[500020.0, 5099970.0]]
    """

    crs: str
    x0: float
    y0: float
    pixel: float

    def to_map(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack([self.x0 + coords[:, 0] * self.pixel, self.y0 - coords[:, 1] * self.pixel])

    def transform(self, geometries: np.ndarray) -> np.ndarray:
        """Geometries in pixel coordinates -> the same in map coordinates."""
        return shapely.transform(geometries, self.to_map)

    def scaled(self, factor: float) -> Georeference:
        """The same placement for a grid whose cells are ``factor`` pixels wide."""
        return Georeference(self.crs, self.x0, self.y0, self.pixel * factor)


# ASSUMED placement of the polar-patch scene: UTM zone 33N (EPSG:32633, north up at 15 E), 40 m pixels
# (the pixel spacing of Sentinel-1 EW GRD medium resolution), upper-left corner chosen so that the
# scene's 15,130 x 11,060 pixels (605 x 442 km) are centred at 80.9 N 17.5 E, north of Svalbard, in the
# footprint of the demo catalogue's Sentinel-1 product (corners about 82.5 N 3 W, 82.2 N 38.7 E,
# 78.5 N 30.8 E, 78.7 N 3.1 E). The data do not say where the scene is: this makes the map plausible,
# not true.
POLAR_SCENE = Georeference("EPSG:32633", 242_000.0, 9_204_000.0, 40.0)

# ASSUMED placement of the eo-learn patch: UTM 33N (EPSG:32633), 10 m pixels (Sentinel-2), upper-left
# corner in central Slovenia (about 46.1 N, 14.5 E, Sentinel-2 tile 33TVM), where the patch is said to
# come from.
EOPATCH = Georeference("EPSG:32633", 461_000.0, 5_105_000.0, 10.0)
