"""How well clusters recover the classes: ACC (Hungarian matching), NMI, ARI, completeness."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    completeness_score,
    normalized_mutual_info_score,
)
from sklearn.metrics.cluster import contingency_matrix

from ..errors import PipelineError


def contingency(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Counts of ``(cluster, class)`` pairs: rows are clusters, columns classes, each at
    its id (scikit-learn's table holds only the ids present), so that the matching's row
    and column indices are the ids themselves."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise PipelineError(f"expected two equal-length, non-empty label vectors, got shapes "
                            f"{y_true.shape} and {y_pred.shape}")
    if y_true.min() < 0 or y_pred.min() < 0:
        raise PipelineError("labels and cluster ids must be non-negative integers")
    table = np.zeros((y_pred.max() + 1, y_true.max() + 1), dtype=np.int64)
    table[np.ix_(np.unique(y_pred), np.unique(y_true))] = contingency_matrix(y_pred, y_true)
    return table


def match_clusters(y_true: np.ndarray, y_pred: np.ndarray) -> dict[int, int]:
    """The one-to-one cluster → class matching that maximizes agreement (Hungarian method).

    With more clusters than classes, unmatched clusters are left out of the mapping.
    """
    clusters, classes = linear_sum_assignment(contingency(y_true, y_pred), maximize=True)
    return dict(zip(clusters.tolist(), classes.tolist()))


def matched_predictions(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Each row's predicted class: its cluster's matched class, or -1 if unmatched."""
    mapping = match_clusters(y_true, y_pred)
    lookup = np.full(int(np.max(y_pred)) + 1, -1, dtype=np.int64)
    for cluster, label in mapping.items():
        lookup[cluster] = label
    return lookup[y_pred]


def cluster_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of rows whose cluster is matched to their class (unsupervised ACC)."""
    return float(np.mean(matched_predictions(y_true, y_pred) == np.asarray(y_true)))


def clustering_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """ACC, NMI, ARI and completeness (what the original course report called accuracy)."""
    return {
        "acc": cluster_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "completeness": float(completeness_score(y_true, y_pred)),
    }


