"""K-Means and Gaussian mixtures fitted on training rows only, applied to every split; on
the features, optionally with clusters of equal size (:mod:`.equal_size`), the mixture
started from the K-Means clusters of the same features."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import PipelineError
from ..files import save_arrays
from ..params import Section, Settings, setting
from .equal_size import EqualSizeGaussianMixture, EqualSizeKMeans
from .rowwise import RowwiseGaussianMixture, RowwiseKMeans

log = logging.getLogger(__name__)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
GMM_INITS = ("kmeans", "k-means++", "random", "random_from_data")
CLUSTER_SIZES = ("equal", "free")
# Where EM starts: from the clusters of the cluster_kmeans stage (one start), from n_init
# starts drawn by init_params, or from both, the best objective winning.
GMM_STARTS = ("kmeans_clusters", "restarts", "both")


# The settings of the features' K-Means that the baseline on pixels, the course's plain
# K-Means, does not have.
SIZE_SETTINGS = ("cluster_sizes", "size_tol", "standardize")


@dataclass(frozen=True)
class KMeansConfig(Settings):
    n_clusters: int = setting("integer", minimum=1)
    n_init: int = setting("integer", minimum=1)
    max_iter: int = setting("integer", minimum=1)
    tol: float = setting("number", minimum=0)
    seed: int = setting("integer", minimum=0)
    # equal: every cluster gets 1/K of the training rows
    cluster_sizes: str = setting("choice", "free", options=CLUSTER_SIZES)
    # equal: relative tolerance of the sizes' solver
    size_tol: float = setting("number", 0.0, minimum=0, exclusive=True)
    # each feature scaled to unit variance on the training rows
    standardize: bool = setting("boolean", False)

    @classmethod
    def from_params(cls, section: Section, sizes: bool = False) -> "KMeansConfig":
        """The settings in a K-Means section of params.yaml, validated; ``sizes``: the
        section also has the :data:`SIZE_SETTINGS` (the features' K-Means does)."""
        return super().from_params(section, skip=() if sizes else SIZE_SETTINGS)


@dataclass(frozen=True)
class GmmConfig(Settings):
    n_components: int = setting("integer", minimum=1)
    covariance_type: str = setting("choice", options=COVARIANCE_TYPES)
    n_init: int = setting("integer", minimum=1)
    max_iter: int = setting("integer", minimum=1)
    tol: float = setting("number", minimum=0)
    reg_covar: float = setting("number", minimum=0)
    init_params: str = setting("choice", options=GMM_INITS)
    seed: int = setting("integer", minimum=0)
    cluster_sizes: str = setting("choice", "free", options=CLUSTER_SIZES)
    size_tol: float = setting("number", 0.0, minimum=0, exclusive=True)
    start: str = setting("choice", "restarts", options=GMM_STARTS)
    # each feature scaled to unit variance on the training rows
    standardize: bool = setting("boolean", False)


def _check_fit_input(x: np.ndarray, n_clusters: int, name: str) -> None:
    if x.ndim != 2 or not np.isfinite(x).all():
        raise PipelineError(f"{name}: expected a finite 2-D array of features, got shape {x.shape}")
    if not 1 <= n_clusters <= len(x):
        raise PipelineError(f"{name}: cannot make {n_clusters} clusters of {len(x)} rows")


def fit_kmeans(x: np.ndarray, config: KMeansConfig, name: str = "K-Means") -> KMeans | EqualSizeKMeans | Pipeline:
    """Fit scikit-learn's K-Means (k-means++ initialisation, Lloyd iterations), or its
    equal-size variant; with ``standardize``, after a scaler fitted on the same rows (UMAP's
    dimensions differ in spread by an order of magnitude, and the widest would decide the
    Euclidean distances)."""
    _check_fit_input(x, config.n_clusters, name)
    started = time.perf_counter()
    log.info("%s: fitting %d clusters%s on %d x %d rows (n_init=%d)", name, config.n_clusters,
             " of equal size" if config.cluster_sizes == "equal" else "", *x.shape, config.n_init)
    if config.cluster_sizes == "equal":
        model = EqualSizeKMeans(config.n_clusters, n_init=config.n_init, max_iter=config.max_iter,
                                tol=config.tol, random_state=config.seed, size_tol=config.size_tol)
    else:
        model = RowwiseKMeans(config.n_clusters, n_init=config.n_init, max_iter=config.max_iter,
                              tol=config.tol, random_state=config.seed)
    if config.standardize:
        model = make_pipeline(StandardScaler(), model)
    model.fit(x)
    kmeans = model[-1] if config.standardize else model
    log.info("%s: %d iterations, inertia %.6g, %.1f s", name, kmeans.n_iter_, kmeans.inertia_,
             time.perf_counter() - started)
    return model


def _covariances(x: np.ndarray, resp: np.ndarray, counts: np.ndarray, means: np.ndarray,
                 reg_covar: float, covariance_type: str) -> np.ndarray:
    """The components' covariances given responsibilities ``resp``, floored by ``reg_covar``."""
    if covariance_type == "full":
        covariances = np.empty((len(means), x.shape[1], x.shape[1]), dtype=x.dtype)  # as scikit-learn's
        for k, mean in enumerate(means):
            difference = x - mean
            covariances[k] = ((resp[:, k] * difference.T) @ difference) / counts[k]
            covariances[k][np.diag_indices(x.shape[1])] += reg_covar
        return covariances
    if covariance_type == "tied":
        covariance = x.T @ x - counts * means.T @ means
        covariance /= np.sum(counts)
        covariance[np.diag_indices(x.shape[1])] += reg_covar
        return covariance
    diagonal = (resp.T @ (x * x)) / counts[:, np.newaxis] - means**2 + reg_covar
    return diagonal if covariance_type == "diag" else np.mean(diagonal, axis=1)


def gaussians_of_clusters(x: np.ndarray, labels: np.ndarray, n_components: int,
                          covariance_type: str, reg_covar: float) -> dict[str, np.ndarray]:
    """``weights_init``, ``means_init`` and ``precisions_init`` of a Gaussian mixture: each
    cluster's share of the rows, mean and (floored) covariance, as EM's first M-step would
    make them from responsibilities that are the clusters' one-hot labels (in scikit-learn's
    operations, tested to give its bytes, so that EM starts where its own M-step would)."""
    resp = np.zeros((len(x), n_components))
    resp[np.arange(len(x)), labels] = 1.0
    counts = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
    means = (resp.T @ x) / counts[:, np.newaxis]
    covariances = _covariances(x, resp, counts, means, reg_covar, covariance_type)
    precisions = (np.linalg.inv(covariances) if covariance_type in ("full", "tied")
                  else 1.0 / covariances)
    return {"weights_init": counts / len(x), "means_init": means, "precisions_init": precisions}


def _fit_mixture(x: np.ndarray, config: GmmConfig, name: str, **initial) -> GaussianMixture:
    settings = dict(covariance_type=config.covariance_type, max_iter=config.max_iter,
                    tol=config.tol, reg_covar=config.reg_covar, init_params=config.init_params,
                    random_state=config.seed, verbose=1, verbose_interval=10,  # progress; 2 would keep timings on the model
                    n_init=1 if initial else config.n_init, **initial)
    if config.cluster_sizes == "equal":
        model = EqualSizeGaussianMixture(config.n_components, size_tol=config.size_tol,
                                         size_max_iter=config.max_iter, **settings)
    else:
        model = RowwiseGaussianMixture(config.n_components, **settings)
    try:
        model.fit(x)
    except ValueError as error:  # e.g. a singular covariance: reg_covar too small
        raise PipelineError(f"{name}: {error}".replace("\n", " ")) from error
    if not model.converged_:
        log.warning("%s: EM did not converge in %d iterations", name, config.max_iter)
    return model


def fit_gmm(x: np.ndarray, config: GmmConfig, name: str = "GMM",
            start_labels: np.ndarray | None = None) -> GaussianMixture | Pipeline:
    """Fit a Gaussian mixture by EM, logging progress every ten iterations; with equal
    cluster sizes, its weights are those that give every component 1/K of the training
    mass. ``start``: from ``start_labels`` (the training rows' K-Means clusters: the free
    energy of the mixture's own starts has preferred optima that merge classes K-Means keeps
    apart), from its own restarts, or both, the best objective kept. With ``standardize``,
    after a scaler fitted on the same rows, as K-Means sees them."""
    _check_fit_input(x, config.n_components, name)
    if config.start != "restarts" and (start_labels is None or start_labels.shape != (len(x),)):
        raise PipelineError(f"{name}: start {config.start!r} needs a cluster label for each of "
                            f"the {len(x)} training rows")
    log.info("%s: fitting %d %s-covariance components%s on %d x %d rows (start: %s)",
             name, config.n_components, config.covariance_type,
             " of equal size" if config.cluster_sizes == "equal" else "", *x.shape,
             config.start if config.start != "restarts" else f"{config.n_init} restarts")
    started = time.perf_counter()
    scaler = StandardScaler().fit(x) if config.standardize else None
    rows = scaler.transform(x) if scaler is not None else x
    candidates = []
    if config.start != "kmeans_clusters":
        candidates.append(_fit_mixture(rows, config, name))
    if config.start != "restarts":
        candidates.append(_fit_mixture(rows, config, name, **gaussians_of_clusters(
            rows, start_labels, config.n_components, config.covariance_type, config.reg_covar)))
    # max keeps the first of equals: the restarts, as scikit-learn keeps its first best start.
    model = max(candidates, key=lambda m: m.lower_bound_)
    log.info("%s: %d EM iterations, objective %.6g%s, %.1f s", name, model.n_iter_,
             model.lower_bound_, "" if len(candidates) == 1 else
             f" (the {'restarts' if model is candidates[0] else 'K-Means start'} won: "
             + ", ".join(f"{m.lower_bound_:.6g}" for m in candidates) + ")",
             time.perf_counter() - started)
    return model if scaler is None else make_pipeline(scaler, model)


def closeness_to_clusters(model: Any, x: np.ndarray, proba: np.ndarray | None) -> np.ndarray:
    """For each row and cluster, how typical the row is of it: the mixture's probability
    ``proba`` if there is one, else minus the distance to a K-Means centre."""
    return proba if proba is not None else -model.transform(x)


def save_assignments(
    path: str | Path, model: Any, features: Mapping[str, np.ndarray], probabilities: bool = False
) -> None:
    """Write each split's cluster labels (and, if asked, membership probabilities)."""
    arrays: dict[str, np.ndarray] = {}
    for split, x in features.items():
        arrays[split] = model.predict(x).astype(np.int32)
        if probabilities:
            arrays[f"{split}_proba"] = model.predict_proba(x).astype(np.float32)
    save_arrays(path, arrays)
