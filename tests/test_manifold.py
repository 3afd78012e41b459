"""UMAP between the encoder and the clusterers: fitted on train, applied to new rows."""

import numpy as np
import pytest

from fashion_clustering.clustering import KMeansConfig, fit_kmeans
from fashion_clustering.manifold import UmapConfig, apply_umap, fit_umap, load_manifold, save_manifold
from fashion_clustering.metrics import cluster_accuracy

# umap-learn's notice that a seed makes it single-threaded: expected here.
pytestmark = pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning")

CONFIG = UmapConfig(n_components=3, n_neighbors=10, min_dist=0.0, metric="euclidean",
                    n_epochs=30, seed=0)


def blobs(n_per_blob, seed, dim=16):
    """Three far-apart Gaussian blobs in ``dim`` dimensions, shuffled, with their ids."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(99).normal(scale=10.0, size=(3, dim))
    labels = rng.permutation(np.repeat(np.arange(3), n_per_blob))
    x = centers[labels] + rng.normal(size=(len(labels), dim))
    return x.astype(np.float32), labels


@pytest.fixture(scope="module")
def fitted():
    x, y = blobs(100, seed=0)
    reducer, embedding = fit_umap(x, CONFIG)
    return x, y, reducer, embedding


def test_fit_umap_returns_float32_embedding(fitted):
    x, y, reducer, embedding = fitted
    assert embedding.shape == (300, 3)
    assert embedding.dtype == np.float32
    assert np.isfinite(embedding).all()
    # The blobs stay separate in the embedding.
    kmeans = fit_kmeans(embedding, KMeansConfig(n_clusters=3, n_init=1, max_iter=100, tol=1e-4, seed=0))
    assert cluster_accuracy(y, kmeans.labels_) == 1.0


def test_same_seed_same_embedding(fitted):
    x, _, _, embedding = fitted
    _, again = fit_umap(x, CONFIG)
    np.testing.assert_array_equal(again, embedding)


def test_apply_umap_to_new_rows(fitted):
    _, y, reducer, embedding = fitted
    x_new, y_new = blobs(20, seed=1)
    embedded = apply_umap(reducer, x_new)
    assert embedded.shape == (60, 3)
    assert embedded.dtype == np.float32
    assert np.isfinite(embedded).all()
    # Each new row lands next to training rows of its own blob.
    distances = np.linalg.norm(embedded[:, None, :] - embedding[None, :, :], axis=2)
    np.testing.assert_array_equal(y[distances.argmin(axis=1)], y_new)


def test_a_rows_embedding_does_not_depend_on_the_rows_embedded_with_it(fitted):
    *_, reducer, _ = fitted
    x_new, _ = blobs(20, seed=2)
    together = apply_umap(reducer, x_new)
    alone = np.concatenate([apply_umap(reducer, x_new[i:i + 1]) for i in range(6)])
    np.testing.assert_array_equal(alone, together[:6])


def test_saved_manifold_embeds_the_same(fitted, tmp_path):
    *_, reducer, _ = fitted
    x_new, _ = blobs(10, seed=3)
    save_manifold(tmp_path / "umap.pkl", reducer)
    np.testing.assert_array_equal(apply_umap(load_manifold(tmp_path / "umap.pkl"), x_new),
                                  apply_umap(reducer, x_new))
    save_manifold(tmp_path / "none.pkl", None)
    assert load_manifold(tmp_path / "none.pkl") is None
