"""Clusterers whose answer for a row does not depend on the rows it comes with: scikit-learn's
numbers to rounding, and each row's the same bytes alone as in a batch."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
# scikit-learn's private EM steps, which the package repeats in its own code: these tests fail
# loudly when an upgrade changes them.
from sklearn.mixture._gaussian_mixture import (
    _compute_log_det_cholesky, _estimate_gaussian_parameters, _estimate_log_gaussian_prob,
)

from fashion_clustering.clustering.fit import gaussians_of_clusters
from fashion_clustering.clustering.rowwise import (
    RowwiseGaussianMixture, RowwiseKMeans, log_det_cholesky, log_gaussian_densities, squared_distances,
)
from fashion_clustering.fixed_order import distances, row_products

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(scope="module")
def x():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=4, size=(3, 6))
    return (centres[rng.integers(0, 3, 300)] + rng.normal(size=(300, 6))).astype(np.float32)


def test_row_products_and_distances_are_numpys_to_rounding(x):
    matrix = np.random.default_rng(1).normal(size=(6, 4))
    np.testing.assert_allclose(row_products(x.astype(np.float64), matrix), x @ matrix, rtol=1e-12, atol=1e-12)
    centres = x[:5].astype(np.float64)
    np.testing.assert_allclose(squared_distances(x, centres),
                               ((x[:, None, :] - centres[None]) ** 2).sum(axis=2), rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_mixture_is_scikit_learns_and_a_row_alone_gets_the_same_bytes(x, covariance_type):
    x64 = x.astype(np.float64)  # scikit-learn computes float32 rows in float32; this, in float64
    plain = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(x64)
    np.testing.assert_allclose(
        log_gaussian_densities(x64, plain.means_, plain.precisions_cholesky_, covariance_type),
        _estimate_log_gaussian_prob(x64, plain.means_, plain.precisions_cholesky_, covariance_type),
        rtol=1e-10)
    model = RowwiseGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(x64)
    np.testing.assert_allclose(model.means_, plain.means_, rtol=1e-8)
    together = model.predict_proba(x)
    alone = np.concatenate([model.predict_proba(x[i:i + 1]) for i in range(20)])
    np.testing.assert_array_equal(alone, together[:20])
    np.testing.assert_array_equal(model.predict(x[7:8]), model.predict(x)[7:8])


def test_kmeans_is_scikit_learns_and_a_row_alone_gets_the_same_bytes(x):
    plain = KMeans(3, n_init=2, random_state=0).fit(x)
    model = RowwiseKMeans(3, n_init=2, random_state=0).fit(x)
    np.testing.assert_array_equal(model.cluster_centers_, plain.cluster_centers_)
    np.testing.assert_array_equal(model.predict(x), plain.predict(x))
    together = model.transform(x)
    alone = np.concatenate([model.transform(x[i:i + 1]) for i in range(20)])
    np.testing.assert_array_equal(alone, together[:20])
    np.testing.assert_allclose(together, plain.transform(x), rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_em_steps_repeated_here_give_scikit_learns_bytes(x, covariance_type, dtype):
    rows, x64 = x.astype(dtype), x.astype(np.float64)
    labels = np.arange(len(x)) % 3
    start = gaussians_of_clusters(rows, labels, 3, covariance_type, 1e-3)
    counts, means, covariances = _estimate_gaussian_parameters(rows, np.eye(3)[labels], 1e-3, covariance_type)
    np.testing.assert_array_equal(start["weights_init"], counts / len(x))
    np.testing.assert_array_equal(start["means_init"], means)
    inverse = np.linalg.inv(covariances) if covariance_type in ("full", "tied") else 1.0 / covariances
    np.testing.assert_array_equal(start["precisions_init"], inverse)
    assert start["precisions_init"].dtype == inverse.dtype
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(x64)
    np.testing.assert_array_equal(
        log_det_cholesky(model.precisions_cholesky_, covariance_type, x.shape[1]),
        _compute_log_det_cholesky(model.precisions_cholesky_, covariance_type, x.shape[1]))


def test_manhattan_distances_are_numpys_to_rounding(x):
    np.testing.assert_allclose(distances(x, x[:4], "manhattan"),
                               np.abs(x[:, None, :] - x[None, :4]).sum(axis=2), rtol=1e-6)
    assert distances(x, x[:4], "manhattan").dtype == np.float32
