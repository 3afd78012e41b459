"""Clusters named by classes: each cluster's matched class, and confusion matrices of a
clustering against the classes (rows for DVC's ``confusion`` template and a PNG heatmap
with class names on the axes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    table = np.zeros((len(CLASS_NAMES), len(CLASS_NAMES)), dtype=np.int64)
    np.add.at(table, (np.asarray(y_true)[matched], predicted[matched]), 1)
    return table


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
