"""The three clustering methods the pipeline compares, by the names its files and metrics
use: a method's name, not its stage's (the cluster_kmeans stage writes ae_kmeans files), so
that the names users compare runs by stay put whichever stage makes them."""

from __future__ import annotations

METHODS = {
    "baseline_kmeans": "K-Means on raw pixels",
    "ae_kmeans": "Autoencoder + K-Means",
    "ae_gmm": "Autoencoder + GMM",
}
# Methods that cluster the encode stage's features; the others cluster raw pixels.
ON_FEATURES = ("ae_kmeans", "ae_gmm")
