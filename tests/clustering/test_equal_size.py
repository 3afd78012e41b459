"""Clusters of equal size: the weights solver, the mixture and K-Means, through the configs
the stages use."""

import pickle
from dataclasses import replace

import numpy as np
import pytest

from sklearn.exceptions import NotFittedError

from fashion_clustering.clustering import equal_size
from fashion_clustering.clustering.equal_size import (
    EqualSizeGaussianMixture, EqualSizeKMeans, equal_mass_log_weights,
)
from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig, fit_gmm, fit_kmeans
from fashion_clustering.evaluation.metrics import cluster_accuracy

GMM = GmmConfig(n_components=3, covariance_type="diag", n_init=5, max_iter=100, tol=1e-3,
                reg_covar=1e-6, init_params="kmeans", seed=0, cluster_sizes="equal", size_tol=1e-4)
KMEANS = KMeansConfig(n_clusters=3, n_init=5, max_iter=100, tol=1e-4, seed=0,
                      cluster_sizes="equal", size_tol=1e-4)


def unequal_spread_blobs(n_per_blob: int, seed: int):
    """Three blobs of equal counts in 2-D: a wide one, and two tight ones close together.
    A free mixture or K-Means splits the wide blob and merges the tight pair."""
    rng = np.random.default_rng(seed)
    centers, spreads = np.array([[0.0, 0.0], [8.0, 0.0], [9.5, 0.0]]), np.array([3.0, 0.3, 0.3])
    labels = rng.permutation(np.repeat(np.arange(3), n_per_blob))
    x = centers[labels] + rng.normal(size=(len(labels), 2)) * spreads[labels, None]
    return x, labels


@pytest.fixture(scope="module")
def blobs():
    return unequal_spread_blobs(200, seed=0)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_equal_size_mixture_recovers_blobs_a_free_one_does_not(blobs, covariance_type):
    x, y = blobs
    config = replace(GMM, covariance_type=covariance_type)
    assert cluster_accuracy(y, fit_gmm(x, replace(config, cluster_sizes="free")).predict(x)) < 0.6
    equal = fit_gmm(x, config)
    assert cluster_accuracy(y, equal.predict(x)) >= 0.98
    x_new, y_new = unequal_spread_blobs(100, seed=1)
    assert cluster_accuracy(y_new, equal.predict(x_new)) >= 0.97


def test_equal_size_kmeans_recovers_blobs_a_free_one_does_not(blobs):
    x, y = blobs
    assert cluster_accuracy(y, fit_kmeans(x, replace(KMEANS, cluster_sizes="free"))[-1].labels_) < 0.6
    equal = fit_kmeans(x, KMEANS)[-1]
    assert cluster_accuracy(y, equal.labels_) >= 0.98
    np.testing.assert_array_equal(equal.predict(x), equal.labels_)
    assert np.abs(np.bincount(equal.labels_) - 200).max() <= 2


def test_standardized_kmeans_scales_on_the_training_rows():
    """Two blobs apart along a narrow feature, beside a wide feature of pure noise: on raw
    features K-Means cuts the noise; standardized, it finds the blobs."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 300)
    x = np.column_stack([50 * rng.normal(size=600), 3.0 * y + 0.3 * rng.normal(size=600)])
    config = replace(KMEANS, n_clusters=2)
    assert cluster_accuracy(y, fit_kmeans(x, config).predict(x)) < 0.7
    scaled = fit_kmeans(x, replace(config, standardize=True))
    assert cluster_accuracy(y, scaled.predict(x)) == 1.0
    np.testing.assert_allclose(scaled[0].scale_, x.std(axis=0))
    assert scaled.transform(x).shape == (600, 2)  # distances to the centres, for the report


def test_fitted_weights_give_equal_training_mass(blobs):
    x, _ = blobs
    model = fit_gmm(x, GMM)[-1]
    mass = model.predict_proba(x).sum(axis=0) / len(x) * GMM.n_components
    assert np.abs(mass - 1).max() <= GMM.size_tol
    assert np.ptp(model.weights_) > 0.1  # the weights themselves are far from equal


def test_weights_balance_steep_and_empty_components():
    """Tight clumps (log densities hundreds apart) and a component no row prefers: the
    solver still gives every component 1/K of the mass, from any start."""
    rng = np.random.default_rng(0)
    log_prob = 300 * rng.normal(size=(900, 4))
    log_prob[:, 3] -= 2000  # every row prefers another component by far
    for start in (np.zeros(4), np.log([0.97, 0.01, 0.01, 0.01])):
        weights, gap = equal_mass_log_weights(log_prob, start, tol=1e-6, max_iter=200)
        assert gap <= 1e-6
        scores = log_prob + weights
        resp = np.exp(scores - scores.max(axis=1, keepdims=True))
        resp /= resp.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(resp.sum(axis=0), 225, rtol=1e-6)
        assert np.isclose(np.logaddexp.reduce(weights), 0)


def test_softmax_is_numpys_arithmetic_to_the_bit():
    """Rows taken a block at a time, and exponentials that underflow left to zero: the same
    bytes as NumPy's exp over the whole array, subnormal results and zeros included."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(equal_size.ROW_BLOCK + 333, 5)) * np.array([1, 10, 300, 600, 1000])
    scores[:50, 1:] = scores[:50, :1] - rng.uniform(700, 760, (50, 4))  # around exp's underflow
    for exponentiate in (False, True):
        out, lse = equal_size._log_softmax_rows(scores, exponentiate)
        top = scores.max(axis=1, keepdims=True)
        expected_lse = top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
        expected = scores - expected_lse
        np.testing.assert_array_equal(lse.view(np.int64), expected_lse[:, 0].view(np.int64))
        np.testing.assert_array_equal(out.view(np.int64), (np.exp(expected) if exponentiate else expected).view(np.int64))
    tiny = equal_size._softmax_rows(scores)[0]
    assert ((tiny > 0) & (tiny < np.finfo(np.float64).tiny)).any() and (tiny == 0).any()


def test_single_rows_are_assigned_as_in_a_batch(blobs):
    x, _ = blobs
    for model in (fit_gmm(x, GMM), fit_kmeans(x, KMEANS), fit_kmeans(x, replace(KMEANS, standardize=True))):
        batch = model.predict(x)
        assert [model.predict(x[i:i + 1])[0] for i in range(0, len(x), 37)] == batch[::37].tolist()


def test_seeded_fits_pickle_identically(blobs):
    x, _ = blobs
    assert pickle.dumps(fit_gmm(x, GMM)) == pickle.dumps(fit_gmm(x, GMM))
    assert pickle.dumps(fit_kmeans(x, KMEANS)) == pickle.dumps(fit_kmeans(x, KMEANS))


@pytest.mark.parametrize("estimator, bad", [
    (EqualSizeKMeans(3), {"size_tol": -1e-4}), (EqualSizeKMeans(3), {"n_init": "auto"}),
    (EqualSizeGaussianMixture(3), {"size_tol": -1e-4}), (EqualSizeGaussianMixture(3), {"size_max_iter": 0}),
], ids=["kmeans-size_tol", "kmeans-n_init", "gmm-size_tol", "gmm-size_max_iter"])
def test_own_parameters_are_checked_when_fitting(blobs, estimator, bad):
    x, _ = blobs
    with pytest.raises(ValueError, match=f"'{next(iter(bad))}' parameter"):
        estimator.set_params(**bad).fit(x)


def test_kmeans_checks_it_is_fitted_and_the_features_it_was_fitted_on(blobs):
    x, _ = blobs
    with pytest.raises(NotFittedError):
        EqualSizeKMeans(3).predict(x)
    model = EqualSizeKMeans(3, random_state=0).fit(x)
    assert model.n_features_in_ == x.shape[1]
    with pytest.raises(ValueError, match="features"):
        model.predict(x[:, :-1])


# The private hooks of scikit-learn's EM that the row-wise and equal-size mixtures override.
# Renamed or re-signed by an upgrade, they would no longer be called, silently: fail here.
EM_HOOKS = {"_e_step": "(self, X, xp=None)", "_estimate_log_prob": "(self, X, xp=None)",
            "_initialize": "(self, X, resp, xp=None)", "_get_parameters": "(self)",
            "_set_parameters": "(self, params, xp=None)", "_estimate_log_weights": "(self, xp=None)"}


@pytest.mark.parametrize("hook", EM_HOOKS)
def test_the_em_hooks_overridden_here_are_still_scikit_learns(hook):
    import inspect

    from sklearn.mixture import GaussianMixture

    assert str(inspect.signature(getattr(GaussianMixture, hook))) == EM_HOOKS[hook]
