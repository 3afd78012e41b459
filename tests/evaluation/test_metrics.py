"""Clustering scores: Hungarian-matched accuracy, NMI, ARI, completeness."""

import numpy as np
import pytest

from fashion_clustering.errors import PipelineError
from fashion_clustering.evaluation.metrics import (
    cluster_accuracy, clustering_scores, contingency, match_clusters, matched_predictions,
)

Y_TRUE = np.repeat(np.arange(10), 5)                      # 10 classes, 5 rows each
PERMUTATION = np.array([3, 7, 0, 9, 1, 8, 2, 6, 4, 5])    # cluster id of each class
Y_PERMUTED = PERMUTATION[Y_TRUE]


def test_contingency_counts_cluster_class_pairs():
    table = contingency(np.array([0, 0, 1, 2]), np.array([1, 1, 0, 1]))
    np.testing.assert_array_equal(table, [[0, 1, 0], [2, 0, 1]])


def test_accuracy_of_a_permutation_is_one():
    assert cluster_accuracy(Y_TRUE, Y_PERMUTED) == 1.0
    assert match_clusters(Y_TRUE, Y_PERMUTED) == {int(c): k for k, c in enumerate(PERMUTATION)}


@pytest.mark.parametrize(
    "y_pred, expected",
    [
        # Cluster 0 holds one class-0 and three class-1 rows, cluster 1 two class-0 rows.
        ([1, 1, 0, 0, 0, 0], 5 / 6),
        # Each cluster is two rows of one class and one of the other.
        ([0, 1, 0, 1, 0, 1], 4 / 6),
        # One cluster for everything: only the matched class counts.
        ([0, 0, 0, 0, 0, 0], 3 / 6),
    ],
)
def test_accuracy_hand_computed(y_pred, expected):
    y_true = np.array([0, 0, 0, 1, 1, 1])
    assert cluster_accuracy(y_true, np.array(y_pred)) == pytest.approx(expected)


def test_more_clusters_than_classes():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([0, 1, 2, 2, 3])
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(3 / 5)
    predicted = matched_predictions(y_true, y_pred)
    assert predicted[2] == predicted[3] == 1
    assert predicted[4] == -1                       # cluster 3 is left unmatched
    assert sorted(predicted[:2].tolist()) == [-1, 0]  # one of clusters 0, 1 gets class 0
    assert len(match_clusters(y_true, y_pred)) == 2


def test_fewer_clusters_than_classes():
    y_true = np.array([0, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 0])
    assert cluster_accuracy(y_true, y_pred) == 0.5
    np.testing.assert_array_equal(matched_predictions(y_true, y_pred), [2, 2, 2, 2])


def test_matched_predictions_of_permutation_are_the_labels():
    np.testing.assert_array_equal(matched_predictions(Y_TRUE, Y_PERMUTED), Y_TRUE)


def test_clustering_scores_of_permutation():
    scores = clustering_scores(Y_TRUE, Y_PERMUTED)
    assert set(scores) == {"acc", "nmi", "ari", "completeness"}
    assert all(isinstance(v, float) for v in scores.values())
    assert scores == pytest.approx({"acc": 1.0, "nmi": 1.0, "ari": 1.0, "completeness": 1.0})


def test_clustering_scores_of_a_poor_clustering():
    y_pred = np.arange(len(Y_TRUE)) % 2  # two clusters, each half of every class
    scores = clustering_scores(Y_TRUE, y_pred)
    assert scores["acc"] == pytest.approx(6 / 50)  # two matched classes: 3 + 3 rows
    assert scores["completeness"] < 0.1
    assert abs(scores["ari"]) < 0.1


@pytest.mark.parametrize(
    "y_true, y_pred",
    [([0, 1, 2], [0, 1]), ([[0], [1]], [[0], [1]]), ([0, -1], [0, 1]), ([0, 1], [0, -1])],
    ids=["lengths", "2-d", "negative-label", "negative-cluster"],  # 2-d: equal shapes, wrong ndim
)
def test_bad_label_vectors(y_true, y_pred):
    with pytest.raises(PipelineError):
        clustering_scores(np.array(y_true), np.array(y_pred))
    with pytest.raises(PipelineError):
        cluster_accuracy(np.array(y_true), np.array(y_pred))


def test_mismatched_lengths_message():
    with pytest.raises(PipelineError, match=r"equal-length.*\(3,\) and \(2,\)"):
        contingency(np.array([0, 1, 2]), np.array([0, 1]))


def test_empty_label_vectors():
    with pytest.raises(PipelineError):
        cluster_accuracy(np.array([], dtype=int), np.array([], dtype=int))
