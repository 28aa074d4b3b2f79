"""Crop-type classifiers of pixel time series (steps x bands): the LSTM of the reference study and
the TempCNN and StarRNN baselines.

Each model starts with a ``Normalization`` layer adapted to its training series, so that serving
and inference send the values as they are (NDVI, reflectances).
"""

from __future__ import annotations

import numpy as np

from ml._keras import keras


def _normalised_input(series: np.ndarray):
    k = keras()
    norm = k.layers.Normalization(axis=-1)
    norm.adapt(series.reshape(-1, series.shape[-1]))
    return [k.Input(series.shape[1:]), norm]


def lstm(series: np.ndarray, classes: int, *, layers: int = 3, cells: int = 200, dropout: float = 0.2):
    """A stack of ``layers`` LSTM layers of ``cells`` cells each, dropout, then the classes."""
    k = keras()
    stack = _normalised_input(series)
    for i in range(layers):
        stack.append(k.layers.LSTM(cells, return_sequences=i < layers - 1, dropout=dropout if i else 0.0))
    stack += [k.layers.Dropout(dropout), k.layers.Dense(classes, activation="softmax")]
    return k.Sequential(stack, name=f"lstm_{layers}x{cells}")


def tempcnn(series: np.ndarray, classes: int, *, filters: int = 64, kernel: int = 5, dense: int = 256,
            dropout: float = 0.2):
    """TempCNN (Pelletier et al. 2019): three 1-D convolutions with batch normalisation, ReLU and
    dropout, a dense layer of 256, the classes."""
    k = keras()
    stack = _normalised_input(series)
    for _ in range(3):
        stack += [k.layers.Conv1D(filters, kernel, padding="same"), k.layers.BatchNormalization(),
                  k.layers.Activation("relu"), k.layers.Dropout(dropout)]
    stack += [k.layers.Flatten(), k.layers.Dense(dense), k.layers.BatchNormalization(), k.layers.Activation("relu"),
              k.layers.Dropout(dropout), k.layers.Dense(classes, activation="softmax")]
    return k.Sequential(stack, name="tempcnn")


def starrnn(series: np.ndarray, classes: int, *, layers: int = 3, cells: int = 128, dropout: float = 0.2):
    """StarRNN (Turkoglu et al. 2019): ``layers`` stacked recurrent layers of STAR cells, then the classes."""
    k = keras()
    stack = _normalised_input(series)
    for i in range(layers):
        stack.append(k.layers.RNN(star_cell(cells), return_sequences=i < layers - 1))
    stack += [k.layers.Dropout(dropout), k.layers.Dense(classes, activation="softmax")]
    return k.Sequential(stack, name=f"starrnn_{layers}x{cells}")


def star_cell(units: int):
    """A STAR cell (STAckable Recurrent unit): one gate, so deep stacks train without vanishing gradients.

        z_t = tanh(W_z x_t + b_z)
        k_t = sigmoid(W_x x_t + W_h h_{t-1} + b_k)
        h_t = tanh((1 - k_t) * h_{t-1} + k_t * z_t)
    """
    return _star_cell_class()(units)


_CELL = None


def _star_cell_class():
    """The STARCell class, defined on first use (it subclasses a Keras layer) and registered for loading."""
    global _CELL
    if _CELL is not None:
        return _CELL
    k = keras()

    @k.saving.register_keras_serializable(package="eekg")
    class STARCell(k.layers.Layer):
        def __init__(self, units: int, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units
            self.output_size = units

        def build(self, input_shape):
            d = input_shape[-1]
            self.w_z = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="w_z")
            self.b_z = self.add_weight(shape=(self.units,), initializer="zeros", name="b_z")
            self.w_x = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="w_x")
            self.w_h = self.add_weight(shape=(self.units, self.units), initializer="orthogonal", name="w_h")
            self.b_k = self.add_weight(shape=(self.units,), initializer="ones", name="b_k")  # open gate at start

        def call(self, inputs, states):
            ops = k.ops
            h = states[0] if isinstance(states, (list, tuple)) else states
            z = ops.tanh(ops.matmul(inputs, self.w_z) + self.b_z)
            gate = ops.sigmoid(ops.matmul(inputs, self.w_x) + ops.matmul(h, self.w_h) + self.b_k)
            h = ops.tanh((1 - gate) * h + gate * z)
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    _CELL = STARCell
    return _CELL
