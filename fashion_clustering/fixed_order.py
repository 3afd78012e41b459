"""Arithmetic whose answer for a row does not depend on the rows it comes with.

NumPy's matrix products go to BLAS, which orders their additions by CPU, matrix shape and
thread count, and its reductions are blocked by the array's length: a row computed alone
can get other last bits than the same row among others. Here every sum runs over the
features one after the other, in element-wise operations that round the same way for each
row whatever the batch. The clusterers' predictions (:mod:`.clustering.rowwise`) and the
embedding of new codes (:mod:`.representation.manifold`) are built on it, so
``fashion-clustering predict`` gives one image exactly what the pipeline gives it among
the test images.
"""

from __future__ import annotations

import numpy as np

# The distances between rows that both UMAP and the embedding of new codes use; euclidean
# ones are left squared (the square root keeps their order).
METRICS = ("euclidean", "manhattan")


def row_sums(terms: np.ndarray) -> np.ndarray:
    """Sums over the last axis, taken one column after the other."""
    total = terms[..., 0].copy()
    for j in range(1, terms.shape[-1]):
        total += terms[..., j]
    return total


def row_products(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``x @ matrix``, each entry summed over the features in their order."""
    total = x[:, :1] * matrix[0]
    for i in range(1, x.shape[1]):
        total += x[:, i:i + 1] * matrix[i]
    return total


def metric_terms(gaps: np.ndarray, metric: str, out: np.ndarray | None = None) -> np.ndarray:
    """Each feature's share of a distance, from the rows' differences ``gaps``: its square
    (euclidean, left squared) or its size (manhattan)."""
    return np.multiply(gaps, gaps, out=out) if metric == "euclidean" else np.abs(gaps, out=out)


def distances(rows: np.ndarray, points: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Each row's distance to each point (rows × points), in their common float type:
    squared euclidean, or manhattan; summed over the features in their order."""
    total = np.zeros((len(rows), len(points)), np.result_type(rows, points))
    term = np.empty_like(total)
    for feature in range(rows.shape[1]):
        np.subtract(rows[:, feature, None], points[None, :, feature], out=term)
        total += metric_terms(term, metric, out=term)
    return total
