"""Clusterers whose answer for a row does not depend on the rows it comes with: scikit-learn's
numbers to rounding, and each row's the same bytes alone as in a batch."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _estimate_log_gaussian_prob

from fashion_clustering.clustering.rowwise import (
    RowwiseGaussianMixture, RowwiseKMeans, log_gaussian_densities, row_products, squared_distances,
)

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
