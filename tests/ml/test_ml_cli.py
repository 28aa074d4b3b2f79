"""``eekg ml``: list, evaluate, predict, export/import, with clear errors; TensorFlow only when needed."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas
from click.testing import CliRunner

from api.cli import main
from ml.data import data_dir
from ml.registry import Registry


def _run(*args):
    return CliRunner().invoke(main, ["ml", *args])


def test_list_evaluate_predict_export_import(registry, tmp_path):
    root = str(registry.root)
    listed = _run("list", "--registry", root)
    assert listed.exit_code == 0 and "tiny-crop" in listed.output and "tiny-sea-ice" in listed.output
    best = _run("list", "--registry", root, "--best", "overall_accuracy", "--kind", "crop-type")
    assert best.exit_code == 0 and best.output.startswith("tiny-crop")

    png = tmp_path / "cm.png"
    evaluated = _run("evaluate", "tiny-crop", "--version", "1", "--registry", root, "--png", str(png))
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.output[evaluated.output.index("{"):])
    assert metrics["overall_accuracy"] == registry.card("tiny-crop", "1").metrics["overall_accuracy"]
    assert png.read_bytes()[:4] == b"\x89PNG" and "warning" not in evaluated.output

    out = tmp_path / "crop.parquet"
    s2 = "S2A_MSIL2A_20210615T095031_N0300_R079_T33UWP_20210615T121339"  # a stand-in: the patch's products are unknown
    needs_product = _run("predict", "tiny-crop", "--registry", root, "-o", str(out))
    assert needs_product.exit_code == 2 and "A crop map needs --product-id" in needs_product.output
    predicted = _run("predict", "tiny-crop", "--registry", root, "-o", str(out), "--year", "2016", "--product-id", s2)
    assert predicted.exit_code == 0, predicted.output
    assert "composited to 46 periods of 2016" in predicted.output and "tiny-crop version 1" in predicted.output
    assert len(geopandas.read_parquet(out)) == int(predicted.output.split("Wrote ")[1].split(" ")[0].replace(",", ""))

    subset = tmp_path / "polar-patch"  # the first 300 patches of the scene
    (subset / "images").mkdir(parents=True)
    rows = (data_dir() / "polar-patch" / "meta.csv").read_text().splitlines()[:301]
    (subset / "meta.csv").write_text("\n".join(rows) + "\n")
    for row in rows[1:]:
        name = f"{row.split()[0]}.png"
        (subset / "images" / name).symlink_to(data_dir() / "polar-patch" / "images" / name)
    ice = tmp_path / "ice.parquet"
    mapped = _run("predict", "tiny-sea-ice", "--version", "1", "--registry", root, "--patches", str(subset), "-o", str(ice))
    assert mapped.exit_code == 0, mapped.output
    assert "constant (no-data) patches of 300" in mapped.output and "tiny-sea-ice version 1" in mapped.output
    frame = geopandas.read_parquet(ice)
    assert len(frame) > 0 and set(frame.ice_class) <= {"water", "ice", "land"} and frame.geometry.is_valid.all()

    exported = tmp_path / "crop.zip"
    assert _run("export", "tiny-crop", str(exported), "--registry", root).exit_code == 0
    imported = _run("import", str(exported), "--registry", str(tmp_path / "other"))
    assert imported.exit_code == 0 and "Imported tiny-crop version" in imported.output


def test_train_shows_progress_and_saves_the_model(tmp_path):
    rows = (data_dir() / "ucr-crop" / "Crop_TRAIN.tsv").read_text().splitlines()[::15]  # 16 series of each class
    (tmp_path / "crop.tsv").write_text("\n".join(rows) + "\n")
    root = str(tmp_path / "models")
    grid = _run("train", "crop-lstm", "--grid", "--layers", "1", "--cells", "4,8", "--grid-epochs", "1", "--epochs", "2",
                "--data", str(tmp_path / "crop.tsv"), "--registry", root)
    assert grid.exit_code == 0, grid.output
    assert "UCR Crop: 312 series to train on, 72 held out, 24 classes" in grid.output
    assert "1 layers x 4 cells: validation accuracy" in grid.output and "1 layers x 8 cells" in grid.output
    assert "phase one: 1 epochs, class-weighted loss" in grid.output and "phase two: 1 epochs" in grid.output
    assert "━━━" in grid.output and "val_loss" in grid.output  # Keras's progress bars, batch by batch
    assert "Saved crop-lstm-grid version 1" in grid.output and "validation accuracy" in grid.output
    card = Registry(root, shipped=None).card("crop-lstm-grid")  # every configuration tried, the best kept
    assert [(row["layers"], row["cells"]) for row in card.data["grid"]] == [(1, 4), (1, 8)]
    best = max(card.data["grid"], key=lambda row: row["validation_accuracy"])
    assert card.config["options"] == {"layers": 1, "cells": best["cells"]} and card.config["epochs"] == 2
    listed = _run("list", "--registry", root)
    assert listed.output.split()[:2] == ["crop-lstm-grid", "v1"]


def test_errors_are_one_clear_line(registry, tmp_path):
    unknown = _run("predict", "nope", "-o", str(tmp_path / "x.parquet"), "--registry", str(registry.root))
    assert unknown.exit_code == 1 and "error: There is no model named 'nope'" in unknown.output
    assert "Traceback" not in unknown.output
    recipe = _run("train", "sea-ice-resnet", "--registry", str(tmp_path))
    assert recipe.exit_code == 2 and "the recipes are: sea-ice-cnn-binary" in recipe.output
    place = _run("predict", "tiny-sea-ice", "-o", str(tmp_path / "x.parquet"), "--registry", str(registry.root),
                 "--georef", "EPSG:32633,1")
    assert place.exit_code == 2 and "give CRS,X0,Y0,PIXEL" in place.output
    missing = _run("predict", "tiny-crop", "-o", str(tmp_path / "x.parquet"), "--registry", str(registry.root),
                   "--eopatch", str(tmp_path / "none"), "--product-id", "S2A_MSIL2A_20161229T100412_N0204_R122_T33TVM_20161229T100409")
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_the_cli_and_the_api_start_without_tensorflow():
    code = "import sys, api.cli, api.main; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
