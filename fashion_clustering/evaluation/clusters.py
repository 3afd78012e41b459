"""The figures of a clustering that need no labels (``metrics/clusters.json``): each method's
cluster sizes per split, how much the methods agree with each other (ARI), how well each
method's test clusters are separated in what it clustered (the silhouette), and the share of
each split that the typicality stage flags."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.metrics import adjusted_rand_score, silhouette_score

from ..representation.manifold import seeded_sample
from ..params import Settings, setting
from .metrics import match_clusters

# The splits the methods' agreement is measured on.
AGREEMENT_SPLITS = ("test", "train")


@dataclass(frozen=True)
class EvaluateConfig(Settings):
    """The settings in the evaluate section of params.yaml."""

    silhouette_sample: int = setting("integer", minimum=2)  # test rows the silhouette is measured on, at most
    seed: int = setting("integer", minimum=0)               # which rows, when the test split is larger


def cluster_sizes(by_split: Mapping[str, np.ndarray], splits: Sequence[str]) -> dict[str, list[int]]:
    """Rows of each split in each cluster, for every cluster id up to the largest of any split
    (a cluster empty in one split counts 0 there)."""
    n_clusters = max(int(by_split[s].max()) for s in splits) + 1
    return {s: np.bincount(by_split[s], minlength=n_clusters).tolist() for s in splits}


def pair_name(first: str, second: str) -> str:
    """The key of two methods' agreement in ``metrics/clusters.json``."""
    return f"{first} vs {second}"


def agreement(clusters: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The adjusted Rand index between the clusters of every pair of methods (1: the same
    partition; about 0: no more alike than chance)."""
    return {pair_name(a, b): float(adjusted_rand_score(clusters[a], clusters[b]))
            for a, b in combinations(clusters, 2)}


def disagreeing_rows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The rows whose cluster in ``second`` is not the one matched (Hungarian matching of the
    two clusterings on these rows) to their cluster in ``first``: where two methods disagree,
    with labels or without."""
    mapping = match_clusters(first, second)
    return np.flatnonzero(np.array([mapping.get(c, -1) for c in second.tolist()]) != first)


def silhouette(x: np.ndarray, clusters: np.ndarray, config: EvaluateConfig) -> float | None:
    """The mean silhouette of ``clusters`` of the rows ``x`` (Euclidean), on a seeded sample of
    at most ``config.silhouette_sample`` rows; None when the sample holds a single cluster."""
    chosen = seeded_sample(len(x), config.silhouette_sample, config.seed)
    if len(np.unique(clusters[chosen])) < 2 or len(np.unique(clusters[chosen])) >= len(chosen):
        return None
    return float(silhouette_score(x[chosen], clusters[chosen]))


def label_free_figures(clusters: Mapping[str, Mapping[str, np.ndarray]], clustered: Mapping[str, np.ndarray], flagged: Mapping[str, float],
                       splits: Sequence[str], config: EvaluateConfig) -> dict[str, Any]:
    """What ``metrics/clusters.json`` holds.

    ``clusters``: method -> split -> each row's cluster; ``clustered``: method -> the test rows it clustered (pixels or features);
    ``flagged``: metrics/typicality.json's share flagged, by set.
    """
    return {
        "cluster_sizes": {m: cluster_sizes(by_split, splits) for m, by_split in clusters.items()},
        "agreement_ari": {s: agreement({m: by_split[s] for m, by_split in clusters.items()})
                          for s in AGREEMENT_SPLITS},
        "silhouette_test": {m: silhouette(clustered[m], by_split["test"], config)
                            for m, by_split in clusters.items()},
        "silhouette_rows": int(min(config.silhouette_sample, len(next(iter(clustered.values()))))),
        "typicality_flagged": {s: flagged[s] for s in splits},
    }
