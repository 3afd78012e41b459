"""The decoder in exact NumPy arithmetic: TensorFlow's reconstructions to float32
precision, a row's reconstruction independent of the rows beside it, and an exponential
whose bytes do not depend on the CPU."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fashion_clustering.errors import PipelineError
from fashion_clustering.representation.exact_decoder import (
    CACHE_BLOCK, DECODER_LAYERS, exact_decode, load_exact_decoder, portable_exp, portable_sigmoid,
)
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def test_reconstructions_agree_with_tensorflows(saved, rows):
    autoencoder, path = saved
    codes = exact_encode(load_exact_encoder(str(path)), rows, batch_size=32)
    mine = exact_decode(load_exact_decoder(str(path)), codes, batch_size=32)
    keras_reconstructions = autoencoder.get_layer("decoder").predict(codes, verbose=0)
    assert mine.shape == (len(rows), 784) and mine.dtype == np.float64
    np.testing.assert_allclose(mine, keras_reconstructions, atol=1e-5)


def test_a_rows_reconstruction_does_not_depend_on_the_rows_decoded_with_it(saved, rows):
    _, path = saved
    decoder = load_exact_decoder(str(path))
    codes = exact_encode(load_exact_encoder(str(path)), rows, batch_size=64)
    together = exact_decode(decoder, codes, batch_size=64)
    alone = np.concatenate([exact_decode(decoder, codes[i:i + 1], batch_size=64) for i in range(5)])
    np.testing.assert_array_equal(alone, together[:5])
    np.testing.assert_array_equal(exact_decode(decoder, codes, batch_size=7), together)
    assert exact_decode(decoder, codes[:0], batch_size=8).shape == (0, 784)


def ulps_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_portable_exp_is_within_a_few_ulp_of_the_exponential():
    x = -np.concatenate([np.linspace(0, 1, 1001), np.linspace(1, 700, 1001), [1e-300, 5e-324]])
    exact = np.array([math.exp(v) for v in x])
    assert ulps_apart(portable_exp(x), exact).max() <= 4
    # Underflow to subnormals and to zero, as IEEE's exp does.
    np.testing.assert_array_equal(portable_exp(np.array([-745.0, -746.0, -1e6, -np.inf])), [5e-324, 0, 0, 0])


def test_a_values_portable_exp_does_not_depend_on_the_values_beside_it():
    """Computed in blocks, with 2**k from its bits where it is a normal float and by ldexp
    where not (results near and below the smallest normal float): the same bytes as each
    value alone."""
    rng = np.random.default_rng(0)
    x = -np.concatenate([rng.random(CACHE_BLOCK) * 40, 700 + rng.random(3000) * 50, [0.0, 745.5, 800.0, 1.0]])
    rng.shuffle(x)
    together = portable_exp(x.reshape(-1, 4))
    alone = np.array([portable_exp(np.array([v]))[0] for v in x[::11]])
    np.testing.assert_array_equal(together.reshape(-1)[::11].view(np.int64), alone.view(np.int64))
    assert (alone < np.finfo(np.float64).tiny).any() and (alone > 0.01).any()  # both ways of 2**k were taken


def test_portable_sigmoid_never_overflows_and_is_symmetric():
    x = np.array([-1e6, -40.0, -3.0, -1e-9, 0.0, 1e-9, 3.0, 40.0, 1e6])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is right
        y = portable_sigmoid(x)
    expected = [0.0, *(1 / (1 + math.exp(-v)) for v in x[1:-1]), 1.0]
    np.testing.assert_allclose(y, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(y + portable_sigmoid(-x), 1.0, rtol=1e-15)


# What a process computes under environment variables that pick other CPUs' code paths.
EXP_UNDER_ENVIRONMENT = textwrap.dedent("""
    import hashlib
    import numpy as np
    from fashion_clustering.representation.exact_decoder import portable_exp
    x = -np.random.default_rng(0).random(10_000) * 30
    print(hashlib.sha256(portable_exp(x).tobytes()).hexdigest(), hashlib.sha256(np.exp(x).tobytes()).hexdigest())
""")


def test_portable_exp_is_the_same_bytes_without_avx512():
    """NumPy runs its AVX-512 exponential where the CPU has it and another one where not:
    their last bits differ, not those of :func:`portable_exp`."""
    from numpy._core._multiarray_umath import __cpu_features__

    if not __cpu_features__.get("X86_V4"):
        pytest.skip("this CPU has no AVX-512: NumPy runs the same exponential either way")
    hashes = [subprocess.run([sys.executable, "-c", EXP_UNDER_ENVIRONMENT], check=True, text=True, capture_output=True,
                             env=dict(os.environ, NPY_DISABLE_CPU_FEATURES=disabled)).stdout.split()
              for disabled in ("", "X86_V4")]
    assert len({portable for portable, _ in hashes}) == 1
    assert len({numpy for _, numpy in hashes}) > 1, "NumPy's exp was the same on both paths: nothing was tested"


def test_unsupported_upsampling_fails_naming_the_layer():
    config = {"name": "up", "size": [2, 2], "interpolation": "bilinear", "data_format": "channels_last"}
    with pytest.raises(PipelineError, match="no upsampling like 'up'"):
        DECODER_LAYERS["UpSampling2D"](config, [])


def test_unreadable_model_fails_naming_the_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(PipelineError, match=f"^{path}: cannot read the decoder"):
        load_exact_decoder(str(path))
