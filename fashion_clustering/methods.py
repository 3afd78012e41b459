"""The three clustering methods the pipeline compares, by the names its files use."""

from __future__ import annotations

METHODS = {
    "baseline_kmeans": "K-Means on raw pixels",
    "ae_kmeans": "Autoencoder + K-Means",
    "ae_gmm": "Autoencoder + GMM",
}
# Methods that cluster the encode stage's features; the others cluster raw pixels.
ON_FEATURES = ("ae_kmeans", "ae_gmm")
