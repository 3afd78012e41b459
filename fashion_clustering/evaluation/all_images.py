"""The papers' protocol: all 70,000 images clustered together.

DEC, IDEC and N2D fit their clusterers on train and test images together and score the same
images. The pipeline fits on the training split and scores held-out images, the harder
figure; this refits its clusterers, with the same settings, on every split at once, so that
its results can be set beside the papers' (the benchmark reports both).
"""

from __future__ import annotations

import numpy as np

from ..clustering.fit import GmmConfig, KMeansConfig, fit_gmm, fit_kmeans
from ..representation.exact_encoder import ExactEncoder, exact_encode
from ..representation.manifold import UmapConfig, fit_umap
from .metrics import clustering_scores


def score_all_images(
    encoder: ExactEncoder, x: np.ndarray, y: np.ndarray, batch_size: int, umap: UmapConfig | None,
    baseline: KMeansConfig, kmeans: KMeansConfig, gmm: GmmConfig,
) -> dict[str, dict[str, float]]:
    """Scores of the three methods, each fitted on all rows of ``x`` and scored on them.

    The autoencoder is the pipeline's (fitted on the training split): only the UMAP step and
    the clusterers see every image, as in N2D; the mixture starts from the K-Means clusters
    of the same rows, as the pipeline's does.
    """
    features = exact_encode(encoder, x, batch_size)
    if umap is not None:
        features = fit_umap(features, umap).embedding
    kmeans_labels = fit_kmeans(features, kmeans, "K-Means on all codes").predict(features)
    return {
        "baseline_kmeans": clustering_scores(y, fit_kmeans(x, baseline, "K-Means on all pixels")[-1].labels_),
        "ae_kmeans": clustering_scores(y, kmeans_labels),
        "ae_gmm": clustering_scores(y, fit_gmm(features, gmm, "GMM on all codes", kmeans_labels).predict(features)),
    }
