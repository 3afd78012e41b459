"""UMAP between the encoder and the clusterers: fitted on train, extended to new rows."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import KDTree

from fashion_clustering.clustering.fit import KMeansConfig, fit_kmeans
from fashion_clustering.errors import PipelineError
from fashion_clustering.representation.manifold import (
    NeighbourEmbedding, UmapConfig, embed_codes, fit_umap, import_umap, load_manifold, nearest,
    nearest_training_rows, neighbour_graph, save_manifold,
)
from fashion_clustering.representation import manifold as manifold_module
from fashion_clustering.evaluation.metrics import cluster_accuracy

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
    return x, y, fit_umap(x, CONFIG)


def test_fit_umap_returns_float32_embedding(fitted):
    x, y, manifold = fitted
    assert manifold.embedding.shape == (300, 3)
    assert manifold.embedding.dtype == np.float32
    assert np.isfinite(manifold.embedding).all()
    np.testing.assert_array_equal(manifold.codes, x)
    # The blobs stay separate in the embedding.
    kmeans = fit_kmeans(manifold.embedding, KMeansConfig(n_clusters=3, n_init=1, max_iter=100, tol=1e-4, seed=0))
    assert cluster_accuracy(y, kmeans[-1].labels_) == 1.0


def test_umaps_compiled_kernels_are_kept_on_disk(fitted):
    """umap-learn declares these kernels without Numba's cache; after a fit, each one's
    compiled code is in Numba's cache, for the next process to load instead of compiling."""
    umap = import_umap()
    for kernel in (umap.umap_.smooth_knn_dist, umap.umap_.compute_membership_strengths, umap.utils.fast_knn_indices):
        assert kernel.stats.cache_path is not None, kernel.py_func.__qualname__
        kept = Path(kernel.stats.cache_path).glob(f"*.{kernel.py_func.__qualname__}-*.nbi")
        assert any(kept), kernel.py_func.__qualname__


def test_umap_runs_where_no_compiled_kernel_can_be_kept(monkeypatch):
    """Where Numba has nowhere to write, kernels are compiled in the process, as before."""
    from numba.core.dispatcher import Dispatcher

    def nowhere(kernel):
        raise RuntimeError(f"cannot cache function {kernel.py_func.__qualname__!r}: no locator available")

    monkeypatch.setattr(Dispatcher, "enable_caching", nowhere)
    umap = import_umap.__wrapped__()
    x, _ = blobs(30, seed=2)
    assert umap.UMAP(n_neighbors=5, n_epochs=10, random_state=0).fit_transform(x).shape == (90, 2)


def test_same_seed_same_embedding(fitted):
    x, _, manifold = fitted
    np.testing.assert_array_equal(fit_umap(x, CONFIG).embedding, manifold.embedding)


def test_new_rows_land_among_their_blob(fitted):
    _, y, manifold = fitted
    x_new, y_new = blobs(20, seed=1)
    embedded = embed_codes(manifold, x_new)
    assert embedded.shape == (60, 3)
    assert embedded.dtype == np.float32
    distances = np.linalg.norm(embedded[:, None, :] - manifold.embedding[None, :, :], axis=2)
    np.testing.assert_array_equal(y[distances.argmin(axis=1)], y_new)


def test_a_new_row_is_embedded_at_the_mean_of_its_nearest_training_rows():
    codes = np.array([[0, 0], [1, 0], [0, 1], [2.9, 0], [2, 2]], np.float32)
    embedding = np.array([[0, 0], [2, 0], [0, 4], [30, 0], [20, 20]], np.float32)
    euclidean = NeighbourEmbedding(codes, embedding, n_neighbors=3, metric="euclidean")
    np.testing.assert_array_equal(embed_codes(euclidean, np.array([[0.1, 0.2]], np.float32)),
                                  np.array([[2 / 3, 4 / 3]], np.float32))
    # (2, 2) is nearer the origin than (2.9, 0) in euclidean distance, not in manhattan distance.
    origin = np.zeros((1, 2), np.float32)
    np.testing.assert_array_equal(embed_codes(dataclasses.replace(euclidean, n_neighbors=4), origin), [[5.5, 6]])
    manhattan = NeighbourEmbedding(codes, embedding, n_neighbors=4, metric="manhattan")
    np.testing.assert_array_equal(embed_codes(manhattan, origin), [[8, 1]])


def test_equal_distances_take_the_lower_indices():
    distances = np.array([[3, 1, 2, 2, 0, 2, 2],
                          [2, 2, 2, 2, 2, 2, 2]], np.float32)
    np.testing.assert_array_equal(nearest(distances, 3), [[1, 2, 4], [0, 1, 2]])
    np.testing.assert_array_equal(nearest(distances[:, ::-1], 3), [[0, 2, 5], [0, 1, 2]])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_the_tree_chooses_the_same_training_codes_as_every_distance(metric):
    """Many rows go through a k-d tree, a few through every distance: the same neighbours, on
    a grid of codes where many distances tie, duplicated codes, and rows on the codes."""
    grid = np.stack(np.meshgrid(*[np.arange(6)] * 3), axis=-1).reshape(-1, 3).astype(np.float32)
    codes = np.concatenate([grid, grid[::7]])  # some codes twice
    rng = np.random.default_rng(0)
    rows = np.concatenate([grid[rng.permutation(len(grid))[:200]],
                           rng.uniform(-1, 6, (200, 3)).astype(np.float32), grid[:50] + 0.5])
    assert len(rows) > manifold_module.TREE_ROWS
    tree = KDTree(codes, metric=metric)
    for k in (1, 7, 20):
        np.testing.assert_array_equal(nearest_training_rows(rows, codes, k, metric, tree),
                                      nearest_training_rows(rows, codes, k, metric))
    manifold = NeighbourEmbedding(codes, rng.normal(size=(len(codes), 2)).astype(np.float32), 7, metric)
    np.testing.assert_array_equal(embed_codes(manifold, rows),
                                  np.concatenate([embed_codes(manifold, rows[i:i + 1]) for i in range(len(rows))]))


def test_the_neighbour_graph_is_every_rows_exact_nearest_rows_nearest_first():
    """Each row itself first (or a duplicate of it at distance 0 with a lower index), then
    the others by distance, ties to the lower index: as a sort of every distance gives."""
    grid = np.stack(np.meshgrid(*[np.arange(5)] * 3), axis=-1).reshape(-1, 3).astype(np.float32)
    rows = np.concatenate([grid, grid[::9], np.random.default_rng(0).normal(2, 1, (300, 3)).astype(np.float32)])
    indices, lengths = neighbour_graph(rows, 9)
    every = ((rows[:, None, :].astype(np.float64) - rows[None]) ** 2).sum(axis=-1)
    expected = np.argsort(every, axis=1, kind="stable")[:, :9]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(lengths, np.sqrt(np.take_along_axis(every, expected, axis=1)), rtol=1e-6)
    assert lengths.dtype == np.float32 and (lengths[:, 0] == 0).all() and (np.diff(lengths, axis=1) >= 0).all()


def test_a_rows_embedding_does_not_depend_on_the_rows_embedded_with_it(fitted):
    *_, manifold = fitted
    x_new, _ = blobs(100, seed=2)  # more than one chunk of rows
    together = embed_codes(manifold, x_new)
    alone = np.concatenate([embed_codes(manifold, x_new[i:i + 1]) for i in (0, 1, 99, 299)])
    np.testing.assert_array_equal(alone, together[[0, 1, 99, 299]])


def test_saved_manifold_embeds_the_same(fitted, tmp_path):
    *_, manifold = fitted
    x_new, _ = blobs(10, seed=3)
    save_manifold(tmp_path / "umap.pkl", manifold)
    np.testing.assert_array_equal(embed_codes(load_manifold(tmp_path / "umap.pkl"), x_new),
                                  embed_codes(manifold, x_new))
    save_manifold(tmp_path / "none.pkl", None)
    assert load_manifold(tmp_path / "none.pkl") is None


def test_a_manifold_of_another_version_fails_saying_what_to_do(tmp_path):
    save_manifold(tmp_path / "old.pkl", {"reducer": "of an earlier version"})
    with pytest.raises(PipelineError, match=f"^{tmp_path / 'old.pkl'}: holds a dict, not the manifold step "
                                            "of this version; run `dvc repro` to make it"):
        load_manifold(tmp_path / "old.pkl")


def test_neighbours_are_capped_below_the_training_codes():
    """A collection smaller than UMAP's neighbours still gets its embedding, with one
    neighbour fewer than it has codes (and new codes are embedded by that many)."""
    codes, _ = blobs(4, seed=2)
    manifold = fit_umap(codes, dataclasses.replace(CONFIG, n_neighbors=50))
    assert manifold.n_neighbors == len(codes) - 1
    assert manifold.embedding.shape == (len(codes), CONFIG.n_components)
