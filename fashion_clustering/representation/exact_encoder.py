"""The trained encoder as NumPy arithmetic whose results are exact by construction: a row's
code is the same bytes whatever rows it is encoded with, whatever the batch size, CPU, BLAS
kernel or thread count. The encode stage computes every code this way, and
``fashion-clustering predict`` does the same for new images without importing TensorFlow.

A float matrix product rounds after every addition, so its result depends on the order of
the additions, which BLAS picks by CPU, shape and thread count. Here each product is made of
integers instead: a row of inputs is scaled by a power of two to integers of at most
:data:`INPUT_BITS` bits, each weight column to integers whose absolute values sum to at most
2**:data:`WEIGHT_BITS`. Every partial sum is then an integer below 2**53, which float64
holds exactly, so any order of additions gives the same sum. Scaling back by powers of two
is exact too; biases, batch normalization and ReLU are element-wise IEEE operations, rounded
the same way everywhere. The price is a rounding of inputs to 24 significant bits relative
to their row's largest value (float32's precision) and of weights to 2**-29 of their
column's absolute sum: codes agree with TensorFlow's to about 1e-6.

The model is read from the ``.keras`` file itself (its ``config.json`` and weights), so no
second copy of the weights can drift from it.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import PipelineError
from ..files import warn_if_made_elsewhere

INPUT_BITS = 24
WEIGHT_BITS = 53 - INPUT_BITS
# The powers of two that are floats: 2**-1074 (the smallest subnormal) to 2**1023.
SMALLEST_EXPONENT, LARGEST_EXPONENT = -1074, 1023


@dataclass(frozen=True)
class IntegerKernel:
    """A weight matrix as integers (held in float64) and the power of two of each column."""

    integers: np.ndarray  # k × m
    exponents: np.ndarray  # m: column j's weights are integers[:, j] * 2**-exponents[j]

    @classmethod
    def of(cls, kernel: np.ndarray) -> "IntegerKernel":
        """The integer kernel, with its per-column exponents, of a float kernel."""
        kernel = np.asarray(kernel, dtype=np.float64)
        # math.fsum is exactly rounded, so the exponents do not depend on a summation order.
        column_sums = np.array([math.fsum(column) for column in np.abs(kernel).T])
        # sum * 2**e < 2**(WEIGHT_BITS - 1), and rounding adds at most k/2 < 2**(WEIGHT_BITS - 1).
        exponents = (WEIGHT_BITS - 1) - np.frexp(column_sums)[1]
        return cls(np.rint(np.ldexp(kernel, exponents[None, :])), exponents)


def scaled(x: np.ndarray, row_exponents: np.ndarray, column_exponents: np.ndarray | None = None) -> np.ndarray:
    """``np.ldexp(x, row_exponents[:, None] + column_exponents[None, :])`` (columns optional),
    the same bytes in a quarter of the time: IEEE rounds a product by a power of two once, as
    ``ldexp`` rounds, so the two agree whenever the powers are floats (2**-1074 to 2**1023),
    as every power the exact layers ask for is; ``ldexp`` is kept for any other."""
    columns = np.zeros(1, np.int64) if column_exponents is None else np.asarray(column_exponents)
    extremes = np.concatenate([row_exponents, columns, [row_exponents.min(initial=0) + columns.min(initial=0),
                                                        row_exponents.max(initial=0) + columns.max(initial=0)]])
    if extremes.min() < SMALLEST_EXPONENT or extremes.max() > LARGEST_EXPONENT:
        return np.ldexp(x, row_exponents[:, None] + columns[None, :])
    # A product of two powers of two that is a float is exact.
    return x * (np.ldexp(1.0, row_exponents)[:, None] * np.ldexp(1.0, columns)[None, :])


def exact_matmul(x: np.ndarray, kernel: IntegerKernel) -> np.ndarray:
    """``x @ kernel`` in float64, each row rounded to :data:`INPUT_BITS` bits first; every
    row's result depends on that row alone, bit for bit (see the module's docstring)."""
    x = np.asarray(x, dtype=np.float64)
    exponents = INPUT_BITS - np.frexp(np.abs(x).max(axis=1, initial=0.0))[1]
    integers = np.rint(scaled(x, exponents))
    return scaled(integers @ kernel.integers, -exponents, -kernel.exponents)


Layer = Callable[[np.ndarray], np.ndarray]


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name == "linear":
        return lambda x: x
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    raise PipelineError(f"the exact encoder has no activation {name!r} (it has linear and relu)")


def _dense(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    kernel, bias = IntegerKernel.of(weights[0]), np.asarray(weights[1], np.float64)
    activation = _activation(config["activation"])
    return lambda x: activation(exact_matmul(x, kernel) + bias)


def _conv2d(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    """A 3×3 (any odd square), stride-1, ``same``-padded convolution as a product of each
    pixel's neighbourhood (im2col) with the kernel."""
    size = tuple(config["kernel_size"])
    if (config["padding"], tuple(config["strides"]), config["data_format"]) != ("same", (1, 1), "channels_last") \
            or size[0] != size[1] or size[0] % 2 == 0 or tuple(config["dilation_rate"]) != (1, 1):
        raise PipelineError(f"the exact encoder has no convolution like {config['name']!r}: "
                            "it takes odd square kernels, stride 1, 'same' padding, channels last")
    kernel = IntegerKernel.of(np.asarray(weights[0]).reshape(-1, weights[0].shape[-1]))
    bias, activation, side = np.asarray(weights[1], np.float64), _activation(config["activation"]), size[0]

    def convolve(x: np.ndarray) -> np.ndarray:
        n, height, width, _ = x.shape
        pad = side // 2
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        patches = np.stack([padded[:, i:i + height, j:j + width] for i in range(side) for j in range(side)], axis=3)
        out = exact_matmul(patches.reshape(n * height * width, -1), kernel) + bias
        return activation(out).reshape(n, height, width, -1)

    return convolve


def _batch_normalization(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    weights = iter(np.asarray(w, np.float64) for w in weights)
    gamma = next(weights) if config["scale"] else 1.0
    beta = next(weights) if config["center"] else 0.0
    mean, variance = next(weights), next(weights)
    scale = gamma / np.sqrt(variance + config["epsilon"])
    return lambda x: (x - mean) * scale + beta


def _max_pooling(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    size = tuple(config["pool_size"])
    if size != tuple(config["strides"] or size) or config["padding"] != "valid" or size[0] != size[1]:
        raise PipelineError(f"the exact encoder has no pooling like {config['name']!r}: it takes "
                            "square pools with strides equal to their size and 'valid' padding")
    side = size[0]

    def pool(x: np.ndarray) -> np.ndarray:
        n, height, width, channels = x.shape
        x = x[:, :height // side * side, :width // side * side]
        return x.reshape(n, height // side, side, width // side, side, channels).max(axis=(2, 4))

    return pool


def _reshape(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    return lambda x: x.reshape(len(x), *config["target_shape"])


def _flatten(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    return lambda x: x.reshape(len(x), -1)


def _identity(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    return lambda x: x


# Keras layer classes by name, as what they do when encoding (noise is for training only).
LAYERS = {
    "Dense": _dense, "Conv2D": _conv2d, "BatchNormalization": _batch_normalization,
    "MaxPooling2D": _max_pooling, "Reshape": _reshape, "Flatten": _flatten, "GaussianNoise": _identity,
}


def _snake_case(name: str) -> str:
    """Keras' name for a layer's group in the weights file (``MaxPooling2D`` ->
    ``max_pooling2d``), as ``keras.src.utils.naming.to_snake_case`` makes it."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass(frozen=True)
class ExactNetwork:
    """One part of the autoencoder (its encoder, or its decoder: :mod:`.exact_decoder`), as
    layers that are each a function of a batch of float64 rows."""

    layers: tuple[Layer, ...]
    row_length: int  # the values of an input row: the model's own input width

    def outputs(self, rows: np.ndarray, batch_size: int) -> np.ndarray:
        """The network's float64 outputs, one flat row per row of ``rows``, ``batch_size``
        rows at a time (memory only: a row's output does not depend on it)."""
        if not len(rows):  # the layers' reshapes need a row to infer the output's size
            return self.outputs(np.zeros((1, *rows.shape[1:])), 1)[:0]
        chunks = []
        for first in range(0, len(rows), batch_size):
            out = np.asarray(rows[first:first + batch_size], np.float64)
            for layer in self.layers:
                out = layer(out)
            chunks.append(out.reshape(len(out), -1))
        return np.concatenate(chunks)


ExactEncoder = ExactNetwork  # what an encoder is, to the code that takes one


def read_exact_layers(path: str, part: str, layer_types: Mapping[str, Any]) -> ExactNetwork:
    """The ``part`` (``encoder`` or ``decoder``, a ``Sequential`` of the model) of an
    autoencoder the pipeline saved (``.keras``), read without Keras: its input width, and its
    layers, each built by ``layer_types[class_name](config, weights)``."""
    import h5py

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_file = io.BytesIO(archive.read("model.weights.h5"))
            warn_if_made_elsewhere(path, json.loads(archive.read("metadata.json")).get("versions"))
        model_layers = config["config"]["layers"]
        sequential = next(layer for layer in model_layers if layer["name"] == part)
        before = [layer["class_name"] for layer in model_layers[:model_layers.index(sequential)]].count("Sequential")
        with h5py.File(weights_file, "r") as weights:
            group = weights["layers"]["sequential" + (f"_{before}" if before else "")]["layers"]
            layers, seen = [], {}
            for layer in sequential["config"]["layers"]:
                kind = layer["class_name"]
                if kind == "InputLayer":
                    row_length = int(layer["config"]["batch_shape"][-1])
                    continue
                if kind not in layer_types:
                    raise PipelineError(f"the exact {part} has no {kind} layer")
                name = _snake_case(kind)
                key = name + (f"_{seen[name]}" if seen.get(name) else "")
                seen[name] = seen.get(name, 0) + 1
                variables = group[key]["vars"] if key in group else {}
                values = [np.asarray(variables[str(i)]) for i in range(len(variables))]
                layers.append(layer_types[kind](layer["config"], values))
    except PipelineError as error:
        raise PipelineError(f"{path}: {error}") from error
    except (OSError, KeyError, StopIteration, ValueError, zipfile.BadZipFile) as error:
        raise PipelineError(f"{path}: cannot read the {part} ({type(error).__name__}: {error})") from error
    return ExactNetwork(tuple(layers), row_length)


def load_exact_encoder(path: str) -> ExactNetwork:
    """The encoder of an autoencoder the pipeline saved (``.keras``), read without Keras."""
    return read_exact_layers(path, "encoder", LAYERS)


def check_row_length(network: ExactNetwork, row_length: int, path: str) -> None:
    """Fail in one line naming the model at ``path`` if its rows are not of ``row_length``
    values (the data set's images): it was trained on other images."""
    if network.row_length != row_length:
        raise PipelineError(f"{path}: takes rows of {network.row_length} values, but the data set's images have "
                            f"{row_length}; run `dvc repro train_autoencoder` to train it on them")


def exact_encode(encoder: ExactNetwork, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Codes of rows of the encoder's :attr:`~ExactNetwork.row_length` values, as float32,
    ``batch_size`` rows at a time (memory only: the codes do not depend on it)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != encoder.row_length:
        raise PipelineError(f"expected rows of {encoder.row_length} values (the autoencoder's images), "
                            f"got an array of shape {x.shape}")
    return encoder.outputs(x, batch_size).astype(np.float32)
