"""Clusters named by classes: each cluster's matched class, and confusion matrices of a
clustering against the classes (rows for DVC's ``confusion`` template and a PNG heatmap
with class names on the axes). The class names are the data set's
(:class:`~fashion_clustering.data.description.DatasetDescription`); a data set without
labels has clusters with no class (null in ``metrics/cluster_classes.json``), named by number."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix

from .figures import pyplot, save_figure
from .metrics import match_clusters, matched_predictions

UNMATCHED = "(unmatched cluster)"

# A cluster's class as metrics/cluster_classes.json holds it: a class name, UNMATCHED, or None
# (no labels).
ClusterClasses = Mapping[str, str | None]


def _names(labels: np.ndarray, class_names: Sequence[str]) -> list[str]:
    return [class_names[i] if i >= 0 else UNMATCHED for i in labels]


def cluster_class_names(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict[str, str]:
    """Each cluster's matched class name (or :data:`UNMATCHED`), keyed by cluster id as text."""
    mapping = match_clusters(y_true, y_pred)
    return {str(cluster): class_names[mapping[cluster]] if cluster in mapping else UNMATCHED
            for cluster in np.unique(y_pred).tolist()}


def unnamed_clusters(y_pred: np.ndarray) -> dict[str, None]:
    """Each cluster keyed by its id as text, with no class: what a data set without labels has."""
    return {str(cluster): None for cluster in np.unique(y_pred).tolist()}


def cluster_title(names: ClusterClasses, cluster: int) -> str:
    """How a reader names ``cluster``: its matched class, or ``cluster <k>`` when it has none."""
    name = names.get(str(cluster), UNMATCHED)
    return f"cluster {cluster}" if name is None else name


def confusion_csv(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> str:
    """One ``actual,predicted`` row per image; a cluster is named by its matched class."""
    lines = ["actual,predicted"]
    predicted = matched_predictions(y_true, y_pred)
    for actual, matched in zip(_names(y_true, class_names), _names(predicted, class_names)):
        lines.append(f"{actual},{matched}")
    return "\n".join(lines) + "\n"


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Classes × classes counts: rows are classes, columns the classes the clusters were matched to.

    Rows of unmatched clusters (only when there are more clusters than classes) are left out.
    """
    predicted = matched_predictions(y_true, y_pred)
    matched = predicted >= 0
    return confusion_matrix(np.asarray(y_true)[matched], predicted[matched], labels=range(n_classes))


def write_confusion_png(path: str | Path, y_true: np.ndarray, y_pred: np.ndarray, title: str,
                        class_names: Sequence[str]) -> None:
    """A heatmap of :func:`confusion_counts` with the count in each cell."""
    table = confusion_counts(y_true, y_pred, len(class_names))
    figure, axes = pyplot().subplots(figsize=(8, 7))
    image = axes.imshow(table, cmap="Blues")
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("cluster, named by its matched class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    threshold = table.max() / 2
    for (row, col), count in np.ndenumerate(table):
        axes.text(col, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > threshold else "black")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    save_figure(figure, path)


def cluster_class_index(names: ClusterClasses, clusters: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """Each row's cluster as the index of the class it is matched to (-1: unmatched)."""
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index.get(names.get(str(c), UNMATCHED), -1) for c in clusters.tolist()])


def most_typical_rows(closeness: np.ndarray, clusters: np.ndarray, size: int) -> dict[int, np.ndarray]:
    """For each cluster, the ``size`` rows assigned to it that are most typical of it
    (``closeness``: rows × clusters, higher is more typical; ties by row)."""
    result = {}
    for cluster in range(closeness.shape[1]):
        rows = np.flatnonzero(clusters == cluster)
        order = np.argsort(-closeness[rows, cluster], kind="stable")
        result[cluster] = rows[order[:size]]
    return result


def largest_confusions(table: np.ndarray, count: int, class_names: Sequence[str]) -> list[tuple[int, str, str]]:
    """The ``count`` largest off-diagonal cells of a class × matched-class table
    (:func:`confusion_counts`): ``(images, true class, class of the cluster they fell in)``."""
    off = table.copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(-off, axis=None, kind="stable")[:count]
    return [(int(off.flat[i]), class_names[i // table.shape[1]], class_names[i % table.shape[1]])
            for i in order if off.flat[i] > 0]
