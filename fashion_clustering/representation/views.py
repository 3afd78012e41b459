"""Consistency between augmented views, added to the autoencoder's reconstruction loss.

Reconstruction alone spends the code on what costs pixels (overall shape and brightness),
so classes that differ in details (pullover, coat, shirt) share one region of it. Here two
random views of each training image (shifted, zoomed, flipped, contrast changed) are encoded,
a small projection head maps the codes, and SimCLR's NT-Xent loss pulls the two views of an
image together and pushes other images apart. The autoencoder itself is unchanged: only its
training objective gains the term, and encoding never augments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..params import Settings, setting


@dataclass(frozen=True)
class ViewsConfig(Settings):
    """The settings in the train_autoencoder.views section."""

    weight: float = setting("number", minimum=0)
    temperature: float = setting("number", minimum=0, exclusive=True)
    projection_dim: int = setting("integer", minimum=1)
    shift: float = setting("number", minimum=0, maximum=0.5)
    zoom: float = setting("number", minimum=0, maximum=0.5)
    flip: bool = setting("boolean")
    contrast: float = setting("number", minimum=0, maximum=1)

    @property
    def enabled(self) -> bool:
        """Whether the view-consistency term is trained at all (a weight above 0)."""
        return self.weight > 0


def build_augmenter(config: ViewsConfig, image_shape: tuple[int, int, int]):
    """A Keras model that returns a random view of each row of an image of ``image_shape``
    (height, width, channels) when ``training``."""
    import keras
    from keras import layers

    row_length = math.prod(image_shape)
    steps = [layers.Reshape(tuple(image_shape))]
    if config.flip:
        steps.append(layers.RandomFlip("horizontal"))
    if config.shift:
        steps.append(layers.RandomTranslation(config.shift, config.shift, fill_mode="constant"))
    if config.zoom:
        steps.append(layers.RandomZoom(config.zoom, fill_mode="constant"))
    if config.contrast:
        steps.append(layers.RandomContrast(config.contrast, value_range=(0, 1)))
    steps.append(layers.Reshape((row_length,)))
    return keras.Sequential([keras.Input((row_length,)), *steps], name="augmenter")


def nt_xent(z1, z2, temperature: float):
    """SimCLR's normalized-temperature cross entropy between two batches of projections:
    each row's positive is the other view of the same image, its negatives every other row."""
    from keras import ops

    z = ops.normalize(ops.concatenate([z1, z2], axis=0), axis=1)
    n = ops.shape(z1)[0]
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    logits = logits - 1e9 * ops.eye(2 * n)  # a row is not its own negative
    positives = ops.concatenate([ops.arange(n) + n, ops.arange(n)], axis=0)
    return ops.mean(ops.sparse_categorical_crossentropy(positives, logits, from_logits=True))


def view_consistent(autoencoder, encoder, config: ViewsConfig, image_shape: tuple[int, int, int]):
    """Wrap ``autoencoder`` for training (on rows of images of ``image_shape``): its compiled
    reconstruction loss plus ``weight`` × NT-Xent between two views. Save ``autoencoder``
    itself, not the wrapper."""
    import keras
    from keras import layers

    class ViewConsistentAutoencoder(keras.Model):
        def __init__(self):
            super().__init__(name=f"{autoencoder.name}_with_views")
            self.autoencoder, self.encoder = autoencoder, encoder
            self.augmenter = build_augmenter(config, image_shape)
            self.projector = keras.Sequential(
                [layers.Dense(config.projection_dim, activation="relu"), layers.Dense(config.projection_dim)],
                name="projector")

        def build(self, input_shape):
            self.projector.build(self.encoder.output_shape)
            self.built = True

        def call(self, x, training=False):
            return self.autoencoder(x, training=training)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = super().compute_loss(x, y, y_pred, sample_weight, training)
            if not training:  # validation reports the reconstruction loss alone
                return loss
            z1, z2 = (self.projector(self.encoder(self.augmenter(x, training=True), training=True))
                      for _ in range(2))
            return loss + config.weight * nt_xent(z1, z2, config.temperature)

    return ViewConsistentAutoencoder()
