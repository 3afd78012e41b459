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
from ..params import Section
from .equal_size import EqualSizeGaussianMixture, EqualSizeKMeans
from .rowwise import RowwiseGaussianMixture, RowwiseKMeans

log = logging.getLogger(__name__)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
GMM_INITS = ("kmeans", "k-means++", "random", "random_from_data")
CLUSTER_SIZES = ("equal", "free")
# Where EM starts: from the clusters of the cluster_kmeans stage (one start), from n_init
# starts drawn by init_params, or from both, the best objective winning.
GMM_STARTS = ("kmeans_clusters", "restarts", "both")


@dataclass(frozen=True)
class KMeansConfig:
    n_clusters: int
    n_init: int
    max_iter: int
    tol: float
    seed: int
    cluster_sizes: str = "free"  # equal: every cluster gets 1/K of the training rows
    size_tol: float = 0.0        # equal: relative tolerance of the sizes' solver
    standardize: bool = False    # each feature scaled to unit variance on the training rows

    @classmethod
    def from_params(cls, p: Section, sizes: bool = False) -> "KMeansConfig":
        """The settings in a K-Means section of params.yaml, validated; ``sizes``: the
        section also chooses the cluster sizes and the scaling (the features' K-Means does,
        the baseline on pixels stays the course's plain K-Means)."""
        return cls(
            n_clusters=p.integer("n_clusters", minimum=1), n_init=p.integer("n_init", minimum=1),
            max_iter=p.integer("max_iter", minimum=1), tol=p.number("tol", minimum=0),
            seed=p.integer("seed", minimum=0),
            **(dict(_size_settings(p), standardize=p.boolean("standardize")) if sizes else {}),
        )


@dataclass(frozen=True)
class GmmConfig:
    n_components: int
    covariance_type: str
    n_init: int
    max_iter: int
    tol: float
    reg_covar: float
    init_params: str
    seed: int
    cluster_sizes: str = "free"
    size_tol: float = 0.0
    start: str = "restarts"
    standardize: bool = False    # each feature scaled to unit variance on the training rows

    @classmethod
    def from_params(cls, p: Section) -> "GmmConfig":
        """The settings in the cluster_gmm section of params.yaml, validated."""
        return cls(
            n_components=p.integer("n_components", minimum=1),
            covariance_type=p.choice("covariance_type", COVARIANCE_TYPES),
            n_init=p.integer("n_init", minimum=1), max_iter=p.integer("max_iter", minimum=1),
            tol=p.number("tol", minimum=0), reg_covar=p.number("reg_covar", minimum=0),
            init_params=p.choice("init_params", GMM_INITS), seed=p.integer("seed", minimum=0),
            start=p.choice("start", GMM_STARTS), standardize=p.boolean("standardize"),
            **_size_settings(p),
        )


def _size_settings(p: Section) -> dict:
    return {"cluster_sizes": p.choice("cluster_sizes", CLUSTER_SIZES),
            "size_tol": p.number("size_tol", minimum=0, exclusive=True)}


def _check_fit_input(x: np.ndarray, n_clusters: int, what: str) -> None:
    if x.ndim != 2 or not np.isfinite(x).all():
        raise PipelineError(f"{what}: expected a finite 2-D array of features, got shape {x.shape}")
    if not 1 <= n_clusters <= len(x):
        raise PipelineError(f"{what}: cannot make {n_clusters} clusters of {len(x)} rows")


def fit_kmeans(x: np.ndarray, config: KMeansConfig, what: str = "K-Means") -> KMeans | EqualSizeKMeans | Pipeline:
    """Fit scikit-learn's K-Means (k-means++ initialisation, Lloyd iterations), or its
    equal-size variant; with ``standardize``, after a scaler fitted on the same rows (UMAP's
    dimensions differ in spread by an order of magnitude, and the widest would decide the
    Euclidean distances)."""
    _check_fit_input(x, config.n_clusters, what)
    start = time.perf_counter()
    log.info("%s: fitting %d clusters%s on %d x %d rows (n_init=%d)", what, config.n_clusters,
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
    log.info("%s: %d iterations, inertia %.6g, %.1f s", what, kmeans.n_iter_, kmeans.inertia_,
             time.perf_counter() - start)
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


def _fit_mixture(x: np.ndarray, config: GmmConfig, what: str, **start) -> GaussianMixture:
    settings = dict(covariance_type=config.covariance_type, max_iter=config.max_iter,
                    tol=config.tol, reg_covar=config.reg_covar, init_params=config.init_params,
                    random_state=config.seed, verbose=1, verbose_interval=10,  # progress; 2 would keep timings on the model
                    n_init=1 if start else config.n_init, **start)
    if config.cluster_sizes == "equal":
        model = EqualSizeGaussianMixture(config.n_components, size_tol=config.size_tol,
                                         size_max_iter=config.max_iter, **settings)
    else:
        model = RowwiseGaussianMixture(config.n_components, **settings)
    try:
        model.fit(x)
    except ValueError as error:  # e.g. a singular covariance: reg_covar too small
        raise PipelineError(f"{what}: {error}".replace("\n", " ")) from error
    if not model.converged_:
        log.warning("%s: EM did not converge in %d iterations", what, config.max_iter)
    return model


def fit_gmm(x: np.ndarray, config: GmmConfig, what: str = "GMM",
            start_labels: np.ndarray | None = None) -> GaussianMixture | Pipeline:
    """Fit a Gaussian mixture by EM, logging progress every ten iterations; with equal
    cluster sizes, its weights are those that give every component 1/K of the training
    mass. ``start``: from ``start_labels`` (the training rows' K-Means clusters: the free
    energy of the mixture's own starts has preferred optima that merge classes K-Means keeps
    apart), from its own restarts, or both, the best objective kept. With ``standardize``,
    after a scaler fitted on the same rows, as K-Means sees them."""
    _check_fit_input(x, config.n_components, what)
    if config.covariance_type not in COVARIANCE_TYPES:
        raise PipelineError(f"{what}: covariance_type must be one of {COVARIANCE_TYPES}, "
                            f"got {config.covariance_type!r}")
    if config.start != "restarts" and (start_labels is None or start_labels.shape != (len(x),)):
        raise PipelineError(f"{what}: start {config.start!r} needs a cluster label for each of "
                            f"the {len(x)} training rows")
    log.info("%s: fitting %d %s-covariance components%s on %d x %d rows (start: %s)",
             what, config.n_components, config.covariance_type,
             " of equal size" if config.cluster_sizes == "equal" else "", *x.shape,
             config.start if config.start != "restarts" else f"{config.n_init} restarts")
    start_time = time.perf_counter()
    scaler = StandardScaler().fit(x) if config.standardize else None
    rows = scaler.transform(x) if scaler is not None else x
    candidates = []
    if config.start != "kmeans_clusters":
        candidates.append(_fit_mixture(rows, config, what))
    if config.start != "restarts":
        candidates.append(_fit_mixture(rows, config, what, **gaussians_of_clusters(
            rows, start_labels, config.n_components, config.covariance_type, config.reg_covar)))
    # max keeps the first of equals: the restarts, as scikit-learn keeps its first best start.
    model = max(candidates, key=lambda m: m.lower_bound_)
    log.info("%s: %d EM iterations, objective %.6g%s, %.1f s", what, model.n_iter_,
             model.lower_bound_, "" if len(candidates) == 1 else
             f" (the {'restarts' if model is candidates[0] else 'K-Means start'} won: "
             + ", ".join(f"{m.lower_bound_:.6g}" for m in candidates) + ")",
             time.perf_counter() - start_time)
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
