"""Where the equal-size mixture starts: from the K-Means clusters, as params.yaml commits it,
not from its own restarts, whose best free energy can pair up clumps of different classes."""

import pickle
from dataclasses import replace

import numpy as np
import pytest

from conftest import PROJECT_ROOT
from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig, fit_gmm, fit_kmeans
from fashion_clustering.errors import PipelineError
from fashion_clustering.evaluation.metrics import cluster_accuracy
from fashion_clustering.params import Section


def split_classes(n_per_clump: int, seed: int):
    """Two classes in 2-D, each two tight clumps: (0, 0) and (2, -2); (8, 0) and (4, -6).

    Equal-size K-Means pairs the clumps by distance, and so by class. The mixture's own
    start, plain K-Means, gives (8, 0) a cluster of its own and the other three clumps the
    other; equal-mass EM then hands (8, 0) the clump on its row, (0, 0), which a diagonal
    Gaussian covers with a tiny vertical variance: a better free energy, and half of each
    class in each component. UMAP also gives some classes as two separate clumps."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [2.0, -2.0], [8.0, 0.0], [4.0, -6.0]])
    clump = rng.permutation(np.repeat(np.arange(4), n_per_clump))
    return centers[clump] + 0.5 * rng.normal(size=(len(clump), 2)), clump // 2


@pytest.fixture(scope="module")
def data():
    """The toy, the committed cluster_gmm settings for two diagonal components, and the
    training rows' clusters from the committed equal-size K-Means, as the stages chain them.
    Diagonal: in two dimensions the pairing across classes needs axis-aligned Gaussians (a
    full one covers any pair of clumps alike); on the real 10-D features full-covariance
    restarts merge classes too (seed 0: ACC 0.588, against 0.718 from the K-Means start, with
    the better free energy; benchmarks/results/exploration.md)."""
    x, y = split_classes(100, seed=0)
    gmm = replace(GmmConfig.from_params(Section.load("cluster_gmm", PROJECT_ROOT / "params.yaml")),
                  n_components=2, covariance_type="diag")
    kmeans = replace(KMeansConfig.from_params(
        Section.load("cluster_kmeans", PROJECT_ROOT / "params.yaml"), sizes=True), n_clusters=2)
    return x, y, gmm, fit_kmeans(x, kmeans).predict(x)


def test_committed_start_recovers_classes_the_restarts_mix(data):
    """The default start finds the classes; the restarts' optimum mixes them and has the
    better free energy, so neither restarts nor the best of both may be the default."""
    x, y, config, kmeans_labels = data
    assert cluster_accuracy(y, kmeans_labels) >= 0.95
    default = fit_gmm(x, config, start_labels=kmeans_labels)
    assert cluster_accuracy(y, default.predict(x)) >= 0.95
    restarts = fit_gmm(x, replace(config, start="restarts"))
    assert cluster_accuracy(y, restarts.predict(x)) < 0.75
    assert restarts[-1].lower_bound_ > default[-1].lower_bound_


def test_seeded_fit_from_kmeans_clusters_pickles_identically(data):
    """DVC caches the model file by hash: the same start must give the same bytes."""
    x, _, config, kmeans_labels = data
    config = replace(config, start="kmeans_clusters")
    first, second = (fit_gmm(x, config, start_labels=kmeans_labels) for _ in range(2))
    assert pickle.dumps(first) == pickle.dumps(second)


@pytest.mark.parametrize("start", ["kmeans_clusters", "both"])
@pytest.mark.parametrize("labels", [None, np.zeros(399, dtype=int)], ids=["none", "short"])
def test_start_from_clusters_needs_a_label_per_row(data, start, labels):
    """Without a label for every training row there is no start: a one-line error."""
    x, _, config, _ = data
    with pytest.raises(PipelineError, match="needs a cluster label for each of the 400") as error:
        fit_gmm(x, replace(config, start=start), start_labels=labels)
    assert "\n" not in str(error.value)
