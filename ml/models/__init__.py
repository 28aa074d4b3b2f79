"""The model architectures, by the name recipes and model cards use.

>>> sorted(ARCHITECTURES)
['adhoc-cnn', 'lstm', 'starrnn', 'tempcnn', 'vgg16']
"""

from __future__ import annotations

from ml.models import crop, sea_ice

# name -> (builder, input kind); a patch builder takes (input_shape, classes, **options), a
# series builder (training series, classes, **options) so its Normalization layer can adapt.
ARCHITECTURES = {
    "adhoc-cnn": (sea_ice.adhoc_cnn, "patches"),
    "vgg16": (sea_ice.vgg16_modified, "patches"),
    "lstm": (crop.lstm, "series"),
    "tempcnn": (crop.tempcnn, "series"),
    "starrnn": (crop.starrnn, "series"),
}


def custom_objects() -> dict:
    """The classes a saved model of ours may need to load (the STAR cell)."""
    return {"STARCell": crop._star_cell_class()}
