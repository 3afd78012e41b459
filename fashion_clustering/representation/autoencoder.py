"""Keras 3 autoencoders whose encoder gives the codes the clusterers work on.

Every model takes flattened rows of ``height × width × channels`` values (the data set's
description, :mod:`..data.description`), so the data files do not depend on the
architecture:

- ``dense``: the row → hidden units (ReLU) → linear code of ``latent_dim``, mirrored back
  (N2D/DEC's 500-500-2000 hidden layers and a code of 10 by default).
- ``conv``: 3×3 convolutions with batch normalization and 2× max-pooling
  (the original course report's 32-64-128 network), mirrored with upsampling; with
  ``latent_dim`` null the code is the flattened last feature map, otherwise a dense layer maps it to ``latent_dim`` values. Its
  poolings halve the height and width, so both must divide by 2 per pooling: images that do
  not are refused in one line naming ``train_autoencoder.architecture`` (pad or fit them with
  ``fetch.source.image_size``, or take ``dense``), rather than padded inside the model,
  which would make the exact encoder and decoder learn a padding and a cropping layer.

The training budget carries to a collection of another size: ``batch_size`` is at most the
training rows, and ``min_steps`` is a floor on the gradient steps, so that a small collection
trains for more epochs (:func:`training_budget`); the committed floor is below the committed
epochs' steps on the default data set, whose run it leaves as it was (docs/own_images.md). A
collection of fewer than ``small_collection.images`` training images trains as a denoising
autoencoder (:func:`for_collection`), which Fashion-MNIST's 48,000 do not.

Training uses Adam on the mean squared error; with ``learning_rate_schedule: cosine`` its
step size decays from ``learning_rate`` to zero over the run (cosine decay), so that the
last epochs settle the weights instead of jittering around them.

With ``input_noise`` > 0 the autoencoder is denoising: Gaussian noise of that standard
deviation is added to its input while training (never when encoding), and it learns to
reconstruct the clean image.

TensorFlow is imported on first use, with its C++ start-up banners hidden (see
:mod:`..quiet_tensorflow`).
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import zipfile
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..errors import PipelineError
from ..files import package_versions, warn_if_made_elsewhere, write_zip
from ..params import Settings, setting
from ..quiet_tensorflow import TF_THREADS, import_tensorflow
from .views import ViewsConfig, view_consistent

log = logging.getLogger(__name__)

ARCHITECTURES = ("dense", "conv")
LEARNING_RATE_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class AutoencoderConfig(Settings):
    """The autoencoder's architecture, from the train_autoencoder section."""

    architecture: str = setting("choice", options=ARCHITECTURES)
    latent_dim: int | None = setting("integer", minimum=1, optional=True)
    dense_units: Sequence[int] = setting("integers")
    conv_filters: Sequence[int] = setting("integers")
    input_noise: float = setting("number", 0.0, minimum=0)

    def __post_init__(self) -> None:
        """What the architecture needs of the other settings (checked here, the one place
        every model is built from)."""
        if self.architecture == "dense" and self.latent_dim is None:
            raise PipelineError("params.yaml: train_autoencoder.latent_dim must be an integer >= 1 "
                                "for the dense architecture, got None")


@dataclass(frozen=True)
class TrainingConfig(Settings):
    """How the autoencoder is trained, from the train_autoencoder section."""

    epochs: int = setting("integer", minimum=1)
    batch_size: int = setting("integer", minimum=1)
    learning_rate: float = setting("number", minimum=0, exclusive=True)
    early_stopping_patience: int | None = setting("integer", minimum=1, optional=True)
    seed: int = setting("integer", minimum=0)
    learning_rate_schedule: str = setting("choice", "constant", options=LEARNING_RATE_SCHEDULES)
    # TensorFlow's pools; None: every CPU the process may use
    threads: int | None = setting("integer", TF_THREADS, minimum=1, optional=True)
    # the fewest gradient steps of a run: more epochs on a small collection
    min_steps: int = setting("integer", 0, minimum=0)


def training_budget(config: TrainingConfig, n_train: int) -> TrainingConfig:
    """``config`` for ``n_train`` training rows: batches of at most ``n_train`` rows, and
    enough epochs for ``min_steps`` batches; the same config where it has both already."""
    batch_size = max(1, min(config.batch_size, n_train))
    epochs = max(config.epochs, math.ceil(config.min_steps / math.ceil(n_train / batch_size)))
    if (epochs, batch_size) != (config.epochs, config.batch_size):
        log.info("training budget for %d images: %d epochs of batches of %d (train_autoencoder.epochs %d, "
                 "batch_size %d, min_steps %d)", n_train, epochs, batch_size, config.epochs, config.batch_size,
                 config.min_steps)
    return replace(config, epochs=epochs, batch_size=batch_size)


@dataclass(frozen=True)
class SmallCollectionConfig(Settings):
    """The train_autoencoder.small_collection section: the noise a collection of few images
    trains with."""

    images: int = setting("integer", minimum=0)  # fewer training images than this: a small collection
    input_noise: float = setting("number", minimum=0)  # its input_noise, at least


def for_collection(config: AutoencoderConfig, small: SmallCollectionConfig, n_train: int) -> AutoencoderConfig:
    """``config`` for ``n_train`` training images: a small collection's autoencoder is a
    denoising one, with at least ``small.input_noise``; the same config for any other.

    Over the many epochs ``min_steps`` gives a small collection, a model of millions of
    weights learns its few images by heart (the digits' 1,149: a training loss far below the
    validation loss); the noise makes every pass over them a new one (docs/own_images.md)."""
    if n_train >= small.images or config.input_noise >= small.input_noise:
        return config
    log.info("a small collection (%d training images, fewer than train_autoencoder.small_collection.images %d): "
             "input noise %g", n_train, small.images, small.input_noise)
    return replace(config, input_noise=small.input_noise)


def _keras():
    """Keras, with TensorFlow imported quietly (see :mod:`..quiet_tensorflow`)."""
    import_tensorflow()
    import keras

    return keras


def seed_everything(seed: int, threads: int = TF_THREADS) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic; if
    TensorFlow is not imported yet, with pools of ``threads`` threads."""
    import_tensorflow(threads)
    keras = _keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _dense_coders(config: AutoencoderConfig, image_shape: tuple[int, int, int]):
    layers = _keras().layers

    encoder_layers = [layers.Dense(units, activation="relu") for units in config.dense_units]
    encoder_layers.append(layers.Dense(config.latent_dim, name="code"))
    decoder_layers = [layers.Dense(units, activation="relu") for units in reversed(config.dense_units)]
    decoder_layers.append(layers.Dense(math.prod(image_shape), activation="sigmoid"))
    return encoder_layers, decoder_layers, (config.latent_dim,)


def _conv_coders(config: AutoencoderConfig, image_shape: tuple[int, int, int]):
    layers = _keras().layers

    def conv_block(filters: int) -> list:
        return [layers.Conv2D(filters, 3, padding="same", activation="relu"),
                layers.BatchNormalization()]

    filters = list(config.conv_filters)
    n_pools = len(filters) - 1
    height, width, channels = image_shape
    if height % 2 ** n_pools or width % 2 ** n_pools:
        raise PipelineError(
            f"params.yaml: train_autoencoder.architecture conv pools {n_pools} times by 2 (conv_filters has "
            f"{len(filters)} entries), so the images' height and width must divide by {2 ** n_pools}; they are "
            f"{height}×{width}: take dense, fewer conv_filters, or fetch.source.image_size")
    rows, columns = height // 2 ** n_pools, width // 2 ** n_pools
    encoder_layers = [layers.Reshape(image_shape)]
    for i, f in enumerate(filters):
        encoder_layers += conv_block(f)
        if i < n_pools:
            encoder_layers.append(layers.MaxPooling2D(2))
    encoder_layers.append(layers.Flatten())
    decoder_layers = []
    if config.latent_dim is not None:
        encoder_layers.append(layers.Dense(config.latent_dim, name="code"))
        decoder_layers += [layers.Dense(rows * columns * filters[-1], activation="relu")]
    decoder_layers.append(layers.Reshape((rows, columns, filters[-1])))
    for f in reversed(filters[:-1]):
        decoder_layers += conv_block(f)
        decoder_layers.append(layers.UpSampling2D(2))
    decoder_layers += [layers.Conv2D(channels, 3, padding="same", activation="sigmoid"),
                       layers.Flatten()]
    code_shape = (config.latent_dim or rows * columns * filters[-1],)
    return encoder_layers, decoder_layers, code_shape


def build_autoencoder(config: AutoencoderConfig, image_shape: tuple[int, int, int]):
    """Return ``(autoencoder, encoder)`` for rows of images of ``image_shape`` (height, width,
    channels); the encoder is the autoencoder's ``encoder`` layer."""
    keras = _keras()

    build = _dense_coders if config.architecture == "dense" else _conv_coders
    encoder_layers, decoder_layers, code_shape = build(config, tuple(image_shape))
    if config.input_noise > 0:
        encoder_layers.insert(0, keras.layers.GaussianNoise(config.input_noise))
    row_length = math.prod(image_shape)
    encoder = keras.Sequential([keras.Input((row_length,)), *encoder_layers], name="encoder")
    decoder = keras.Sequential([keras.Input(code_shape), *decoder_layers], name="decoder")
    inputs = keras.Input((row_length,), name="pixels")
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)), name=f"{config.architecture}_autoencoder")
    return autoencoder, encoder


def learning_rate(config: TrainingConfig, n_train: int):
    """Adam's learning rate: the configured constant, or its cosine decay to zero over
    every training step of the run."""
    if config.learning_rate_schedule == "constant":
        return config.learning_rate
    steps = config.epochs * math.ceil(n_train / config.batch_size)
    return _keras().optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps)


def train_autoencoder(
    autoencoder, x_train: np.ndarray, x_val: np.ndarray, config: TrainingConfig, callbacks: list,
    views: ViewsConfig | None = None, image_shape: tuple[int, int, int] | None = None,
) -> dict[str, list[float]]:
    """Fit the autoencoder to reconstruct its input (MSE, Adam), with the view-consistency
    term of :mod:`.views` if ``views`` is enabled (on images of ``image_shape``, which it
    then needs); return the loss history."""
    keras = _keras()

    model = autoencoder
    if views is not None and views.enabled:
        model = view_consistent(autoencoder, autoencoder.get_layer("encoder"), views, image_shape)
        log.info("views: NT-Xent between two augmented views, weight %g, temperature %g",
                 views.weight, views.temperature)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(config, len(x_train))), loss="mse")
    callbacks = list(callbacks)
    if config.early_stopping_patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=config.early_stopping_patience, restore_best_weights=True, verbose=1))
    log.info("training %s (%d parameters) on %d images, validating on %d",
             autoencoder.name, autoencoder.count_params(), len(x_train), len(x_val))
    history = model.fit(
        x_train, x_train, validation_data=(x_val, x_val), epochs=config.epochs,
        batch_size=config.batch_size, shuffle=True, callbacks=callbacks, verbose=2,
    )
    return history.history


def save_model(model, path: str) -> None:
    """Save in ``.keras`` format without the save date or memory addresses, so equal
    weights give equal bytes; its ``metadata.json`` records the package versions that made
    it (:func:`..files.package_versions`), which Keras ignores and the loaders compare."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = f"{scratch}/model.keras"
        model.save(raw)
        with zipfile.ZipFile(raw) as archive:
            entries = {info.filename: archive.read(info) for info in archive.infolist()}
    metadata = json.loads(entries["metadata.json"])
    metadata.pop("date_saved", None)
    metadata["versions"] = package_versions()
    entries["metadata.json"] = json.dumps(metadata).encode()
    entries["config.json"] = json.dumps(_renumber_shared_objects(json.loads(entries["config.json"]))).encode()
    write_zip(path, entries)


def _renumber_shared_objects(config, ids: dict | None = None):
    """Replace Keras' ``shared_object_id`` values (Python ``id()``s, so memory addresses)
    by their order of first appearance; loading only needs equal ids to stay equal."""
    ids = {} if ids is None else ids
    if isinstance(config, dict):
        return {key: ids.setdefault(value, len(ids)) if key == "shared_object_id"
                else _renumber_shared_objects(value, ids) for key, value in config.items()}
    if isinstance(config, list):
        return [_renumber_shared_objects(item, ids) for item in config]
    return config


def load_autoencoder(path: str):
    """An autoencoder saved in ``.keras`` format (warning if made under other versions)."""
    keras = _keras()

    try:
        model = keras.saving.load_model(path)
        with zipfile.ZipFile(path) as archive:
            warn_if_made_elsewhere(path, json.loads(archive.read("metadata.json")).get("versions"))
        return model
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: cannot load the autoencoder ({error})") from error


def reconstruct(autoencoder, x: np.ndarray) -> np.ndarray:
    """The autoencoder's reconstructions of the rows of ``x``, by TensorFlow (for pictures)."""
    return np.asarray(autoencoder.predict(x, verbose=0))


def encode(encoder, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Latent codes of ``x`` as float32 rows, by TensorFlow (while training; the encode
    stage and ``predict`` use :mod:`.exact_encoder`, whose codes do not depend on the batch)."""
    return np.asarray(encoder.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
