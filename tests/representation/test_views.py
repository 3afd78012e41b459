"""Consistency between augmented views: the augmenter, the NT-Xent loss, and training with it."""

import dataclasses
import math

import numpy as np
import pytest

from fashion_clustering.representation.autoencoder import (
    AutoencoderConfig, TrainingConfig, build_autoencoder, encode, save_model, seed_everything,
    train_autoencoder,
)
from fashion_clustering.errors import PipelineError
from fashion_clustering.params import Section
from fashion_clustering.representation.views import ViewsConfig, build_augmenter, nt_xent
from helpers import FASHION_SHAPE

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SMALL_DENSE = AutoencoderConfig("dense", latent_dim=4, dense_units=[32], conv_filters=[32])
TWO_EPOCHS = TrainingConfig(epochs=2, batch_size=16, learning_rate=1e-3,
                            early_stopping_patience=None, seed=0)
VIEWS = ViewsConfig(weight=1.0, temperature=0.5, projection_dim=8, shift=0.1, zoom=0.1,
                    flip=True, contrast=0.3)
OFF = dataclasses.replace(VIEWS, weight=0.0)


@pytest.fixture(scope="module")
def images():
    """48 training and 16 validation rows: a bright square at a random place on black."""
    rng = np.random.default_rng(0)
    x = np.zeros((64, 28, 28), dtype=np.float32)
    for image, (row, col) in zip(x, rng.integers(4, 18, size=(64, 2))):
        image[row:row + 8, col:col + 8] = 1
    x = x.reshape(64, 784)
    return x[:48], x[48:]


def test_params_section_is_validated():
    values = {"weight": 0.1, "temperature": 0.5, "projection_dim": 8, "shift": 0.1, "zoom": 0.0,
              "flip": False, "contrast": 0.3}
    config = ViewsConfig.from_params(Section(values, "train_autoencoder.views"))
    assert config == ViewsConfig(0.1, 0.5, 8, 0.1, 0.0, False, 0.3) and config.enabled
    assert not dataclasses.replace(config, weight=0.0).enabled
    with pytest.raises(PipelineError, match=r"train_autoencoder\.views\.temperature must be a number in \(0"):
        ViewsConfig.from_params(Section(values | {"temperature": 0}, "train_autoencoder.views"))


def test_augmenter_changes_images_only_when_training(images):
    x = images[0][:8]
    augmenter = build_augmenter(VIEWS, FASHION_SHAPE)
    np.testing.assert_array_equal(np.asarray(augmenter(x, training=False)), x)
    view = np.asarray(augmenter(x, training=True))
    assert view.shape == x.shape and not np.allclose(view, x)
    assert view.min() >= 0 and view.max() <= 1


def test_nt_xent_matches_its_formula():
    # Identical, mutually orthogonal views: each row's positive has similarity 1, its 2n - 2
    # negatives 0, so the loss is -log(e^(1/T) / (e^(1/T) + 2n - 2)).
    z = np.eye(4, dtype=np.float32)
    temperature = 0.5
    expected = -math.log(math.exp(1 / temperature) / (math.exp(1 / temperature) + 6))
    assert float(nt_xent(z, z, temperature)) == pytest.approx(expected, rel=1e-5)
    # Views that disagree cost more than views that agree.
    assert float(nt_xent(z, z[::-1], temperature)) > expected


def codes_after_training(views, images):
    import keras

    keras.backend.clear_session()
    seed_everything(0)
    autoencoder, encoder = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    history = train_autoencoder(autoencoder, *images, TWO_EPOCHS, [], views, FASHION_SHAPE)
    return autoencoder, encode(encoder, np.vstack(images), 16), history


def test_views_change_the_training_and_the_codes(images):
    _, plain, plain_history = codes_after_training(OFF, images)
    _, consistent, history = codes_after_training(VIEWS, images)
    # The contrastive term is part of the training loss (log(2n - 1) ~ 3.4 for a batch of 16
    # at the start), not of the validation loss, which stays the reconstruction MSE.
    assert history["loss"][0] > 1 > plain_history["loss"][0]
    assert history["val_loss"][0] < 1
    assert not np.allclose(plain, consistent)


def test_views_training_is_byte_stable(images, tmp_path):
    paths = [tmp_path / "first.keras", tmp_path / "again.keras"]
    codes = []
    for path in paths:
        autoencoder, code, _ = codes_after_training(VIEWS, images)
        save_model(autoencoder, str(path))
        codes.append(code)
    np.testing.assert_array_equal(*codes)
    assert paths[0].read_bytes() == paths[1].read_bytes()
