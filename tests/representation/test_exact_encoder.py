"""The encoder in exact NumPy arithmetic: TensorFlow's codes to float32 precision, and a
row's code independent of the rows, batch size and BLAS threads it is computed with."""

import math
import os
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fashion_clustering.representation.autoencoder import save_model
from fashion_clustering.errors import PipelineError
from fashion_clustering.representation.exact_encoder import (
    INPUT_BITS, IntegerKernel, check_row_length, exact_encode, exact_matmul, load_exact_encoder, scaled,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

def test_codes_agree_with_tensorflows(saved, rows):
    autoencoder, path = saved
    keras_codes = autoencoder.get_layer("encoder").predict(rows, verbose=0)
    codes = exact_encode(load_exact_encoder(str(path)), rows, batch_size=32)
    assert codes.dtype == np.float32 and codes.shape == keras_codes.shape
    np.testing.assert_allclose(codes, keras_codes, rtol=1e-4, atol=1e-5 * np.abs(keras_codes).max())


def test_a_rows_code_does_not_depend_on_the_rows_encoded_with_it(saved, rows):
    _, path = saved
    encoder = load_exact_encoder(str(path))
    together = exact_encode(encoder, rows, batch_size=64)
    alone = np.concatenate([exact_encode(encoder, rows[i:i + 1], batch_size=64) for i in range(5)])
    np.testing.assert_array_equal(alone, together[:5])
    np.testing.assert_array_equal(exact_encode(encoder, rows, batch_size=7), together)
    with threadpool_limits(1):
        np.testing.assert_array_equal(exact_encode(encoder, rows, batch_size=64), together)
    assert exact_encode(encoder, rows[:0], batch_size=8).shape == (0, together.shape[1])


def test_the_row_length_is_the_models_own(saved, rows, tmp_path):
    """The encoder takes rows as wide as the saved model's input, and refuses others in one
    line; a stage checks the data set's row length against it before encoding."""
    _, path = saved
    encoder = load_exact_encoder(str(path))
    assert encoder.row_length == rows.shape[1]
    with pytest.raises(PipelineError,
                       match=rf"^expected rows of {rows.shape[1]} values .* got an array of shape \(3, 64\)$"):
        exact_encode(encoder, rows[:3, :64], batch_size=8)
    check_row_length(encoder, rows.shape[1], str(path))
    with pytest.raises(PipelineError, match=rf"model.keras: takes rows of {rows.shape[1]} values, but the data set's "
                                            r"images have 192; run `dvc repro train_autoencoder`"):
        check_row_length(encoder, 192, str(path))


ENCODE_UNDER_KERNEL = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder
    rows = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    weights = np.random.default_rng(1).normal(size=(784, 500)).astype(np.float32)
    codes = exact_encode(load_exact_encoder(sys.argv[1]), rows, batch_size=64)
    print(hashlib.sha256(codes.tobytes()).hexdigest(), hashlib.sha256((rows @ weights).tobytes()).hexdigest())
""")
# OpenBLAS kernels for CPUs with AVX-512 (SkylakeX), with AVX2 (Haswell) and with SSE only
# (Prescott): what NumPy would run on those machines.
OPENBLAS_KERNELS = ("SkylakeX", "Haswell", "Prescott")


def test_codes_are_the_same_bytes_under_other_cpus_kernels(saved):
    _, path = saved
    hashes = [subprocess.run([sys.executable, "-c", ENCODE_UNDER_KERNEL, str(path)], check=True, text=True,
                             capture_output=True, env=dict(os.environ, OPENBLAS_CORETYPE=kernel)).stdout.split()
              for kernel in OPENBLAS_KERNELS]
    assert len({codes for codes, _ in hashes}) == 1
    assert len({plain for _, plain in hashes}) > 1  # a plain float product differs between them


def test_exact_matmul_is_the_exact_product_of_the_rounded_operands():
    rng = np.random.default_rng(1)
    # Magnitudes over many octaves, where float sums depend most on their order.
    x = (rng.normal(size=(5, 300)) * np.exp2(rng.integers(-20, 4, (5, 300)))).astype(np.float32)
    w = (rng.normal(size=(300, 4)) * np.exp2(rng.integers(-12, 2, (300, 4)))).astype(np.float32)
    kernel = IntegerKernel.of(w)
    assert np.abs(kernel.integers).sum(axis=0).max() <= 2.0 ** (53 - INPUT_BITS)
    result = exact_matmul(x, kernel)
    for i in range(5):
        exponent = INPUT_BITS - math.frexp(float(np.abs(x[i]).max()))[1]
        integers = [round(Fraction(float(v)) * 2 ** exponent) for v in x[i]]
        assert max(map(abs, integers)) <= 2 ** INPUT_BITS
        for j in range(4):
            exact = sum(a * int(b) for a, b in zip(integers, kernel.integers[:, j]))
            expected = Fraction(exact) / 2 ** (exponent + int(kernel.exponents[j]))
            assert result[i, j] == float(expected)  # no rounding but the final one
    # Any memory layout, hence any BLAS kernel and summation order, gives the same bytes.
    np.testing.assert_array_equal(exact_matmul(np.asfortranarray(x), kernel), result)
    np.testing.assert_array_equal(np.concatenate([exact_matmul(x[i:i + 1], kernel) for i in range(5)]), result)
    np.testing.assert_allclose(result, x.astype(np.float64) @ w, rtol=1e-5, atol=1e-6 * np.abs(result).max())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_scaling_by_powers_of_two_is_ldexp_to_the_bit():
    """Over float64's whole range: results that are subnormal, zero, infinite, and powers that
    are no float (where the product would differ, so ldexp itself is taken)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 30)) * np.exp2(rng.integers(-1074, 1024, (40, 30)).astype(float))
    x[:, :3] = [0.0, -0.0, np.inf]
    for low, high in ((-60, 60), (-1100, 1100), (1000, 1030)):
        rows, columns = rng.integers(low, high, 40), rng.integers(low, high, 30)
        np.testing.assert_array_equal(scaled(x, rows, columns).view(np.int64),
                                      np.ldexp(x, rows[:, None] + columns[None, :]).view(np.int64))
        np.testing.assert_array_equal(scaled(x, rows).view(np.int64), np.ldexp(x, rows[:, None]).view(np.int64))


def test_unsupported_layers_fail_naming_the_file(tmp_path, rows):
    import keras

    encoder = keras.Sequential([keras.Input((784,)), keras.layers.Dense(4, activation="tanh")], name="encoder")
    model = keras.Model(encoder.inputs, encoder(encoder.inputs), name="autoencoder")
    path = tmp_path / "tanh.keras"
    save_model(model, str(path))
    with pytest.raises(PipelineError, match="no activation 'tanh'"):
        load_exact_encoder(str(path))
    path.write_bytes(b"not a zip archive")
    with pytest.raises(PipelineError, match=f"^{path}: cannot read the encoder"):
        load_exact_encoder(str(path))
    with pytest.raises(PipelineError, match=f"^{tmp_path / 'missing.keras'}: cannot read the encoder"):
        load_exact_encoder(str(tmp_path / "missing.keras"))
