"""The trained decoder in the exact encoder's arithmetic (:mod:`.exact_encoder`), so that an
image's reconstruction, and how far it is from the image, are the same bytes alone or among
other rows, under any batch size, BLAS kernel or thread count, and on any CPU.

Products are the exact encoder's integer products and its layers are reused; what only a
decoder has is added here: 2× nearest-neighbour upsampling and the sigmoid of its last
layer. NumPy's ``exp`` is not used for the sigmoid: its SIMD and scalar versions round
differently, so its last bits would depend on the CPU. :func:`portable_exp` is made of
additions, multiplications and scalings by powers of two only, which IEEE arithmetic rounds
the same way everywhere.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Callable, Sequence

import numpy as np

from ..errors import PipelineError
from .exact_encoder import LAYERS, ExactNetwork, Layer, read_exact_layers

# Cody and Waite's split of log(2): LN2_HI has 32 significant bits, so k * LN2_HI is exact
# for every |k| < 2**21, far more than the exponents of float64 need; LN2_LO is the rest,
# from 40 digits of log(2) (float64's log(2) alone would be off by k * 1e-17).
LN2 = Decimal("0.6931471805599453094172321214581765680755")
LN2_HI = math.ldexp(round(math.ldexp(float(LN2), 32)), -32)
LN2_LO = float(LN2 - Decimal(LN2_HI))
# 1/n! for n = 12, ..., 0: Taylor's polynomial of exp on |r| <= log(2)/2, whose truncation
# error there, (log(2)/2)**13 / 13! = 1.7e-16, is within an ulp of exp(r) >= 0.7.
EXP_TAYLOR = tuple(1 / math.factorial(n) for n in range(12, -1, -1))
# Below this, exp underflows to zero in float64.
EXP_UNDERFLOW = -746.0
# float64's bits: 2**k is (k + EXPONENT_BIAS) << MANTISSA_BITS for k >= MIN_NORMAL_EXPONENT.
EXPONENT_BIAS, MANTISSA_BITS, MIN_NORMAL_EXPONENT = 1023, 52, -1022
# Values of portable_exp computed at a time (256 KiB a float64 array).
CACHE_BLOCK = 32768


def _portable_exp(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, EXP_UNDERFLOW)
    k = np.rint(x / float(LN2))
    r = (x - k * LN2_HI) - k * LN2_LO
    result = np.full_like(r, EXP_TAYLOR[0])
    for coefficient in EXP_TAYLOR[1:]:
        result *= r
        result += coefficient
    k = k.astype(np.int64)
    if k.min(initial=0) < MIN_NORMAL_EXPONENT:
        return np.ldexp(result, k)
    # 2**k built from its bits: a product by it is rounded once, as ldexp rounds, in a fifth of the time.
    return result * ((k + EXPONENT_BIAS) << MANTISSA_BITS).view(np.float64)


def portable_exp(x: np.ndarray) -> np.ndarray:
    """``exp(x)`` for ``x <= 0`` in float64 within a few ulp, the same bytes on every CPU:
    ``x = k log 2 + r``, then Taylor's polynomial of ``exp(r)`` times ``2**k``; computed
    :data:`CACHE_BLOCK` values at a time, so that the polynomial's passes stay in the cache."""
    x = np.asarray(x, np.float64)
    flat, out = x.reshape(-1), np.empty(x.size)
    for first in range(0, x.size, CACHE_BLOCK):
        out[first:first + CACHE_BLOCK] = _portable_exp(flat[first:first + CACHE_BLOCK])
    return out.reshape(x.shape)


def portable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` by :func:`portable_exp` of ``-|x|`` (which never overflows)."""
    x = np.asarray(x, np.float64)
    e = portable_exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _with_activation(kind: str) -> Callable[[dict, Sequence[np.ndarray]], Layer]:
    """The exact encoder's ``kind`` layer, also with a sigmoid activation (decoders end so)."""
    def build(config: dict, weights: Sequence[np.ndarray]) -> Layer:
        if config["activation"] != "sigmoid":
            return LAYERS[kind](config, weights)
        linear = LAYERS[kind]({**config, "activation": "linear"}, weights)
        return lambda x: portable_sigmoid(linear(x))
    return build


def _up_sampling(config: dict, weights: Sequence[np.ndarray]) -> Layer:
    rows, columns = config["size"]
    if config["interpolation"] != "nearest" or config["data_format"] != "channels_last":
        raise PipelineError(f"the exact decoder has no upsampling like {config['name']!r}: it takes "
                            "nearest-neighbour interpolation, channels last")
    return lambda x: x.repeat(rows, axis=1).repeat(columns, axis=2)


DECODER_LAYERS = {**LAYERS, "Dense": _with_activation("Dense"), "Conv2D": _with_activation("Conv2D"),
                  "UpSampling2D": _up_sampling}


ExactDecoder = ExactNetwork  # what a decoder is, to the code that takes one


def load_exact_decoder(path: str) -> ExactNetwork:
    """The decoder of an autoencoder the pipeline saved (``.keras``), read without Keras."""
    return read_exact_layers(path, "decoder", DECODER_LAYERS)


def exact_decode(decoder: ExactNetwork, codes: np.ndarray, batch_size: int) -> np.ndarray:
    """Reconstructions (float64 rows of the autoencoder's images) of codes, ``batch_size`` rows at a time
    (memory only: a row's reconstruction does not depend on it)."""
    return decoder.outputs(np.asarray(codes), batch_size)
