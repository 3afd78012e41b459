"""The clustering layer (IDEC): its soft assignments, the sharpened target, and fine-tuning."""

import dataclasses

import numpy as np
import yaml
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

from fashion_clustering.representation.autoencoder import (
    AutoencoderConfig, TrainingConfig, build_autoencoder, encode, save_model, seed_everything,
    train_autoencoder,
)
from fashion_clustering.representation.clustering_layer import (
    Centres, ClusteringLayerConfig, fine_tune, initial_centres, soft_assignments, target_distribution,
)
from fashion_clustering.errors import PipelineError
from fashion_clustering.params import Section
from helpers import FASHION_SHAPE

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SMALL_DENSE = AutoencoderConfig("dense", latent_dim=4, dense_units=[32], conv_filters=[32])
TWO_EPOCHS = TrainingConfig(epochs=2, batch_size=16, learning_rate=1e-3,
                            early_stopping_patience=None, seed=0)
IDEC = ClusteringLayerConfig(weight=1.0, kernel="student_t", n_clusters=3, n_init=2, epochs=4,
                             learning_rate=1e-3, update_interval=2)
VALUES = {"weight": 0.1, "kernel": "gaussian", "n_init": 20, "epochs": 10, "learning_rate": 0.001,
          "update_interval": 1}


@pytest.fixture(scope="module")
def images():
    """48 training rows: a bright square in one of three corners, at a jittered place."""
    rng = np.random.default_rng(0)
    x = np.zeros((48, 28, 28), dtype=np.float32)
    corners = [(2, 2), (2, 16), (16, 9)]
    for i, image in enumerate(x):
        row, col = np.add(corners[i % 3], rng.integers(0, 3, size=2))
        image[row:row + 9, col:col + 9] = 1
    return x.reshape(48, 784)


def test_params_section_is_validated(tmp_path):
    """Its centres are the methods' clusters.n_clusters; at least two when it is enabled."""
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"clusters": {"n_clusters": 7}}))
    config = ClusteringLayerConfig.from_params(Section(VALUES, "train_autoencoder.clustering", str(path)))
    assert config == ClusteringLayerConfig(0.1, "gaussian", 7, 20, 10, 0.001, 1) and config.enabled
    assert not dataclasses.replace(config, weight=0.0).enabled
    with pytest.raises(PipelineError, match=r"train_autoencoder\.clustering\.kernel must be one of"):
        ClusteringLayerConfig.from_params(Section(VALUES | {"kernel": "cauchy"}, "train_autoencoder.clustering", str(path)))
    path.write_text(yaml.safe_dump({"clusters": {"n_clusters": 1}}))
    with pytest.raises(PipelineError, match=r"clusters\.n_clusters must be at least 2 for the clustering layer"):
        ClusteringLayerConfig.from_params(Section(VALUES, "train_autoencoder.clustering", str(path)))
    off = ClusteringLayerConfig.from_params(Section(VALUES | {"weight": 0.0}, "train_autoencoder.clustering", str(path)))
    assert off.n_clusters == 1 and not off.enabled  # one cluster is fine for the methods, with the layer off


def test_student_t_assignments_follow_dec():
    codes = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
    centres = Centres(np.array([[0.0, 0.0], [0.0, 4.0]], dtype=np.float32))
    q = np.asarray(soft_assignments(codes, centres, "student_t"))
    # (1 + d²)⁻¹, normalised: the first code is at distance 0 and 4, the second 5 and 3.
    np.testing.assert_allclose(q, [[1 / (1 + 1 / 17), (1 / 17) / (1 + 1 / 17)],
                                   [(1 / 26) / (1 / 26 + 1 / 10), (1 / 10) / (1 / 26 + 1 / 10)]], rtol=1e-5)


def test_gaussian_assignments_are_the_mixtures_posterior():
    rng = np.random.default_rng(1)
    codes = np.vstack([rng.normal(0, 1, (60, 3)), rng.normal(4, 0.5, (40, 3))]).astype(np.float32)
    config = dataclasses.replace(IDEC, kernel="gaussian", n_clusters=2)
    centres = initial_centres(codes, config, seed=0)
    mixture = GaussianMixture(2, covariance_type="diag", n_init=2, random_state=0).fit(codes)
    q = np.asarray(soft_assignments(codes, centres, "gaussian"))
    np.testing.assert_allclose(q, mixture.predict_proba(codes), atol=1e-4)


def test_target_distribution_sharpens_and_balances():
    q = np.array([[0.6, 0.4, 0.0], [0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])
    p = target_distribution(q)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    # q²/f by hand for the first row: f = (1.3, 1.7, 0).
    first = np.array([0.36 / 1.3, 0.16 / 1.7])
    np.testing.assert_allclose(p[0, :2], first / first.sum())
    # A confident row becomes more confident; a tie tips towards the rarer cluster; an empty
    # cluster stays empty.
    assert p[2, 1] > q[2, 1] and p[1, 0] > 0.5 and not p[:, 2].any()


def trained(images, config):
    import keras

    keras.backend.clear_session()
    seed_everything(0)
    autoencoder, encoder = build_autoencoder(SMALL_DENSE, FASHION_SHAPE)
    train_autoencoder(autoencoder, images, images[:16], TWO_EPOCHS, [])
    before = encode(encoder, images, 16)
    history = fine_tune(autoencoder, images, config, batch_size=16, seed=0) if config else None
    return autoencoder, before, encode(encoder, images, 16), history


def silhouette(codes):
    """How well the codes fall into three groups (K-Means' own), from -1 to 1."""
    return silhouette_score(codes, KMeans(3, n_init=5, random_state=0).fit_predict(codes))


@pytest.mark.parametrize("kernel", ["student_t", "gaussian"])
def test_fine_tuning_tightens_the_clusters(images, kernel):
    config = dataclasses.replace(IDEC, kernel=kernel, epochs=6)
    _, before, after, history = trained(images, config)
    # The same six epochs without the KL term: reconstruction alone.
    _, _, reconstructed, _ = trained(images, dataclasses.replace(config, weight=0.0))
    assert silhouette(after) > silhouette(reconstructed) + 0.05 > silhouette(before) + 0.05
    assert len(history["loss"]) == 6 and len(history["changed"]) == 2  # targets at epochs 0, 2, 4


def test_kl_falls_against_each_fixed_target(images):
    _, _, _, history = trained(images, dataclasses.replace(IDEC, epochs=6))
    kl = history["clustering_loss"]
    # Each new, sharper target raises the KL again.
    assert all(kl[i + 1] < kl[i] for i in (0, 2, 4)) and kl[2] > kl[1]


def test_fine_tuning_is_byte_stable(images, tmp_path):
    paths = [tmp_path / "first.keras", tmp_path / "again.keras"]
    codes = []
    for path in paths:
        autoencoder, _, code, _ = trained(images, IDEC)
        save_model(autoencoder, str(path))
        codes.append(code)
    np.testing.assert_array_equal(*codes)
    assert paths[0].read_bytes() == paths[1].read_bytes()
