"""The papers' protocol: the three methods refitted and scored on every image at once."""

import numpy as np
import pytest

from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig
from fashion_clustering.evaluation.all_images import score_all_images
from fashion_clustering.representation.autoencoder import AutoencoderConfig, build_autoencoder, save_model, seed_everything
from fashion_clustering.representation.exact_encoder import load_exact_encoder
from helpers import FASHION_SHAPE

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

KMEANS = KMeansConfig(n_clusters=3, n_init=3, max_iter=100, tol=1e-4, seed=0)
GMM = GmmConfig(n_components=3, covariance_type="diag", n_init=2, max_iter=100, tol=1e-3,
                reg_covar=1e-6, init_params="kmeans", seed=0)


def untrained_encoder(tmp_path):
    """A seeded, untrained 784-16-4 encoder, as the pipeline reads it."""
    seed_everything(0)
    autoencoder, _ = build_autoencoder(AutoencoderConfig("dense", 4, [16], [32]), FASHION_SHAPE)
    save_model(autoencoder, str(tmp_path / "model.keras"))
    return load_exact_encoder(str(tmp_path / "model.keras"))


def test_three_separate_groups_are_recovered_by_every_method(tmp_path):
    # 90 images of three brightness levels, slightly noisy: any sane encoder keeps them apart.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    x = np.clip(y[:, None] * 0.4 + 0.05 + rng.normal(0, 0.02, (90, 784)), 0, 1).astype(np.float32)
    scores = score_all_images(untrained_encoder(tmp_path), x, y, batch_size=32, umap=None, baseline=KMEANS,
                              kmeans=KMEANS, gmm=GMM)
    assert set(scores) == {"baseline_kmeans", "ae_kmeans", "ae_gmm"}
    for method in scores.values():
        assert method == {"acc": 1.0, "nmi": pytest.approx(1.0), "ari": pytest.approx(1.0),
                          "completeness": pytest.approx(1.0)}


def test_a_broken_representation_is_scored_as_such(tmp_path):
    # Labels that the images do not reflect: the scores must say so, not echo the labels.
    rng = np.random.default_rng(1)
    x = rng.random((90, 784), dtype=np.float32)
    y = np.repeat(np.arange(3), 30)
    scores = score_all_images(untrained_encoder(tmp_path), x, y, batch_size=32, umap=None, baseline=KMEANS,
                              kmeans=KMEANS, gmm=GMM)
    assert all(method["nmi"] < 0.2 for method in scores.values())
