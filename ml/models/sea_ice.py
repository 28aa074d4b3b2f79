"""The two sea-ice patch classifiers of the reference study, trained from scratch.

Both take patches of raw 8-bit values (``Rescaling`` to 0..1 is the first layer, so serving and
inference send the pixels as they are) and answer class probabilities (softmax).
"""

from __future__ import annotations

from ml._keras import keras

# VGG-16's convolution blocks: filters per convolution (13 convolutions in five blocks).
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def adhoc_cnn(input_shape: tuple[int, int, int], classes: int, *, filters=(32, 64, 64), dense=(1024, 512),
              dropout: float = 0.5):
    """The ad-hoc CNN: three 3x3 convolutions of 32, 64 and 64 filters, each followed by 2x2
    max-pooling; dense layers of 1024 and 512 units with dropout, then the classes.

    ``dense`` can be made smaller for a small shipped model; the study's is (1024, 512).
    """
    k = keras()
    layers = [k.Input(input_shape), k.layers.Rescaling(1 / 255)]
    for n in filters:
        layers += [k.layers.Conv2D(n, 3, padding="same", activation="relu"), k.layers.MaxPooling2D(2)]
    layers.append(k.layers.Flatten())
    for n in dense:
        layers += [k.layers.Dense(n, activation="relu"), k.layers.Dropout(dropout)]
    layers.append(k.layers.Dense(classes, activation="softmax"))
    return k.Sequential(layers, name="adhoc_cnn")


def vgg16_modified(input_shape: tuple[int, int, int], classes: int, *, pools: int = 3, width: float = 1.0,
                   dense: int = 512, dropout: float = 0.5):
    """VGG-16 (13 3x3 convolutions in five blocks) with 2x2 max-pooling after only the first
    ``pools`` blocks instead of all five, so that a small patch keeps a spatial map to classify
    (64 px -> 8 x 8 with three poolings, where five would leave 2 x 2); global average pooling,
    one dense layer of ``dense`` units with dropout, the classes. Trained from scratch.

    ``width`` scales every block's filters: 1.0 is VGG-16's 64 ... 512 (about 15 M weights, for
    a GPU); the CPU recipes use 0.25.
    """
    k = keras()
    if not 0 <= pools <= 5:
        raise ValueError(f"Got pools={pools}; VGG-16 has five blocks, so give 0 to 5 max-pooling stages.")
    layers = [k.Input(input_shape), k.layers.Rescaling(1 / 255)]
    for i, block in enumerate(VGG16_BLOCKS):
        for n in block:
            layers.append(k.layers.Conv2D(max(1, round(n * width)), 3, padding="same", activation="relu"))
        if i < pools:
            layers.append(k.layers.MaxPooling2D(2))
    layers += [k.layers.GlobalAveragePooling2D(), k.layers.Dense(dense, activation="relu"), k.layers.Dropout(dropout),
               k.layers.Dense(classes, activation="softmax")]
    return k.Sequential(layers, name="vgg16_modified")
