"""Clusters named by classes: each cluster's matched class, and confusion matrices of a
clustering against the classes (rows for DVC's ``confusion`` template and a PNG heatmap
with class names on the axes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from ..data.idx import CLASS_NAMES
from .figures import pyplot, save_figure
from .metrics import match_clusters, matched_predictions

UNMATCHED = "(unmatched cluster)"


def _names(labels: np.ndarray) -> list[str]:
    return [CLASS_NAMES[i] if i >= 0 else UNMATCHED for i in labels]


def cluster_class_names(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, str]:
    """Each cluster's matched class name (or :data:`UNMATCHED`), keyed by cluster id as text."""
    mapping = match_clusters(y_true, y_pred)
    return {str(cluster): CLASS_NAMES[mapping[cluster]] if cluster in mapping else UNMATCHED
            for cluster in np.unique(y_pred).tolist()}


def confusion_csv(y_true: np.ndarray, y_pred: np.ndarray) -> str:
    """One ``actual,predicted`` row per image; a cluster is named by its matched class."""
    lines = ["actual,predicted"]
    for actual, predicted in zip(_names(y_true), _names(matched_predictions(y_true, y_pred))):
        lines.append(f"{actual},{predicted}")
    return "\n".join(lines) + "\n"


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """10×10 counts: rows are classes, columns the classes the clusters were matched to.

    Rows of unmatched clusters (only when there are more than ten) are left out.
    """
    predicted = matched_predictions(y_true, y_pred)
    matched = predicted >= 0
    return confusion_matrix(np.asarray(y_true)[matched], predicted[matched], labels=range(len(CLASS_NAMES)))


def write_confusion_png(path: str | Path, y_true: np.ndarray, y_pred: np.ndarray, title: str) -> None:
    """A heatmap of :func:`confusion_counts` with the count in each cell."""
    table = confusion_counts(y_true, y_pred)
    figure, axes = pyplot().subplots(figsize=(8, 7))
    image = axes.imshow(table, cmap="Blues")
    ticks = np.arange(len(CLASS_NAMES))
    axes.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    axes.set_yticks(ticks, CLASS_NAMES)
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


def cluster_class_index(names: dict[str, str], clusters: np.ndarray) -> np.ndarray:
    """Each row's cluster as the index of the class it is matched to (-1: unmatched)."""
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
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


def largest_confusions(table: np.ndarray, count: int) -> list[tuple[int, str, str]]:
    """The ``count`` largest off-diagonal cells of a class × matched-class table
    (:func:`confusion_counts`): ``(images, true class, class of the cluster they fell in)``."""
    off = table.copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(-off, axis=None, kind="stable")[:count]
    return [(int(off.flat[i]), CLASS_NAMES[i // table.shape[1]], CLASS_NAMES[i % table.shape[1]])
            for i in order if off.flat[i] > 0]

