"""The models of both use cases trained for real on CPU: validation accuracy and training time of
each on its data set, the LSTM grid search, and the throughput of a crop map.

- Sea ice (``polar-patch/``, constant patches dropped, spatially disjoint validation with a 128 px
  gap): the ad-hoc CNN and the modified VGG-16 (three max-pooling stages, a quarter of VGG-16's
  filters), water/ice and water/ice/land.
- Crop types (``ucr-crop/Crop_TRAIN.tsv``, a stratified fifth held out): the two-phase LSTM,
  TempCNN, StarRNN; the grid search over layers x cells picks on a validation part of the other
  four fifths, then reports the chosen model on the held-out fifth.
- Crop map of the eo-learn patch (101 x 100 pixels, 68 dates): harmonisation to the model's
  steps, per-pixel prediction, vectorisation, against the model's bare prediction of the same
  pixels as the baseline (the ratio is the map pipeline's overhead).

Results: ``benchmarks/results/ml.json`` and a confusion-matrix PNG per model (``ml_confusion_*.png``).

    uv run python benchmarks/ml.py [--recipes crop-lstm,...] [--grid-epochs 3] [--quick] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This script is named like the ml package; run as a script, its folder comes first on the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from ml.harmonise import composites, period_for
from ml.inference import crop_map, predict_probabilities, prediction_polygons
from ml.metrics import confusion_png
from ml.registry import Registry
from ml.series import load_eopatch
from ml.train import RECIPES, grid_search, train

DEFAULT = ("sea-ice-cnn-binary", "sea-ice-cnn-three", "sea-ice-vgg-binary", "sea-ice-vgg-three",
           "crop-lstm", "crop-tempcnn", "crop-starrnn")
REFERENCE = {  # as reported by the reference study and the UCR archive; not comparable data (see docs/ml.md)
    "sea-ice water/ice, own Sentinel-1 data": {"modified VGG-16": 0.9989, "ad-hoc CNN": 0.9853},
    "crop types, Austrian Sentinel-2 data": {"weighted LSTM": 0.8539, "TempCNN": 0.8171, "StarRNN": 0.8117},
    "UCR Crop official test split, best published (InceptionTime)": 0.793,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default=",".join(DEFAULT), help="Recipes to train (comma-separated).")
    parser.add_argument("--grid-epochs", type=int, default=3, help="Epochs per grid configuration (0: no grid search).")
    parser.add_argument("--grid-layers", default="2,3,4")
    parser.add_argument("--grid-cells", default="100,125,200,225,300")
    parser.add_argument("--quick", action="store_true", help="One epoch on a few hundred examples: checks the script.")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "ml.json")
    args = parser.parse_args()

    registry = Registry(HERE / "data" / "ml-models", shipped=None)
    say = lambda message: print(message, flush=True)
    results = {"machine": {"cores": os.cpu_count(), "python": platform.python_version()}, "models": [], "reference": REFERENCE}
    for name in filter(None, args.recipes.split(",")):  # --recipes "": the grid search and the crop map only
        recipe = RECIPES[name]
        if args.quick:
            recipe = replace(recipe, epochs=1, limit=600 if recipe.kind == "sea-ice" else 960)
        say(f"== {name}: {recipe.architecture} {recipe.options or ''}, {recipe.epochs} epochs")
        card = train(recipe, registry, verbose=2, say=say).card
        results["models"].append(_row(card))
        confusion_png(card.metrics, args.output.parent / f"ml_confusion_{name}.png",
                      f"{name}: validation accuracy {card.metrics['overall_accuracy']:.2%}")

    if args.grid_epochs:
        layers = tuple(int(v) for v in args.grid_layers.split(","))
        cells = tuple(int(v) for v in args.grid_cells.split(","))
        base = replace(RECIPES["crop-lstm"], limit=960) if args.quick else RECIPES["crop-lstm"]
        say(f"== grid search: layers {layers} x cells {cells}, {args.grid_epochs} epochs each")
        started = time.perf_counter()
        trained, table = grid_search(registry, layers=layers, cells=cells, epochs=args.grid_epochs, base=base, say=say)
        results["grid_search"] = {"epochs": args.grid_epochs, "table": table, "seconds": round(time.perf_counter() - started, 1),
                                  "chosen": trained.card.config["options"], "held_out": _row(trained.card)}

    results["crop_map"] = crop_map_throughput(registry, say)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    say(f"wrote {args.output}")


def _row(card) -> dict:
    return {"model": card.name, "version": card.version, "architecture": card.architecture, "options": card.config["options"],
            "classes": len(card.classes), "epochs": card.config["epochs"], "train": card.data.get("train"),
            "validation": card.data.get("validation", card.data.get("held_out")),
            "validation_accuracy": card.metrics["overall_accuracy"], "median_f1": card.metrics["median_f1"],
            "training_seconds": card.training_seconds}


def crop_map_throughput(registry: Registry, say, repeats: int = 3) -> dict:
    """Pixels per second of a crop map of the eo-learn patch with the best crop model, and its parts."""
    card = registry.best("overall_accuracy", kind="crop-type")
    model, card = registry.load(card.name, card.version)
    patch = load_eopatch()
    pixels = patch.ndvi.shape[1] * patch.ndvi.shape[2]
    period = period_for(card)
    timings = {"harmonise": [], "predict_and_vectorise": [], "bare_predict": []}
    for _ in range(repeats):
        t = time.perf_counter()
        cube = composites(patch.ndvi, patch.clouds, patch.timestamps, 2016, period)
        timings["harmonise"].append(time.perf_counter() - t)
        t = time.perf_counter()
        frame = prediction_polygons(crop_map(model, card, cube.values), card, product_id="S2_benchmark",
                                    time="2016-12-31T23:59:59Z", tile="33TVM", agronomic_year=2016)
        timings["predict_and_vectorise"].append(time.perf_counter() - t)
        series = cube.values.reshape(cube.values.shape[0], pixels, -1).transpose(1, 0, 2)
        t = time.perf_counter()
        predict_probabilities(model, card, series, batch_size=1024)
        timings["bare_predict"].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in timings.items()}
    total = best["harmonise"] + best["predict_and_vectorise"]
    result = {"model": f"{card.name} v{card.version}", "pixels": pixels, "steps": int(card.input_shape[0]),
              "regions": len(frame), "seconds": {k: round(v, 4) for k, v in best.items()},
              "pixels_per_second": round(pixels / total), "bare_predict_pixels_per_second": round(pixels / best["bare_predict"]),
              "ratio_to_bare_predict": round(total / best["bare_predict"], 2)}
    say(f"crop map: {result['pixels_per_second']:,} pixels/s ({pixels:,} pixels, {len(frame)} regions); the model alone "
        f"{result['bare_predict_pixels_per_second']:,} pixels/s: {result['ratio_to_bare_predict']}x its time")
    return result


if __name__ == "__main__":
    main()
