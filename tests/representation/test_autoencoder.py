"""Keras autoencoders: shapes, training, byte-stable saving and seeded determinism.

Small models on a few random rows: a few seconds besides importing TensorFlow.
"""

import dataclasses
import math
import os
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

from fashion_clustering.representation.autoencoder import (
    AutoencoderConfig, SmallCollectionConfig, TrainingConfig, build_autoencoder, encode, for_collection,
    load_autoencoder, save_model, seed_everything, train_autoencoder, training_budget,
)
from fashion_clustering.errors import PipelineError
from fashion_clustering.params import Section
from helpers import FASHION_SHAPE

# Keras' own numpy-2 deprecation noise, not this project's.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SMALL_DENSE = AutoencoderConfig("dense", latent_dim=10, dense_units=[64, 32], conv_filters=[32])
ONE_EPOCH = TrainingConfig(epochs=1, batch_size=16, learning_rate=1e-3,
                           early_stopping_patience=None, seed=0)


@pytest.fixture(scope="module")
def rows():
    """64 random pixel rows in [0, 1]: 48 for training, 16 for validation."""
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    return x[:48], x[48:]


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def test_dense_shapes_and_size():
    autoencoder, encoder = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    assert encoder.output_shape == (None, 10)
    assert autoencoder.input_shape == autoencoder.output_shape == (None, 784)
    assert autoencoder.get_layer("encoder") is encoder
    # 784-64-32-10 and back: (784*64+64) + (64*32+32) + (32*10+10) + (10*32+32) + ... + (64*784+784)
    assert autoencoder.count_params() == 106_074


def test_conv_without_latent_dim_codes_the_last_feature_map():
    config = AutoencoderConfig("conv", latent_dim=None, dense_units=[500], conv_filters=[32, 64, 128])
    autoencoder, encoder = build_autoencoder(config, FASHION_SHAPE)
    assert encoder.output_shape == (None, 7 * 7 * 128)
    assert autoencoder.output_shape == (None, 784)
    assert autoencoder.count_params() == 186_497


def test_conv_with_latent_dim():
    config = AutoencoderConfig("conv", latent_dim=8, dense_units=[500], conv_filters=[32, 64, 128])
    autoencoder, encoder = build_autoencoder(config, FASHION_SHAPE)
    assert encoder.output_shape == (None, 8)
    assert autoencoder.output_shape == (None, 784)
    # The 186,497 of the plain conv net plus 6272 -> 8 in the encoder and 8 -> 6272 in the decoder.
    assert autoencoder.count_params() == 186_497 + (6272 * 8 + 8) + (8 * 6272 + 6272)


@pytest.mark.parametrize(
    "values, match",
    [
        ({"architecture": "rnn"}, r"train_autoencoder\.architecture must be one of 'conv', 'dense', got 'rnn'"),
        ({"latent_dim": None}, r"train_autoencoder\.latent_dim must be an integer >= 1 for the dense"),
    ],
    ids=["unknown-architecture", "dense-without-latent"],
)
def test_bad_architecture_is_named_where_the_params_are_read(values, match):
    good = {"architecture": "dense", "latent_dim": 10, "dense_units": [64], "conv_filters": [32],
            "input_noise": 0.0}
    with pytest.raises(PipelineError, match=match):
        AutoencoderConfig.from_params(Section(good | values, "train_autoencoder"))


@pytest.mark.parametrize("filters, shape", [([8, 16, 32, 64], FASHION_SHAPE), ([4, 8, 8], (10, 12, 1)),
                                            ([4, 8], (8, 9, 3))])
def test_conv_refuses_images_its_poolings_do_not_halve(filters, shape):
    """Each pooling halves the height and width: images that do not divide are refused in one
    line naming the architecture, not padded inside the model."""
    config = AutoencoderConfig("conv", latent_dim=4, dense_units=[8], conv_filters=filters)
    pools = len(filters) - 1
    with pytest.raises(PipelineError, match=rf"^params\.yaml: train_autoencoder\.architecture conv pools {pools} "
                                            rf"times by 2 .* must divide by {2 ** pools}; they are {shape[0]}×{shape[1]}"):
        build_autoencoder(config, shape)


@pytest.mark.parametrize("architecture, shape", [("dense", (8, 8, 1)), ("dense", (6, 10, 3)),
                                                 ("conv", (8, 8, 1)), ("conv", (8, 12, 3))])
def test_models_take_the_images_shape(architecture, shape):
    """Rows of height × width × channels values in, the same out, for any shape the data has."""
    config = AutoencoderConfig(architecture, latent_dim=3, dense_units=[16], conv_filters=[4, 8, 8])
    autoencoder, encoder = build_autoencoder(config, shape)
    row_length = shape[0] * shape[1] * shape[2]
    assert autoencoder.input_shape == autoencoder.output_shape == (None, row_length)
    assert encoder.output_shape == (None, 3)
    rows = np.random.default_rng(0).random((5, row_length), dtype=np.float32)
    assert autoencoder.predict(rows, verbose=0).shape == (5, row_length)


@pytest.mark.parametrize("n_train, epochs, batch_size", [
    (48_000, 20, 256),  # the default data set: 20 epochs of 188 batches are the floor's 3,760 steps
    (1_150, 752, 256),  # 5 batches an epoch: ceil(3,760 / 5) epochs
    (100, 3_760, 100),  # one batch of every row
])
def test_training_budget(n_train, epochs, batch_size):
    config = TrainingConfig(20, 256, 1e-3, None, 0, min_steps=3_760)
    budget = training_budget(config, n_train)
    assert (budget.epochs, budget.batch_size) == (epochs, batch_size)
    assert budget.epochs * math.ceil(n_train / budget.batch_size) >= config.min_steps
    if n_train == 48_000:
        assert budget == config  # the same config: the default run's training does not change


@pytest.mark.parametrize("n_train, configured, noise", [
    (48_000, 0.0, 0.0),  # Fashion-MNIST: the configured autoencoder, unchanged
    (10_000, 0.0, 0.0),  # not fewer than small_collection.images
    (9_999, 0.0, 0.2),   # a small collection: denoising
    (1_149, 0.3, 0.3),   # more noise configured: kept
])
def test_a_small_collection_trains_a_denoising_autoencoder(n_train, configured, noise):
    config = dataclasses.replace(SMALL_DENSE, input_noise=configured)
    fitted = for_collection(config, SmallCollectionConfig(images=10_000, input_noise=0.2), n_train)
    assert fitted == dataclasses.replace(config, input_noise=noise)
    autoencoder, _ = build_autoencoder(fitted, FASHION_SHAPE)
    noise_layers = [layer for layer in autoencoder.get_layer("encoder").layers if "GaussianNoise" in type(layer).__name__]
    assert [layer.stddev for layer in noise_layers] == ([noise] if noise else [])


def reconstruction_mse(autoencoder, x):
    return float(np.mean((autoencoder.predict(x, verbose=0) - x) ** 2))


def test_one_epoch_history(rows):
    x_train, x_val = rows
    seed_everything(0)
    autoencoder, _ = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    history = train_autoencoder(autoencoder, x_train, x_val, ONE_EPOCH, [])
    assert {"loss", "val_loss"} <= set(history)
    assert len(history["loss"]) == len(history["val_loss"]) == 1
    # The loss is the mean squared error of reconstructing the input, measured on val.
    assert history["val_loss"][0] == pytest.approx(reconstruction_mse(autoencoder, x_val), rel=1e-5)


@pytest.fixture(scope="module")
def early_stopped(rows):
    """``(autoencoder, history, callbacks)`` after training with patience 1 for up to 30 epochs.

    Random rows cannot be reconstructed better than their mean: val_loss stops improving
    within a few epochs, and with patience 1 training must stop long before epoch 30.
    """
    x_train, x_val = rows
    seed_everything(0)
    autoencoder, _ = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    config = TrainingConfig(epochs=30, batch_size=48, learning_rate=0.05,
                            early_stopping_patience=1, seed=0)
    callbacks = []
    history = train_autoencoder(autoencoder, x_train, x_val, config, callbacks)
    return autoencoder, history, callbacks


def test_early_stopping_limits_epochs(early_stopped):
    _, history, _ = early_stopped
    assert len(history["loss"]) < 30


def test_early_stopping_restores_the_best_weights(early_stopped, rows):
    autoencoder, history, _ = early_stopped
    val_loss = history["val_loss"]
    assert min(val_loss) < val_loss[-1]  # stopped after an epoch that made things worse
    assert reconstruction_mse(autoencoder, rows[1]) == pytest.approx(min(val_loss), rel=1e-5)


def test_early_stopping_is_not_added_to_the_callers_list(early_stopped):
    _, _, callbacks = early_stopped
    assert callbacks == []


SMALL_CONV = AutoencoderConfig("conv", latent_dim=6, dense_units=[32], conv_filters=[4, 8])
DENOISING = dataclasses.replace(SMALL_DENSE, input_noise=0.3)


@pytest.fixture(scope="module", params=[SMALL_DENSE, SMALL_CONV, DENOISING],
                ids=["dense", "conv", "denoising"])
def trained(request, rows):
    """``(autoencoder, encoder)`` trained for one epoch, for each kind of model."""
    x_train, x_val = rows
    seed_everything(1)
    autoencoder, encoder = build_autoencoder(request.param, FASHION_SHAPE)
    train_autoencoder(autoencoder, x_train, x_val, ONE_EPOCH, [])
    return autoencoder, encoder


def test_save_model_is_byte_stable(tmp_path, trained):
    autoencoder, _ = trained
    first, second = tmp_path / "a.keras", tmp_path / "models" / "b.keras"
    save_model(autoencoder, str(first))
    time.sleep(1.1)  # a save date or zip timestamp would differ now
    save_model(autoencoder, str(second))
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert "date_saved" not in archive.read("metadata.json").decode()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_loaded_encoder_gives_the_same_codes(tmp_path, rows, trained):
    """Whatever the model: the conv net's batch-normalization statistics and the denoising
    net's noise layer (a no-op when encoding) survive saving and loading."""
    import keras

    autoencoder, encoder = trained
    for norm in (layer for layer in encoder.layers if isinstance(layer, keras.layers.BatchNormalization)):
        # Training moved the statistics off their initial values, so losing them would show.
        assert np.any(np.array(norm.moving_mean) != 0) and np.any(np.array(norm.moving_variance) != 1)
    path = tmp_path / "model.keras"
    save_model(autoencoder, str(path))
    loaded = load_autoencoder(str(path)).get_layer("encoder")
    x = np.vstack(rows)
    codes = encode(encoder, x, batch_size=32)
    assert codes.shape == (64, encoder.output_shape[1]) and codes.dtype == np.float32
    np.testing.assert_array_equal(encode(loaded, x, batch_size=32), codes)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in encoder.layers]
    for original, reloaded in zip(weights_of(encoder), weights_of(loaded), strict=True):
        np.testing.assert_array_equal(reloaded, original)  # moving statistics included


@pytest.mark.parametrize("content", [None, b"not a zip archive"], ids=["missing", "not-a-zip"])
def test_load_autoencoder_bad_file(tmp_path, content):
    path = tmp_path / "model.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PipelineError, match="cannot load the autoencoder") as info:
        load_autoencoder(str(path))
    assert str(path) in str(info.value)


def train_from_seed(seed, rows):
    """As in a fresh run of the stage: clear_session resets Keras' automatic layer names."""
    import keras

    keras.backend.clear_session()
    x_train, x_val = rows
    seed_everything(seed)
    autoencoder, _ = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    train_autoencoder(autoencoder, x_train, x_val, ONE_EPOCH, [])
    return autoencoder


@pytest.fixture(scope="module")
def seeded_models(rows):
    """Three separately built and trained autoencoders, from seeds 7, 7 and 8."""
    return [train_from_seed(seed, rows) for seed in (7, 7, 8)]


def test_same_seed_same_weights(seeded_models):
    first, again, other = (weights_of(model) for model in seeded_models)
    assert len(first) == len(again) == 12  # kernel and bias of 6 dense layers
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_same_seed_same_saved_bytes(tmp_path, seeded_models):
    """Distinct model objects (as in two runs of the stage) with equal weights save equally."""
    paths = [tmp_path / f"{name}.keras" for name in ("first", "again", "other")]
    for model, path in zip(seeded_models, paths):
        save_model(model, str(path))
    first, again, other = (path.read_bytes() for path in paths)
    assert first == again
    assert first != other


def test_input_noise_corrupts_training_inputs_only():
    seed_everything(0)
    noisy = dataclasses.replace(SMALL_DENSE, input_noise=0.5)
    autoencoder, encoder = build_autoencoder(noisy, FASHION_SHAPE)
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    assert any(layer.__class__.__name__ == "GaussianNoise" for layer in encoder.layers)
    np.testing.assert_array_equal(encode(encoder, x, 8), encode(encoder, x, 8))
    assert not np.allclose(encoder(x, training=True), encoder(x, training=False))


def train_with_schedule(schedule, rows, seed=0):
    """A freshly built autoencoder trained for two epochs of three batches, and its weight
    change in the last epoch."""
    import keras

    keras.backend.clear_session()
    x_train, x_val = rows
    seed_everything(seed)
    autoencoder, _ = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    config = dataclasses.replace(ONE_EPOCH, epochs=2, learning_rate_schedule=schedule)
    snapshots = []
    keep = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: snapshots.append(weights_of(autoencoder)))
    train_autoencoder(autoencoder, x_train, x_val, config, [keep])
    last_step = sum(float(np.abs(b - a).sum()) for a, b in zip(*snapshots))
    return autoencoder, last_step


@pytest.fixture(scope="module")
def scheduled(rows):
    return {schedule: train_with_schedule(schedule, rows) for schedule in ("constant", "cosine")}


def test_cosine_schedule_decays_the_learning_rate_to_zero(scheduled):
    (constant, constant_step), (cosine, cosine_step) = scheduled["constant"], scheduled["cosine"]
    assert float(constant.optimizer.learning_rate) == pytest.approx(ONE_EPOCH.learning_rate)
    assert float(cosine.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-12)
    # Its second epoch runs at a quarter of the rate on average, so the weights move less.
    assert cosine_step < 0.5 * constant_step
    assert not all(np.array_equal(a, b) for a, b in zip(weights_of(constant), weights_of(cosine)))


def test_cosine_schedule_is_seeded(tmp_path, rows, scheduled):
    again, _ = train_with_schedule("cosine", rows)
    paths = [tmp_path / "first.keras", tmp_path / "again.keras"]
    for model, path in zip((scheduled["cosine"][0], again), paths):
        save_model(model, str(path))
    assert paths[0].read_bytes() == paths[1].read_bytes()


TRAIN_ON_ROWS = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    if sys.argv[1:] == ["unpinned"]:  # imported first, TensorFlow keeps its own pool sizes
        import tensorflow
    from fashion_clustering.representation.autoencoder import (
        AutoencoderConfig, TrainingConfig, build_autoencoder, seed_everything, train_autoencoder)

    threads = [int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("threads=")]
    seed_everything(0, *threads)
    autoencoder, _ = build_autoencoder(AutoencoderConfig("dense", 10, [500, 500, 2000], [8]), (28, 28, 1))
    x = np.random.default_rng(0).random((4000, 784), dtype=np.float32)
    train_autoencoder(autoencoder, x[:3500], x[3500:], TrainingConfig(1, 256, 1e-3, None, 0), [])
    print(hashlib.md5(b"".join(w.tobytes() for w in autoencoder.get_weights())).hexdigest())
""")


def trained_weights_digest(cpus: set[int], *args: str) -> str:
    """MD5 of the weights after one epoch of the full-size dense autoencoder on 3,500 rows
    (enough that TensorFlow's split of the work shows in the result), trained by a process
    restricted to ``cpus``."""
    result = subprocess.run([sys.executable, "-c", TRAIN_ON_ROWS, *args], capture_output=True,
                            text=True, timeout=300, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[-1]


def test_training_does_not_depend_on_the_cpus_it_may_use():
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.fail("this test needs two CPUs: it compares a run on one with a run on two")
    one, two = {cpus[0]}, set(cpus[:2])
    assert trained_weights_digest(one) == trained_weights_digest(two)
    # What the fixed pools guard against: TensorFlow sizing them by the CPUs.
    assert trained_weights_digest(one, "unpinned") != trained_weights_digest(two, "unpinned")


def test_the_thread_count_decides_the_model_not_the_cpus():
    """``train_autoencoder.threads``: one thread on two CPUs trains what one thread trains on
    one CPU, and another model than the default two threads."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.fail("this test needs two CPUs: it compares a run on one with a run on two")
    one_thread = trained_weights_digest(set(cpus[:2]), "threads=1")
    assert one_thread == trained_weights_digest({cpus[0]}, "threads=1")
    assert one_thread != trained_weights_digest(set(cpus[:2]), "threads=2")


TRAIN_ONE_EPOCH = textwrap.dedent("""
    import numpy as np
    from fashion_clustering.representation.autoencoder import (
        AutoencoderConfig, TrainingConfig, build_autoencoder, seed_everything, train_autoencoder)

    seed_everything(0)
    autoencoder, _ = build_autoencoder(AutoencoderConfig("dense", 2, [8], [8]), (28, 28, 1))
    x = np.random.default_rng(0).random((32, 784), dtype=np.float32)
    train_autoencoder(autoencoder, x, x, TrainingConfig(1, 16, 1e-3, None, 0), [])
""")


@pytest.mark.parametrize("show", [False, True])
def test_tensorflow_log_lines_only_on_request(show):
    """TensorFlow's C++ lines (absl's start-up warning, oneDNN notices, E0000 graph lines) are
    hidden; FASHION_CLUSTERING_TF_LOG=1 shows them. Keras' epoch lines always show."""
    env = {k: v for k, v in os.environ.items() if k not in ("FASHION_CLUSTERING_TF_LOG", "TF_CPP_MIN_LOG_LEVEL")}
    if show:
        env["FASHION_CLUSTERING_TF_LOG"] = "1"
    result = subprocess.run([sys.executable, "-c", TRAIN_ONE_EPOCH], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "loss:" in result.stdout
    if show:
        assert "absl::InitializeLog" in result.stderr
    else:
        assert result.stderr == ""
