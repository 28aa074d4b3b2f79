"""``eekg ml``: train, evaluate, predict with and list the models of the registry (``ml/``).

TensorFlow is imported by the commands that need it, not when the CLI starts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click


REGISTRY_OPTION = click.option(
    "--registry", "registry_dir", envvar="EEKG_MODEL_DIR", type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the model registry (default .eekg/models). Env: EEKG_MODEL_DIR.")
VERSION_OPTION = click.option("--version", "version", help="Model version (default: the latest).")


@click.group(name="ml")  # a command of `eekg`, whose group reports user errors
def ml():
    """Train, evaluate and serve the sea-ice and crop-type models (docs/ml.md)."""


def _registry(registry_dir):
    from ml.registry import Registry

    return Registry(registry_dir)


def _say(message: str) -> None:
    click.echo(message, err=True)


@ml.command()
@click.argument("recipe")
@REGISTRY_OPTION
@click.option("--data", type=click.Path(path_type=Path), help="The data set's folder or file (default: under ../shared/data).")
@click.option("--epochs", type=click.IntRange(min=1), help="Train this many epochs instead of the recipe's.")
@click.option("--grid", is_flag=True, help="Crop LSTM: grid search over --layers and --cells first.")
@click.option("--layers", default="2,3,4", show_default=True, help="Grid search: LSTM layers to try.")
@click.option("--cells", default="100,125,200,225,300", show_default=True, help="Grid search: LSTM cells to try.")
@click.option("--grid-epochs", default=5, show_default=True, help="Grid search: epochs per configuration tried.")
def train(recipe, registry_dir, data, epochs, grid, layers, cells, grid_epochs):
    """Train RECIPE (see 'eekg ml recipes'), evaluate it on its validation data and save it in the registry."""
    from ml.train import RECIPES, grid_search
    from ml.train import train as run

    if recipe not in RECIPES:
        raise click.UsageError(f"Got recipe {recipe!r}; the recipes are: {', '.join(RECIPES)}.")
    chosen = RECIPES[recipe] if epochs is None else replace(RECIPES[recipe], epochs=epochs)
    registry = _registry(registry_dir)
    if grid:
        if chosen.architecture != "lstm":
            raise click.UsageError("--grid searches the LSTM's layers and cells; use it with crop-lstm.")
        trained, _ = grid_search(registry, layers=_ints(layers), cells=_ints(cells), epochs=grid_epochs, base=chosen,
                                 data=data, verbose=1, say=_say)
    else:
        trained = run(chosen, registry, data=data, verbose=1, say=_say)
    card = trained.card
    click.echo(f"Saved {card.name} version {card.version} in {registry.root}: validation accuracy "
               f"{card.metrics['overall_accuracy']:.2%}, median F1 {card.metrics['median_f1']:.3f}, "
               f"{card.training_seconds:.0f} s of training.")


@ml.command()
def recipes():
    """List the training recipes."""
    from ml.train import RECIPES

    for r in RECIPES.values():
        options = ", ".join(f"{k}={v}" for k, v in r.options.items())
        click.echo(f"{r.name:22} {r.architecture:10} {r.classes or r.kind:10} {r.epochs:3} epochs  {options}")


@ml.command()
@click.argument("name")
@VERSION_OPTION
@REGISTRY_OPTION
@click.option("--data", type=click.Path(path_type=Path), help="The data set's folder or file (default: under ../shared/data).")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Draw the confusion matrix into this PNG.")
def evaluate(name, version, registry_dir, data, png):
    """Evaluate model NAME again on its validation data; print its metrics as JSON."""
    from ml.data import hash_arrays
    from ml.metrics import confusion_png
    from ml.train import Recipe, prepare_data
    from ml.train import evaluate as score

    model, card = _registry(registry_dir).load(name, version)
    recipe = Recipe(**{k: v for k, v in card.config.items() if k in Recipe.__dataclass_fields__})
    x_train, y_train, x_val, y_val, classes, _ = prepare_data(recipe, data, _say)
    if hash_arrays(x_train, y_train, x_val, y_val) != card.data_hash:
        click.secho("warning: the data differ from those the model was trained on (data hash).", err=True, fg="yellow")
    metrics = score(model, x_val, y_val, classes)
    if png:
        confusion_png(metrics, png, f"{card.name} v{card.version}: overall accuracy {metrics['overall_accuracy']:.2%}")
        _say(f"confusion matrix drawn in {png}")
    click.echo(json.dumps(metrics, indent=2))


@ml.command()
@click.argument("name")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="GeoParquet file to write.")
@VERSION_OPTION
@REGISTRY_OPTION
@click.option("--patches", type=click.Path(path_type=Path), help="Sea ice: the polar-patch folder (default ../shared/data/polar-patch).")
@click.option("--cell", default=32, show_default=True, help="Sea ice: map cell size in scene pixels.")
@click.option("--eopatch", type=click.Path(path_type=Path), help="Crop type: the eo-learn patch folder (default ../shared/data/eo-learn-patch).")
@click.option("--year", type=int, default=2016, show_default=True, help="Crop type: the year to composite.")
@click.option("--tile", default="33TVM", show_default=True,
              help="Crop type: the Sentinel-2 tile of the map (the assumed placement's, docs/ml.md).")
@click.option("--product-id", help="Identifier of the source product; for sea ice by default the demo catalogue's "
                                   "Sentinel-1 product, for a crop map required (the Sentinel-2 product it is derived from).")
@click.option("--time", "when", help="Result time, ISO 8601 UTC (default: the product's sensing time or the year's end).")
@click.option("--georef", help="CRS,X0,Y0,PIXEL of the map grid's upper-left corner (default: the assumed placement, docs/ml.md).")
def predict(name, output, version, registry_dir, patches, cell, eopatch, year, tile, product_id, when, georef):
    """Predict a class map with model NAME and write its regions as GeoParquet for 'eekg map'."""
    from api.demo import S1_PRODUCT
    from ml import georef as places
    from ml.inference import prediction_polygons, sea_ice_map, write_geoparquet

    model, card = _registry(registry_dir).load(name, version)
    place = _georef(georef) if georef else None
    if card.kind == "sea-ice":
        from ml.polar import load_patches

        loaded = load_patches(patches)
        _say(f"polar patches: {loaded.notes[0]}")
        class_map = sea_ice_map(model, card, loaded, cell=cell, georef=place or places.POLAR_SCENE)
        frame = prediction_polygons(class_map, card, product_id=product_id or S1_PRODUCT,
                                    time=when or "2018-03-05T07:35:20Z")
    else:
        if not product_id:
            raise click.UsageError("A crop map needs --product-id, the Sentinel-2 product it is derived from "
                                   "(for a series, the last one), e.g. S2A_MSIL2A_20161229T100412_N0204_R122_T33TVM_...")
        class_map = crop_cube_map(model, card, eopatch, year, place or places.EOPATCH)
        frame = prediction_polygons(class_map, card, product_id=product_id,
                                    time=when or f"{year}-12-31T23:59:59Z", tile=tile, agronomic_year=year)
    for note in frame.attrs.get("notes", []):
        _say(note)
    write_geoparquet(frame, output)
    click.echo(f"Wrote {len(frame):,} regions of {card.name} version {card.version} to {output}.")


def crop_cube_map(model, card, eopatch, year, place):
    """The eo-learn patch's NDVI composited to the model's steps (12: months; 46: 8-day periods), mapped."""
    from ml.harmonise import composites, period_for
    from ml.inference import crop_map
    from ml.series import load_eopatch

    period = period_for(card)
    patch = load_eopatch(eopatch)
    steps = card.input_shape[0]
    cube = composites(patch.ndvi, patch.clouds, patch.timestamps, year, period)
    _say(f"eo-learn patch: {len(patch.timestamps)} dates composited to {steps} periods of {year}; "
         f"{cube.filled.mean():.0%} of the values filled (no clear view)")
    return crop_map(model, card, cube.values, georef=place)


@ml.command(name="list")
@REGISTRY_OPTION
@click.option("--best", "metric", help="Show only the best model by this metric (overall_accuracy, median_f1).")
@click.option("--kind", type=click.Choice(["sea-ice", "crop-type"]), help="Only models of this kind.")
def list_models(registry_dir, metric, kind):
    """List the models of the registry: name, version, kind, validation accuracy, data hash."""
    registry = _registry(registry_dir)
    cards = [registry.best(metric, kind=kind)] if metric else [c for c in registry.cards() if not kind or c.kind == kind]
    if not cards:
        click.echo(f"No models in {registry.root} yet; train one with 'eekg ml train RECIPE'.")
    for c in cards:
        accuracy = c.metrics.get("overall_accuracy")
        click.echo(f"{c.name:24} v{c.version:<4} {c.kind:9} {c.architecture:10} "
                   f"accuracy {accuracy:.2%}  median F1 {c.metrics.get('median_f1', 0):.3f}  {c.data_hash[:19]}  {c.created}"
                   if accuracy is not None else f"{c.name:24} v{c.version:<4} {c.kind}")


@ml.command()
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@VERSION_OPTION
@REGISTRY_OPTION
def export(name, file, version, registry_dir):
    """Export model NAME as one FILE (a zip of model.keras and card.json)."""
    path = _registry(registry_dir).export(name, version, file)
    click.echo(f"Exported {name} to {path}.")


@ml.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@REGISTRY_OPTION
@click.option("--name", help="Import under this name instead of the file's.")
def import_command(file, registry_dir, name):
    """Import a model FILE made by 'eekg ml export' into the registry."""
    card = _registry(registry_dir).import_file(file, name=name)
    click.echo(f"Imported {card.name} version {card.version}.")


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"Got {text!r}; give whole numbers separated by commas, e.g. 2,3,4.") from None


def _georef(text: str):
    from ml.georef import Georeference

    parts = text.split(",")
    try:
        return Georeference(parts[0], float(parts[1]), float(parts[2]), float(parts[3]))
    except (IndexError, ValueError):
        raise click.BadParameter(f"Got {text!r}; give CRS,X0,Y0,PIXEL, e.g. EPSG:32633,461000,5095000,10.") from None
