"""K-Means and Gaussian mixtures fitted on training rows only, applied to every split; on
the features, optionally with clusters of equal size (:mod:`.equal_size`), the mixture
started from the K-Means clusters of the same features."""

from __future__ import annotations

import logging
import re
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..data.dataset import classes_known_balanced
from ..errors import PipelineError
from ..files import save_arrays
from ..params import N_CLUSTERS_KEY, Section, Settings, read_n_clusters, setting
from .equal_size import EqualSizeGaussianMixture, EqualSizeKMeans
from .rowwise import RowwiseGaussianMixture, RowwiseKMeans

log = logging.getLogger(__name__)

CLUSTER_SIZES = ("equal", "free")
# auto: clusters of equal size where the source's classes are known to be balanced, free
# elsewhere. A run's config holds the prior it resolved to, one of CLUSTER_SIZES.
AUTO_SIZES = "auto"
# Where EM starts: from the clusters of the cluster_kmeans stage (one start), from n_init
# starts drawn by init_params, or from both, the best objective winning.
GMM_STARTS = ("kmeans_clusters", "restarts", "both")


# The settings of the features' K-Means that the baseline on pixels, the course's plain
# K-Means, does not have.
SIZE_SETTINGS = ("cluster_sizes", "size_tol", "size_max_iter", "standardize")
# Of those, the equal-size estimators' parameters.
SIZE_PARAMS = ("size_tol", "size_max_iter")


def cluster_sizes_prior(cluster_sizes: str, path: str | Path) -> str:
    """The prior a ``cluster_sizes`` setting of the params file at ``path`` gives a run:
    ``auto`` is ``equal`` when the source's classes are known to be balanced
    (:func:`..data.dataset.classes_known_balanced`), ``free`` otherwise, as measured on
    balanced and unbalanced collections (docs/equal_sizes.md)."""
    if cluster_sizes != AUTO_SIZES:
        return cluster_sizes
    return "equal" if classes_known_balanced(path) else "free"


def _estimator_params(config: Settings, names: tuple[str, ...]) -> dict[str, Any]:
    """The config's values of the estimator parameters ``names``; ``seed`` is ``random_state``."""
    return {"random_state" if name == "seed" else name: getattr(config, name) for name in names}


# scikit-learn's message for a parameter that breaks its rule: "The 'tol' parameter of KMeans
# must be a float in the range [0.0, inf). Got -1 instead."
_BROKEN_RULE = re.compile(r"must be (?P<rule>.+)\. Got (?P<value>.+) instead\.$", re.DOTALL)


def check_params(section: Section, estimator: BaseEstimator, params: Mapping[str, Any]) -> None:
    """Check each of ``params`` (the section's values, by the estimator's parameter names) by
    the estimator's own rules, one at a time, so that a broken one fails in one line naming its
    key: ``params.yaml: cluster_gmm.size_tol must be a float in the range (0.0, inf), got 0``.

    Raises
    ------
    PipelineError
        Naming the first key whose value the estimator refuses.
    """
    for name, value in params.items():
        try:
            clone(estimator).set_params(**{name: value})._validate_params()
        except ValueError as error:  # scikit-learn's InvalidParameterError
            key = f"{section.name}.{'seed' if name == 'random_state' else name}"
            match = _BROKEN_RULE.search(str(error))
            reason = f"must be {match['rule']}, got {match['value']}" if match else f"is refused: {error}"
            raise PipelineError(f"{section.file}: {key} {reason}".replace("\n", " ")) from error


@dataclass(frozen=True)
class KMeansConfig(Settings):
    """A K-Means section: the baseline's on pixels, or the features' (with :data:`SIZE_SETTINGS`).

    The estimator's own parameters are read as they are and checked by its rules
    (:func:`check_params`); the rest by the params reader's.
    """

    n_clusters: int = setting("value")  # from the clusters section
    n_init: int = setting("value")
    max_iter: int = setting("value")
    tol: float = setting("value")
    seed: int = setting("integer", minimum=0)
    # equal: every cluster gets 1/K of the training rows
    cluster_sizes: str = setting("choice", "free", options=(AUTO_SIZES, *CLUSTER_SIZES))
    # equal: the sizes' solver's relative tolerance and iterations per assignment step
    size_tol: float = setting("value", 1e-4)
    size_max_iter: int = setting("value", 1000)
    # each feature scaled to unit variance on the training rows
    standardize: bool = setting("boolean", False)

    # The section's own estimator parameters (n_clusters comes from the clusters section).
    KMEANS_PARAMS = ("n_init", "max_iter", "tol", "seed")

    def estimator(self) -> RowwiseKMeans | EqualSizeKMeans:
        """The unfitted clusterer these settings describe."""
        names = ("n_clusters", *self.KMEANS_PARAMS)
        if self.cluster_sizes == "equal":
            return EqualSizeKMeans(**_estimator_params(self, (*names, *SIZE_PARAMS)))
        return RowwiseKMeans(**_estimator_params(self, names))

    @classmethod
    def from_params(cls, section: Section, sizes: bool = False, n_clusters: int | None = None) -> "KMeansConfig":
        """The settings in a K-Means section of params.yaml, validated; ``sizes``: the
        section also has the :data:`SIZE_SETTINGS` (the features' K-Means does).
        ``n_clusters``: None reads ``clusters.n_clusters`` of the section's file; ``cluster_sizes``
        is the prior it gives (:func:`cluster_sizes_prior`)."""
        config = super().from_params(section, skip=() if sizes else SIZE_SETTINGS, given={
            "n_clusters": read_n_clusters(section.file) if n_clusters is None else n_clusters})
        config = replace(config, cluster_sizes=cluster_sizes_prior(config.cluster_sizes, section.file))
        check_params(section, EqualSizeKMeans() if sizes else RowwiseKMeans(), _estimator_params(
            config, (*cls.KMEANS_PARAMS, *SIZE_PARAMS) if sizes else cls.KMEANS_PARAMS))
        return config


@dataclass(frozen=True)
class GmmConfig(Settings):
    """The cluster_gmm section. As in :class:`KMeansConfig`, the mixture's own parameters
    are checked by its rules."""

    n_components: int = setting("value")  # from the clusters section
    covariance_type: str = setting("value")
    n_init: int = setting("value")
    max_iter: int = setting("value")
    tol: float = setting("value")
    reg_covar: float = setting("value")
    init_params: str = setting("value")
    seed: int = setting("integer", minimum=0)
    cluster_sizes: str = setting("choice", "free", options=(AUTO_SIZES, *CLUSTER_SIZES))
    size_tol: float = setting("value", 1e-4)
    size_max_iter: int = setting("value", 1000)
    start: str = setting("choice", "restarts", options=GMM_STARTS)
    # each feature scaled to unit variance on the training rows
    standardize: bool = setting("boolean", False)

    # The section's own estimator parameters (n_components comes from the clusters section).
    MIXTURE_PARAMS = ("covariance_type", "n_init", "max_iter", "tol", "reg_covar", "init_params", "seed")

    def estimator(self) -> RowwiseGaussianMixture | EqualSizeGaussianMixture:
        """The unfitted mixture these settings describe; its EM progress is logged every ten
        iterations (:class:`.rowwise.RowwiseGaussianMixture`)."""
        names = ("n_components", *self.MIXTURE_PARAMS)
        if self.cluster_sizes == "equal":
            return EqualSizeGaussianMixture(verbose=1, **_estimator_params(self, (*names, *SIZE_PARAMS)))
        return RowwiseGaussianMixture(verbose=1, **_estimator_params(self, names))

    @classmethod
    def from_params(cls, section: Section, skip: tuple[str, ...] = (), n_clusters: int | None = None) -> "GmmConfig":
        """The settings in the cluster_gmm section, validated; its components are
        ``n_clusters``, None: ``clusters.n_clusters`` of the section's file; ``cluster_sizes`` is
        the prior it gives (:func:`cluster_sizes_prior`)."""
        config = super().from_params(section, skip, given={
            "n_components": read_n_clusters(section.file) if n_clusters is None else n_clusters})
        config = replace(config, cluster_sizes=cluster_sizes_prior(config.cluster_sizes, section.file))
        check_params(section, EqualSizeGaussianMixture(),
                     _estimator_params(config, (*cls.MIXTURE_PARAMS, *SIZE_PARAMS)))
        return config


def _check_fit_input(x: np.ndarray, n_clusters: int, name: str) -> None:
    if x.ndim != 2 or not np.isfinite(x).all():
        raise PipelineError(f"{name}: expected a finite 2-D array of features, got shape {x.shape}")
    if not 1 <= n_clusters <= len(x):
        raise PipelineError(f"{name}: cannot make {n_clusters} clusters of {len(x)} training rows; "
                            f"set {N_CLUSTERS_KEY} to at most {len(x)}")


def _fit(model: BaseEstimator, X: np.ndarray, name: str) -> BaseEstimator:
    """``model`` fitted on ``X``: its ``ValueError`` becomes the stage's one-line error, and
    each ``ConvergenceWarning`` (a solver stopped at its cap) a logged line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            model.fit(X)
        except ValueError as error:  # e.g. a singular covariance: reg_covar too small
            raise PipelineError(f"{name}: {error}".replace("\n", " ")) from error
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            log.warning("%s: %s", name, " ".join(str(warning.message).split()))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def _scaled(scaler: StandardScaler | None, model: BaseEstimator) -> Pipeline:
    """The fitted clusterer behind its fitted scaler, or behind nothing: always a pipeline whose
    last step (``model[-1]``) is the clusterer, whichever the settings."""
    return Pipeline([("scale", scaler if scaler is not None else "passthrough"), ("cluster", model)])


def fit_kmeans(x: np.ndarray, config: KMeansConfig, name: str = "K-Means") -> Pipeline:
    """Fit scikit-learn's K-Means (k-means++ initialisation, Lloyd iterations), or its
    equal-size variant; with ``standardize``, after a scaler fitted on the same rows (UMAP's
    dimensions differ in spread by an order of magnitude, and the widest would decide the
    Euclidean distances).

    Returns
    -------
    Pipeline
        The scaler (or ``"passthrough"``) and the fitted clusterer, ``model[-1]``.
    """
    _check_fit_input(x, config.n_clusters, name)
    started = time.perf_counter()
    log.info("%s: fitting %d clusters%s on %d x %d rows (n_init=%d)", name, config.n_clusters,
             " of equal size" if config.cluster_sizes == "equal" else "", *x.shape, config.n_init)
    scaler = StandardScaler().fit(x) if config.standardize else None
    kmeans = _fit(config.estimator(), scaler.transform(x) if scaler is not None else x, name)
    log.info("%s: %d iterations, inertia %.6g, %.1f s", name, kmeans.n_iter_, kmeans.inertia_,
             time.perf_counter() - started)
    return _scaled(scaler, kmeans)


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


def _fit_mixture(x: np.ndarray, config: GmmConfig, name: str, **initial) -> RowwiseGaussianMixture:
    """The mixture fitted from its own ``n_init`` starts, or from the one start ``initial``."""
    model = config.estimator()
    if initial:
        model.set_params(n_init=1, **initial)
    return _fit(model, x, name)


def fit_gmm(x: np.ndarray, config: GmmConfig, name: str = "GMM",
            start_labels: np.ndarray | None = None) -> Pipeline:
    """Fit a Gaussian mixture by EM, logging progress every ten iterations; with equal
    cluster sizes, its weights are those that give every component 1/K of the training
    mass. ``start``: from ``start_labels`` (the training rows' K-Means clusters: the free
    energy of the mixture's own starts has preferred optima that merge classes K-Means keeps
    apart), from its own restarts, or both, the best objective kept. With ``standardize``,
    after a scaler fitted on the same rows, as K-Means sees them.

    Returns
    -------
    Pipeline
        The scaler (or ``"passthrough"``) and the fitted mixture, ``model[-1]``.
    """
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
    return _scaled(scaler, model)


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
