"""Prediction maps: a sea-ice class map of a mosaic of patches, a crop map of a time-series cube, and
their regions as polygons in a GeoParquet file that the mapping stage loads
(``mappings/rml/sea_ice.rml.ttl``, ``crop_type.rml.ttl``; columns as docs/data-model.md says).

    model, card = Registry().load("sea-ice-cnn-three")
    class_map = sea_ice_map(model, card, load_patches())
    frame = prediction_polygons(class_map, card, product_id="S1A_EW_GRDM_...", time="2018-03-05T07:35:20Z")
    write_geoparquet(frame, "sea_ice.parquet")       # then: eekg map mappings/rml/sea_ice.rml.ttl sea_ice.parquet
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ml.errors import InvalidModelInput
from ml.georef import EOPATCH, POLAR_SCENE, Georeference
from ml.polar import Patches
from ml.registry import ModelCard
from ml.vectorise import NO_DATA, regions


@dataclass(frozen=True)
class ClassMap:
    """A class per grid cell (``NO_DATA`` where nothing was predicted), its confidence, its placement."""

    classes: np.ndarray      # (rows, cols) int, class numbers of the card
    confidence: np.ndarray   # (rows, cols) float, the probability of the class given
    georef: Georeference     # of the grid's cells
    notes: list[str] = field(default_factory=list)


def predict_probabilities(model, card: ModelCard, inputs: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (n, classes) of a batch shaped like the card's input, after checking it."""
    inputs = check_inputs(card, inputs)
    if len(inputs) == 0:
        return np.zeros((0, len(card.classes)), dtype="float32")
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0))


def check_inputs(card: ModelCard, inputs) -> np.ndarray:
    """``inputs`` as a float32 array (n, *card.input_shape), or a clear error naming what is wrong."""
    try:
        array = np.asarray(inputs, dtype="float32")
    except (TypeError, ValueError):
        raise InvalidModelInput(
            f"The inputs are not an array of numbers of one shape; model {card.name} takes a batch of shape "
            f"(n, {', '.join(map(str, card.input_shape))}).") from None
    expected = tuple(card.input_shape)
    if array.ndim == len(expected):  # one example without its batch axis
        array = array[None]
    if array.shape[1:] != expected:
        raise InvalidModelInput(
            f"Got inputs of shape {array.shape}; model {card.name} takes a batch of shape (n, "
            f"{', '.join(map(str, expected))}) ({_what(card)}).")
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise InvalidModelInput(f"The inputs hold {int(bad.sum())} NaN or infinite value(s), the first at index "
                                f"{tuple(int(i) for i in where)}; fill or drop them (see ml/harmonise.py for series).")
    return array


def _what(card: ModelCard) -> str:
    if card.kind == "sea-ice":
        return "patches of 8-bit values 0-255, rows x columns x channels"
    return "series of steps x bands"


def sea_ice_map(model, card: ModelCard, patches: Patches, *, cell: int = 64,
                georef: Georeference = POLAR_SCENE) -> ClassMap:
    """The class map of a scene from its patches, on a grid of ``cell`` x ``cell`` scene pixels.

    A cell's class probabilities are the mean of those of the patches overlapping it, weighted by
    the overlap's area; its class is the most probable one and its confidence that probability.
    Cells no patch overlaps (outside the swath, or between sampled patches) are ``NO_DATA``.
    """
    probabilities = predict_probabilities(model, card, patches.images)
    size = patches.size
    cols, rows = int((patches.x.max() + size) // cell) + 1, int((patches.y.max() + size) // cell) + 1
    total = np.zeros((rows, cols, probabilities.shape[1]))
    weight = np.zeros((rows, cols))
    first_col, first_row = patches.x // cell, patches.y // cell
    span = size // cell + 2
    for dr in range(span):
        for dc in range(span):
            c, r = first_col + dc, first_row + dr
            overlap = (np.clip(np.minimum(patches.x + size, (c + 1) * cell) - np.maximum(patches.x, c * cell), 0, None)
                       * np.clip(np.minimum(patches.y + size, (r + 1) * cell) - np.maximum(patches.y, r * cell), 0, None))
            hit = overlap > 0
            np.add.at(total, (r[hit], c[hit]), probabilities[hit] * overlap[hit, None])
            np.add.at(weight, (r[hit], c[hit]), overlap[hit])
    mean = total / np.maximum(weight, 1)[..., None]
    classes = np.where(weight > 0, mean.argmax(-1), NO_DATA)
    return ClassMap(classes, mean.max(-1), georef.scaled(cell),
                    [f"{len(patches):,} patches on a {rows} x {cols} grid of {cell}-pixel cells"])


def crop_map(model, card: ModelCard, cube: np.ndarray, *, georef: Georeference = EOPATCH,
             batch_size: int = 1024) -> ClassMap:
    """The class map of a cube (steps, rows, cols, bands) shaped like the card's series, pixel by pixel;
    pixels with a NaN anywhere in their series (no clear view all year) are ``NO_DATA``."""
    cube = np.asarray(cube, dtype="float32")
    steps, rows, cols = cube.shape[:3] if cube.ndim == 4 else (None, None, None)
    if cube.ndim != 4 or (steps, cube.shape[3]) != tuple(card.input_shape):
        raise InvalidModelInput(f"Got a cube of shape {cube.shape}; model {card.name} takes (steps, rows, cols, bands) "
                                f"with {card.input_shape[0]} steps and {card.input_shape[1]} band(s).")
    series = cube.reshape(steps, rows * cols, -1).transpose(1, 0, 2)
    valid = np.isfinite(series).all(axis=(1, 2))
    probabilities = predict_probabilities(model, card, series[valid], batch_size)
    classes = np.full(rows * cols, NO_DATA)
    confidence = np.zeros(rows * cols)
    classes[valid], confidence[valid] = probabilities.argmax(1), probabilities.max(1)
    notes = [f"{int((~valid).sum()):,} of {rows * cols:,} pixels without a complete series left unclassified"]
    return ClassMap(classes.reshape(rows, cols), confidence.reshape(rows, cols), georef, notes)


def prediction_polygons(class_map: ClassMap, card: ModelCard, *, product_id: str, time: str,
                        tile: str | None = None, agronomic_year: int | None = None):
    """The map's regions as a GeoDataFrame in the columns of the card's kind's mapping.

    A class without a concept of the code list (``card.codes``) is left out, and counted in ``.attrs["notes"]``.
    """
    import geopandas

    found = regions(class_map.classes, class_map.confidence)
    names = np.array(card.classes, dtype=object)[found.classes] if len(found) else np.array([], dtype=object)
    codes = np.array([card.codes.get(n) for n in names], dtype=object)
    coded = np.array([code is not None for code in codes], dtype=bool)
    notes = list(class_map.notes)
    if (~coded).any():
        left = sorted(set(names[~coded]))
        notes.append(f"{int((~coded).sum())} region(s) of {int(found.pixels[~coded].sum()):,} cells left out: "
                     f"no code-list concept for {', '.join(left)}")
    n = int(coded.sum())
    columns = {"region_id": [f"r{i:05d}" for i in range(1, n + 1)]}
    if card.kind == "sea-ice":
        columns["ice_class"] = codes[coded]
    else:
        if not tile or agronomic_year is None:
            raise InvalidModelInput("A crop map needs its Sentinel-2 tile (e.g. 33UWP) and agronomic year.")
        columns |= {"crop_type": codes[coded], "tile": [tile] * n, "agronomic_year": [int(agronomic_year)] * n}
    columns |= {"confidence": np.round(found.confidence[coded], 4), "product_id": [product_id] * n, "time": [time] * n,
                "model": [card.name] * n, "model_version": [card.version] * n, "pixels": found.pixels[coded]}
    frame = geopandas.GeoDataFrame(columns, geometry=class_map.georef.transform(found.geometries[coded]),
                                   crs=class_map.georef.crs)
    frame.attrs["notes"] = notes
    return frame


def write_geoparquet(frame, path: str | Path) -> Path:
    """Write the polygons as GeoParquet (WKB geometry, CRS in the metadata)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
