"""What needs no labels: the figures of metrics/clusters.json, the K guide on well-separated
blobs, and the evaluate stage on a made-up run of 8×8 images without labels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from conftest import PROJECT_ROOT
from fashion_clustering.data.description import UNLABELLED, DatasetDescription, write_description
from fashion_clustering.errors import PipelineError
from fashion_clustering.evaluation.choose_k import ChooseKConfig, choose_k, elbow
from fashion_clustering.evaluation.clusters import EvaluateConfig, agreement, cluster_sizes, disagreeing_rows, silhouette
from fashion_clustering.files import save_arrays, write_json
from fashion_clustering.methods import METHODS
from fashion_clustering.params import Section

GUIDE = ChooseKConfig(k_min=2, k_max=12, sample=3000, tolerance=0.01, covariance_type="full",
                      reg_covar=1e-3, max_iter=100, seed=0)


def test_cluster_sizes_count_every_cluster_of_any_split():
    sizes = cluster_sizes({"train": np.array([0, 0, 2]), "test": np.array([1])}, ("train", "test"))
    assert sizes == {"train": [2, 0, 1], "test": [0, 1, 0]}


def test_agreement_is_the_ari_of_every_pair():
    same, shuffled = np.repeat(np.arange(4), 25), np.random.default_rng(0).permutation(np.repeat(np.arange(4), 25))
    ari = agreement({"a": same, "b": (same + 1) % 4, "c": shuffled})
    assert list(ari) == ["a vs b", "a vs c", "b vs c"]
    assert ari["a vs b"] == 1.0 and abs(ari["a vs c"]) < 0.1


def test_two_methods_disagree_where_their_clusters_are_not_matched():
    first = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    second = np.array([5, 5, 4, 3, 3, 3, 4, 4])  # 5 -> 0, 3 -> 1, 4 -> 2: row 2 disagrees
    assert disagreeing_rows(first, second).tolist() == [2]
    assert disagreeing_rows(first, (first + 1) % 3).tolist() == []


def test_silhouette_of_separated_clusters_on_a_seeded_sample():
    x, y = make_blobs(600, centers=3, cluster_std=0.5, random_state=0)
    config = EvaluateConfig(silhouette_sample=200, seed=0)
    assert silhouette(x, y, config) > 0.7
    assert silhouette(x, y, config) == silhouette(x, y, config)
    assert silhouette(x, np.zeros(len(x), int), config) is None  # a single cluster has none


@pytest.mark.parametrize("centers", [4, 7, 10])
def test_the_k_guide_points_to_the_number_of_blobs(centers):
    x, _ = make_blobs(2000, n_features=10, centers=centers, cluster_std=1.0, center_box=(-20, 20), random_state=1)
    guide = choose_k(x, GUIDE)
    assert guide["chosen_k"] == centers
    assert guide["k"] == list(range(2, 13)) and len(guide["bic"]) == 11 and guide["rows"] == 2000


def test_the_elbow_is_where_the_fall_flattens():
    assert elbow([2, 3, 4, 5], [100.0, 10.0, 9.5, 9.0], 0.01) == 3
    assert elbow([2, 3, 4], [1.0, 2.0, 3.0], 0.01) == 2  # a BIC that only rises: the first K
    assert elbow([2, 3, 4], [3.0, 2.0, 1.0], 0.01) == 4


def test_the_k_guides_bad_params_are_named():
    values = dict(k_min=2, k_max=20, sample=5000, tolerance=0.01, covariance_type="full", reg_covar=1e-3,
                  max_iter=100, seed=0)
    with pytest.raises(PipelineError, match=r"choose_k\.k_max must be above choose_k\.k_min \(5\), got 5"):
        ChooseKConfig.from_params(Section({**values, "k_min": 5, "k_max": 5}, "choose_k"))
    with pytest.raises(PipelineError, match=r"choose_k\.k_max must be at most the 30 training rows"):
        choose_k(np.zeros((30, 2)), GUIDE.__class__(**{**values, "k_max": 40}))


ROWS = {"train": 60, "val": 20, "test": 40}


def made_up_run(project, channels: int, labelled: bool) -> None:
    """The inputs of evaluate for random 8×8 images, each method's clusters at random."""
    rng = np.random.default_rng(channels)
    names = ("zero", "one", "two") if labelled else None
    write_description(project / "data/dataset.json",
                      DatasetDescription("squares", 8, 8, channels, names, dict(ROWS)))
    (project / "data/prepared").mkdir(parents=True)
    (project / "data/assignments").mkdir()
    for split, n in ROWS.items():
        y = rng.integers(0, 3, n).astype(np.uint8) if labelled else np.full(n, UNLABELLED, np.int8)
        save_arrays(project / f"data/prepared/{split}.npz", {"x": rng.random((n, 64 * channels), dtype=np.float32), "y": y})
    save_arrays(project / "data/features.npz", {s: rng.normal(size=(n, 3)).astype(np.float32) for s, n in ROWS.items()})
    for method in METHODS:
        save_arrays(project / f"data/assignments/{method}.npz", {s: rng.integers(0, 4, n) for s, n in ROWS.items()})
    (project / "metrics").mkdir()
    write_json(project / "metrics/typicality.json", {"flagged": {"train": 0.0, "val": 0.05, "test": 0.025, "text": 1.0}})
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy(PROJECT_ROOT / name, project / name)


EVALUATE = ("stages/evaluate.py", "data/dataset.json", "data/prepared", "data/features.npz", "data/assignments",
            "metrics/typicality.json", "metrics/evaluate.json", "metrics/confusion", "metrics/cluster_classes.json",
            "metrics/clusters.json")


@pytest.mark.parametrize("channels", [1, 3])
def test_evaluate_without_labels_writes_what_needs_none(tmp_path, monkeypatch, run_script, channels):
    made_up_run(tmp_path, channels, labelled=False)
    monkeypatch.chdir(tmp_path)
    status, err = run_script(*EVALUATE)
    assert status == 0, err
    metrics = tmp_path / "metrics"
    assert json.loads((metrics / "evaluate.json").read_text()) == {}
    assert list((metrics / "confusion").iterdir()) == []
    classes = json.loads((metrics / "cluster_classes.json").read_text())
    assert classes == {m: {str(c): None for c in range(4)} for m in METHODS}
    figures = json.loads((metrics / "clusters.json").read_text())
    assert {m: {s: sum(v) for s, v in sizes.items()} for m, sizes in figures["cluster_sizes"].items()} == {
        m: ROWS for m in METHODS}
    assert set(figures["agreement_ari"]) == {"test", "train"} and len(figures["agreement_ari"]["test"]) == 3
    assert set(figures["silhouette_test"]) == set(METHODS) and figures["silhouette_rows"] == ROWS["test"]
    assert figures["typicality_flagged"] == {"train": 0.0, "val": 0.05, "test": 0.025}


def test_evaluate_with_other_classes_names_them(tmp_path, monkeypatch, run_script):
    made_up_run(tmp_path, 3, labelled=True)
    monkeypatch.chdir(tmp_path)
    status, err = run_script(*EVALUATE)
    assert status == 0, err
    scores = json.loads((tmp_path / "metrics/evaluate.json").read_text())
    assert set(scores) == set(METHODS) and set(scores["ae_gmm"]["test"]) == {"acc", "nmi", "ari", "completeness"}
    classes = json.loads((tmp_path / "metrics/cluster_classes.json").read_text())
    assert set(classes["ae_gmm"].values()) <= {"zero", "one", "two", "(unmatched cluster)"}
    csv = (tmp_path / "metrics/confusion/confusion_ae_gmm.csv").read_text().splitlines()
    assert csv[0] == "actual,predicted" and len(csv) == 1 + ROWS["test"]
