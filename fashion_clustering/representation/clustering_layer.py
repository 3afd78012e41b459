"""A clustering objective on the trained autoencoder: IDEC's fine-tuning, and its
Gaussian-mixture variant.

Reconstruction alone does not ask the codes to form clusters. IDEC (Guo et al., 2017) adds
DEC's clustering layer after the autoencoder has been trained: cluster centres initialised
on the codes of the training images, each image's soft assignment ``q`` to them, and a
target ``p`` that sharpens ``q`` (DEC's ``q² / cluster frequency``, renormalised). The
encoder and the centres are then fine-tuned on reconstruction + ``weight`` × KL(p ‖ q), the
target recomputed every ``update_interval`` epochs and held fixed in between; keeping the
reconstruction term stops the codes from collapsing onto the centres.

Two kernels give ``q``:

- ``student_t``: DEC's Student's t with one degree of freedom, centres from K-Means;
- ``gaussian``: the posterior of a diagonal Gaussian mixture fitted on the codes; its means
  move with the encoder, its variances and weights stay those of the fit.

Only the autoencoder is kept afterwards: the clusterers downstream work on its codes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from ..errors import PipelineError
from ..params import N_CLUSTERS_KEY, Section, Settings, read_n_clusters, setting
from .autoencoder import encode

log = logging.getLogger(__name__)

KERNELS = ("student_t", "gaussian")


@dataclass(frozen=True)
class ClusteringLayerConfig(Settings):
    """The settings in the train_autoencoder.clustering section."""

    weight: float = setting("number", minimum=0)
    kernel: str = setting("choice", options=KERNELS)
    n_clusters: int = setting("value")  # clusters.n_clusters, as the three methods make
    n_init: int = setting("integer", minimum=1)
    epochs: int = setting("integer", minimum=1)
    learning_rate: float = setting("number", minimum=0, exclusive=True)
    update_interval: int = setting("integer", minimum=1)

    @classmethod
    def from_params(cls, section: Section, skip=(), given=None) -> "ClusteringLayerConfig":
        """The section's settings, validated; its centres are ``clusters.n_clusters`` of the
        section's file, which must be at least 2 if the layer is enabled."""
        config = super().from_params(section, skip, {"n_clusters": read_n_clusters(section.file), **(given or {})})
        if config.enabled and config.n_clusters < 2:
            raise PipelineError(f"{section.file}: {N_CLUSTERS_KEY} must be at least 2 for the clustering layer "
                                f"({section.name}.weight > 0), got {config.n_clusters}")
        return config

    @property
    def enabled(self) -> bool:
        """Whether the encoder is fine-tuned towards clusters at all (a weight above 0)."""
        return self.weight > 0


@dataclass(frozen=True)
class Centres:
    """The clustering layer's starting point: centres, and for the Gaussian kernel the
    per-cluster variances and log mixing weights."""

    means: np.ndarray
    variances: np.ndarray | None = None
    log_weights: np.ndarray | None = None


def initial_centres(codes: np.ndarray, config: ClusteringLayerConfig, seed: int) -> Centres:
    """Centres fitted on ``codes``: K-Means for ``student_t``, a diagonal GMM for ``gaussian``."""
    if config.kernel == "student_t":
        model = KMeans(config.n_clusters, n_init=config.n_init, random_state=seed).fit(codes)
        return Centres(model.cluster_centers_.astype(np.float32))
    model = GaussianMixture(config.n_clusters, covariance_type="diag", n_init=config.n_init,
                            random_state=seed).fit(codes)
    return Centres(model.means_.astype(np.float32), model.covariances_.astype(np.float32),
                   np.log(model.weights_).astype(np.float32))


def soft_assignments(codes, centres: Centres, kernel: str):
    """Each code's membership of each cluster (rows sum to one), in Keras ops so that the
    same function trains the layer and computes the targets."""
    from keras import ops

    difference = ops.expand_dims(codes, 1) - centres.means
    if kernel == "student_t":
        kernel_values = 1 / (1 + ops.sum(ops.square(difference), axis=2))
        return kernel_values / ops.sum(kernel_values, axis=1, keepdims=True)
    log_density = -0.5 * ops.sum(ops.square(difference) / centres.variances
                                 + ops.log(centres.variances), axis=2)
    return ops.softmax(log_density + centres.log_weights, axis=1)


def target_distribution(q: np.ndarray) -> np.ndarray:
    """DEC's sharpened target: ``q²`` divided by each cluster's soft frequency, rows renormalised.
    A cluster that holds no image at all (possible with the Gaussian kernel) stays empty."""
    weighted = q ** 2 / np.maximum(q.sum(axis=0), np.finfo(q.dtype).tiny)
    return (weighted.T / weighted.sum(axis=1)).T


def _with_clustering_layer(autoencoder, initial: Centres, config: ClusteringLayerConfig):
    """A compiled model of two outputs, the reconstruction and the soft assignments of the
    code to centres that start at ``initial`` (only the means are trained)."""
    import keras

    encoder, decoder = autoencoder.get_layer("encoder"), autoencoder.get_layer("decoder")

    class ClusteringLayer(keras.layers.Layer):
        def build(self, input_shape):
            self.means = self.add_weight(shape=initial.means.shape, name="means",
                                         initializer=keras.initializers.Constant(initial.means))

        def call(self, z):
            return soft_assignments(z, Centres(self.means, initial.variances, initial.log_weights),
                                    config.kernel)

    inputs = keras.Input(autoencoder.input_shape[1:])
    code = encoder(inputs)
    model = keras.Model(inputs, [decoder(code), ClusteringLayer(name="clustering")(code)])
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss=["mse", "kl_divergence"], loss_weights=[1.0, config.weight])
    return model


def fine_tune(autoencoder, x_train: np.ndarray, config: ClusteringLayerConfig,
              batch_size: int, seed: int) -> dict[str, list[float]]:
    """Fine-tune ``autoencoder`` in place on reconstruction + ``weight`` × KL(p ‖ q); return
    the per-epoch losses and, per target update, the share of images that changed cluster."""
    initial = initial_centres(encode(autoencoder.get_layer("encoder"), x_train, batch_size), config, seed)
    log.info("clustering layer: %s kernel, %d centres from the codes of %d images; weight %g, "
             "%d epochs", config.kernel, config.n_clusters, len(x_train), config.weight, config.epochs)
    model = _with_clustering_layer(autoencoder, initial, config)
    history: dict[str, list[float]] = {"changed": []}
    labels = None
    for _ in range(math.ceil(config.epochs / config.update_interval)):
        q = np.asarray(model.predict(x_train, batch_size=batch_size, verbose=0)[1])
        new_labels = q.argmax(axis=1)
        if labels is not None:
            history["changed"].append(float(np.mean(new_labels != labels)))
            log.info("clustering layer: %.2f %% of the images changed cluster",
                     100 * history["changed"][-1])
        labels = new_labels
        epochs = min(config.update_interval, config.epochs - len(history.get("loss", [])))
        fitted = model.fit(x_train, [x_train, target_distribution(q)], batch_size=batch_size,
                           epochs=epochs, shuffle=True, verbose=2)
        for key, values in fitted.history.items():
            history.setdefault(key, []).extend(values)
    return history
