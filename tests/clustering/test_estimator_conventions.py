"""The package's estimators as scikit-learn's own checks see them, and as its users do: solvers
that stop at their cap say so, and impossible problems fail in the estimator's own terms."""

import importlib
import logging
import pkgutil
import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import fashion_clustering
from fashion_clustering.clustering.equal_size import EqualSizeGaussianMixture, EqualSizeKMeans
from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig, fit_gmm, fit_kmeans
from fashion_clustering.clustering.rowwise import RowwiseGaussianMixture, RowwiseKMeans
from fashion_clustering.errors import PipelineError

ESTIMATORS = [RowwiseKMeans(n_init=2, max_iter=5), RowwiseGaussianMixture(), EqualSizeKMeans(),
              EqualSizeGaussianMixture()]


def defined_estimators() -> set[type]:
    """Every scikit-learn estimator class that a module of the package defines."""
    classes = set()
    for module in pkgutil.walk_packages(fashion_clustering.__path__, "fashion_clustering."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, BaseEstimator) and value.__module__ == module.name:
                classes.add(value)
    return classes


def test_every_estimator_the_package_defines_is_checked():
    assert defined_estimators() == {type(e) for e in ESTIMATORS}


# No check is skipped by an estimator here; scikit-learn itself skips check_array_api_input
# for every estimator, its own included, unless SCIPY_ARRAY_API=1 is set.
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learns_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 2)) + np.repeat([[0, 0], [6, 0], [0, 6]], 200, axis=0)


def sizes_off_target(labels: np.ndarray, k: int) -> int:
    return int(np.abs(np.bincount(labels, minlength=k) - len(labels) / k).max())


@pytest.mark.parametrize("estimator, capped", [
    (EqualSizeGaussianMixture(3, size_max_iter=1, random_state=0), "size_max_iter"),
    (EqualSizeKMeans(3, size_max_iter=1, random_state=0), "size_max_iter"),
    (EqualSizeKMeans(3, max_iter=1, random_state=0), "max_iter"),
], ids=["mixture-sizes", "kmeans-sizes", "kmeans-lloyd"])
def test_a_solver_stopped_at_its_cap_warns_and_is_not_converged(blobs, estimator, capped):
    with pytest.warns(ConvergenceWarning, match=f"{capped}=1"):
        estimator.fit(blobs)
    assert estimator.converged_ is False


@pytest.mark.parametrize("estimator", [EqualSizeGaussianMixture(3, random_state=0),
                                       EqualSizeKMeans(3, random_state=0)], ids=["mixture", "kmeans"])
def test_a_solver_given_room_converges_in_silence(blobs, estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator.fit(blobs)
    assert estimator.converged_ is True and estimator.size_gap_ <= estimator.size_tol
    assert sizes_off_target(estimator.predict(blobs), 3) <= 2


def test_too_few_distinct_rows_fail_in_kmeans_terms():
    two_points = np.repeat([[0.0, 0.0], [1.0, 1.0]], 10, axis=0)
    with pytest.raises(ValueError, match=r"^EqualSizeKMeans: n_clusters=3 .* X has 2$"):
        EqualSizeKMeans(3, random_state=0).fit(two_points)


def test_a_component_left_empty_fails_in_mixture_terms():
    x = np.concatenate([np.zeros((30, 1)), np.ones((30, 1))])  # two points; three components
    with pytest.raises(ValueError, match=r"^EqualSizeGaussianMixture: components \[[\d, ]+\] get no mass .*reg_covar"):
        EqualSizeGaussianMixture(3, covariance_type="spherical", reg_covar=1e-12,
                                 means_init=[[0.0], [1.0], [50.0]], random_state=0).fit(x)


def test_the_stage_logs_a_cap_in_one_line(blobs, caplog):
    config = KMeansConfig(n_clusters=3, n_init=1, max_iter=1, tol=1e-4, seed=0, cluster_sizes="equal")
    with caplog.at_level(logging.WARNING, logger="fashion_clustering.clustering.fit"):
        fit_kmeans(blobs, config, name="K-Means on codes")
    [record] = caplog.records
    assert record.getMessage().startswith("K-Means on codes: EqualSizeKMeans: the centres still moved "
                                          "after max_iter=1")
    assert "\n" not in record.getMessage()


def test_the_stage_turns_an_impossible_problem_into_its_one_line_error():
    config = KMeansConfig(n_clusters=3, n_init=1, max_iter=10, tol=1e-4, seed=0, cluster_sizes="equal")
    with pytest.raises(PipelineError, match=r"^codes: EqualSizeKMeans: n_clusters=3 clusters of equal size"):
        fit_kmeans(np.repeat([[0.0], [1.0]], 5, axis=0), config, name="codes")


@pytest.mark.parametrize("fit, config", [
    (fit_kmeans, KMeansConfig(n_clusters=3, n_init=1, max_iter=50, tol=1e-4, seed=0)),
    (fit_kmeans, KMeansConfig(n_clusters=3, n_init=1, max_iter=50, tol=1e-4, seed=0,
                              cluster_sizes="equal", standardize=True)),
    (fit_gmm, GmmConfig(3, "diag", 1, 50, 1e-3, 1e-6, "kmeans", 0)),
    (fit_gmm, GmmConfig(3, "diag", 1, 50, 1e-3, 1e-6, "kmeans", 0, cluster_sizes="equal", standardize=True)),
], ids=["kmeans", "equal-kmeans-scaled", "gmm", "equal-gmm-scaled"])
def test_the_factories_return_one_type(blobs, fit, config):
    """A pipeline whatever the settings: its last step is the clusterer, its first the scaler
    or nothing; it predicts as its clusterer does on the rows it sees."""
    model = fit(blobs, config)
    scaled = blobs if model[0] == "passthrough" else model[0].transform(blobs)
    assert model[0] == "passthrough" or config.standardize
    np.testing.assert_array_equal(model.predict(blobs), model[-1].predict(scaled))
