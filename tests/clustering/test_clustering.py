"""K-Means and Gaussian mixtures on features, and the assignment files they write."""

from dataclasses import replace

import numpy as np
import pytest
import yaml

from fashion_clustering.clustering.equal_size import EqualSizeGaussianMixture, EqualSizeKMeans
from fashion_clustering.clustering.fit import (
    GmmConfig, KMeansConfig, fit_gmm, fit_kmeans, save_assignments,
)
from fashion_clustering.clustering.rowwise import RowwiseGaussianMixture, RowwiseKMeans
from fashion_clustering.errors import PipelineError
from fashion_clustering.evaluation.metrics import cluster_accuracy
from fashion_clustering.files import load_arrays, read_pickle, write_pickle
from fashion_clustering.params import Section

from conftest import PROJECT_ROOT

KMEANS = KMeansConfig(n_clusters=3, n_init=1, max_iter=100, tol=1e-4, seed=0)
GMM = GmmConfig(n_components=3, covariance_type="full", n_init=1, max_iter=100, tol=1e-3,
                reg_covar=1e-6, init_params="kmeans", seed=0)
CENTERS = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 0.0], [-10.0, 10.0, 5.0]])


def blobs(n_per_blob: int, seed: int):
    """Three tight, far-apart Gaussian blobs in 3-D, rows shuffled, and their blob ids."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(3), n_per_blob))
    x = CENTERS[labels] + rng.normal(scale=0.5, size=(len(labels), 3))
    return x.astype(np.float32), labels


@pytest.fixture(scope="module")
def train():
    return blobs(50, seed=1)


def test_kmeans_recovers_blobs(train):
    x, y = train
    model = fit_kmeans(x, KMEANS)[-1]
    assert cluster_accuracy(y, model.labels_) == 1.0
    x_new, y_new = blobs(20, seed=2)
    assert cluster_accuracy(y_new, model.predict(x_new)) == 1.0


def test_gmm_recovers_blobs(train):
    x, y = train
    for covariance_type in ("full", "tied", "diag", "spherical"):
        model = fit_gmm(x, replace(GMM, covariance_type=covariance_type))
        assert cluster_accuracy(y, model.predict(x)) == 1.0, covariance_type


def test_same_seed_same_labels(train):
    x, _ = train
    config = replace(KMEANS, n_clusters=5)  # more clusters than blobs: initialisation matters
    first, again = fit_kmeans(x, config)[-1], fit_kmeans(x, config)[-1]
    np.testing.assert_array_equal(first.labels_, again.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)
    gmm_config = replace(GMM, n_components=5, init_params="random")
    np.testing.assert_array_equal(fit_gmm(x, gmm_config).predict(x), fit_gmm(x, gmm_config).predict(x))


def test_too_many_clusters(train):
    x, _ = train
    small = x[:4]
    message = r"^[\w-]+: cannot make 5 clusters of 4 training rows; set clusters\.n_clusters to at most 4$"
    with pytest.raises(PipelineError, match=message):
        fit_kmeans(small, replace(KMEANS, n_clusters=5))
    with pytest.raises(PipelineError, match=message):
        fit_gmm(small, replace(GMM, n_components=5))


@pytest.mark.parametrize("fit, config", [(fit_kmeans, KMEANS), (fit_gmm, GMM)], ids=["kmeans", "gmm"])
def test_bad_features(train, fit, config):
    x, _ = train
    with_nan = x.copy()
    with_nan[7, 1] = np.nan
    with pytest.raises(PipelineError, match="finite 2-D array"):
        fit(with_nan, config, name="codes")
    with pytest.raises(PipelineError, match=r"^codes: .*got shape \(150,\)"):
        fit(x[:, 0], config, name="codes")


def test_unknown_covariance_type(train):
    x, _ = train
    with pytest.raises(PipelineError) as info:
        fit_gmm(x, replace(GMM, covariance_type="weird"))
    assert "'weird'" in str(info.value) and "covariance_type" in str(info.value)


def test_singular_covariance_is_pipeline_error():
    x = np.zeros((30, 2), dtype=np.float64)
    x[15:] = 1.0  # two points, repeated: each component's covariance is exactly zero
    with pytest.raises(PipelineError) as info:
        fit_gmm(x, replace(GMM, n_components=2, reg_covar=0.0))
    assert "reg_covar" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("probabilities", [False, True])
def test_save_assignments(tmp_path, train, probabilities):
    x, _ = train
    features = {"train": x, "val": blobs(10, seed=3)[0], "test": blobs(7, seed=4)[0]}
    model = fit_gmm(x, GMM) if probabilities else fit_kmeans(x, KMEANS)
    path = tmp_path / "assignments.npz"
    save_assignments(path, model, features, probabilities=probabilities)

    names = ("train", "val", "test")
    loaded = load_arrays(path, names)
    for split in names:
        assert loaded[split].dtype == np.int32
        assert loaded[split].shape == (len(features[split]),)
        np.testing.assert_array_equal(loaded[split], model.predict(features[split]))
    proba_names = tuple(f"{split}_proba" for split in names)
    if probabilities:
        proba = load_arrays(path, proba_names)
        for split in names:
            p = proba[f"{split}_proba"]
            assert p.dtype == np.float32 and p.shape == (len(features[split]), 3)
            np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
            np.testing.assert_array_equal(p.argmax(axis=1), loaded[split])
    else:
        with pytest.raises(PipelineError, match="missing"):
            load_arrays(path, proba_names)


def test_a_pickled_model_predicts_as_the_fitted_one(tmp_path, train):
    x, _ = train
    model = fit_kmeans(x, KMEANS)
    path = tmp_path / "models" / "kmeans.pkl"
    write_pickle(path, model)
    restored = read_pickle(path, "fit it")
    np.testing.assert_array_equal(restored.predict(x), model[-1].labels_)


@pytest.mark.parametrize("fit, config", [(fit_kmeans, KMEANS), (fit_gmm, GMM)], ids=["kmeans", "gmm"])
def test_equal_fits_pickle_to_equal_bytes(tmp_path, train, fit, config):
    x, _ = train
    write_pickle(tmp_path / "first.pkl", fit(x, config))
    write_pickle(tmp_path / "again.pkl", fit(x, config))
    assert (tmp_path / "first.pkl").read_bytes() == (tmp_path / "again.pkl").read_bytes()


@pytest.mark.parametrize("kind, setting, prior", [
    ("fashion-mnist", "auto", "equal"), ("folder", "auto", "free"), ("arrays", "auto", "free"),
    ("idx", "auto", "free"), ("folder", "equal", "equal"), ("fashion-mnist", "free", "free"),
])
def test_auto_sizes_are_equal_only_for_a_source_known_to_be_balanced(tmp_path, kind, setting, prior):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["fetch"]["source"]["kind"] = kind
    params["cluster_kmeans"]["cluster_sizes"] = params["cluster_gmm"]["cluster_sizes"] = setting
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    kmeans = KMeansConfig.from_params(Section.load("cluster_kmeans", path), sizes=True)
    gmm = GmmConfig.from_params(Section.load("cluster_gmm", path))
    assert (kmeans.cluster_sizes, gmm.cluster_sizes) == (prior, prior)
    equal = prior == "equal"
    assert type(kmeans.estimator()) is (EqualSizeKMeans if equal else RowwiseKMeans)
    assert type(gmm.estimator()) is (EqualSizeGaussianMixture if equal else RowwiseGaussianMixture)
