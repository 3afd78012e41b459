"""Clusters of equal size: a Gaussian mixture and K-Means that share the training rows out
equally among their clusters.

Fashion-MNIST's ten classes are of equal size, and a free mixture does not know it: it can
spend two components on the bags and leave Pullover, Coat and Shirt in one. The methods ahead
of N2D on this data build a uniform cluster prior in (ClusterGAN's uniform one-hot codes,
SCAN's entropy term, SwAV's Sinkhorn equipartition). Here it is a per-cluster offset on each
row's log score, solved at every iteration so that every cluster receives 1/K of the training
rows: the mixture's log weights (Sinkhorn's column scalings of the responsibilities), or
K-Means' offsets on the squared distances (the dual of the balanced assignment). The fitted
models keep the offsets, so a new row is assigned on its own, exactly as a training row.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import kmeans_plusplus
from sklearn.utils import check_random_state

from ..errors import PipelineError
from .rowwise import RowwiseGaussianMixture, squared_distances


# A damping this large makes steps too small to change the objective in floating point.
MAX_DAMPING = 1e12


def _log_softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's log-softmax and log-sum-exp."""
    top = scores.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
    return scores - lse, lse[:, 0]


def _softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's softmax and log-sum-exp."""
    log_softmax, lse = _log_softmax_rows(scores)
    return np.exp(log_softmax), lse


def equal_mass_log_weights(log_prob: np.ndarray, log_weights: np.ndarray, tol: float,
                           max_iter: int) -> np.ndarray:
    """Log mixture weights under which every component's responsibility mass over the rows
    of ``log_prob`` (n × K log densities) is 1/K, within a relative ``tol``.

    They maximise the concave ``n/K * sum(w) - sum_i logsumexp(log_prob[i] + w)``, whose
    gradient is the target mass minus each component's mass: Newton's method damped as
    Levenberg and Marquardt's, warm-started from ``log_weights``. UMAP packs rows into tight
    clumps whose responsibilities switch between components almost as a step, so the
    balancing weights can be hundreds of log units apart and the curvature all but vanish;
    Sinkhorn's fixed-point iteration, the usual solver, then crawls, and plain Newton leaps.
    The damping shrinks while steps succeed, so the steps grow to the size needed.
    """
    n, k = log_prob.shape
    target = n / k
    w = np.array(log_weights, dtype=np.float64)
    resp, lse = _softmax_rows(log_prob + w)
    objective = target * w.sum() - lse.sum()
    damping = 1.0
    for _ in range(max_iter):
        mass = resp.sum(axis=0)
        gradient = target - mass
        if np.abs(gradient).max() <= tol * target:
            break
        curvature = np.diag(mass) - resp.T @ resp  # minus the Hessian; singular along ones
        while True:
            # Marquardt's scaling by the masses, at least one row's: an empty component
            # (its rows all gone to others) still gets a step back towards them.
            trial = w + np.linalg.solve(curvature + damping * np.diag(np.maximum(mass, 1.0)), gradient)
            trial_resp, trial_lse = _softmax_rows(log_prob + trial)
            trial_objective = target * trial.sum() - trial_lse.sum()
            if trial_objective > objective or damping > MAX_DAMPING:
                break
            damping *= 4
        if trial_objective <= objective:  # no step gains in floating point: the optimum
            break
        damping /= 4
        w, resp, objective = trial, trial_resp, trial_objective
    if not np.all(resp.sum(axis=0) > 0):
        raise PipelineError("equal-size mixture: a component has no rows near it; raise "
                            "reg_covar or lower n_components")
    return w - (w.max() + np.log(np.exp(w - w.max()).sum()))


class EqualSizeGaussianMixture(RowwiseGaussianMixture):
    """scikit-learn's ``GaussianMixture`` whose weights are not the components' responsibility
    mass but the weights that make those masses equal (:func:`equal_mass_log_weights`).

    Each E-step re-solves them for the current means and covariances, so the last one (made
    after the best restart is restored) leaves weights under which ``predict_proba`` gives
    every component 1/K of the training mass. They are kept as ``log_weights_``: balancing a
    tight clump can take a weight below the smallest float (``weights_``, their exponential,
    is for show; the final E-step sets it). ``size_tol`` is the relative tolerance on the masses and ``size_max_iter`` caps
    the solver's iterations per E-step.
    """

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6,
                 max_iter=100, n_init=1, init_params="kmeans", weights_init=None, means_init=None,
                 precisions_init=None, random_state=None, verbose=0, verbose_interval=10,
                 size_tol=1e-4, size_max_iter=1000):
        super().__init__(n_components, covariance_type=covariance_type, tol=tol,
                         reg_covar=reg_covar, max_iter=max_iter, n_init=n_init,
                         init_params=init_params, weights_init=weights_init, means_init=means_init,
                         precisions_init=precisions_init, random_state=random_state,
                         verbose=verbose, verbose_interval=verbose_interval)
        self.size_tol = size_tol
        self.size_max_iter = size_max_iter

    def _initialize(self, X, resp, xp=None):
        super()._initialize(X, resp, xp=xp)
        self.log_weights_ = np.log(self.weights_)

    def _e_step(self, X, xp=None):
        """Responsibilities under the equal-mass weights, and, as what EM maximises and
        restarts are compared by, the mean over rows of ``logsumexp_k(log N(x | k) + w_k)``
        minus the mean log weight: the free energy of the responsibilities given equal
        masses (their expected log density plus their entropy). The plain likelihood
        would charge a solution for the extreme weights that balance tight clumps."""
        log_prob = self._estimate_log_prob(X)
        self.log_weights_ = equal_mass_log_weights(log_prob, self.log_weights_, self.size_tol,
                                                   self.size_max_iter)
        self.weights_ = np.exp(self.log_weights_)
        log_resp, lse = _log_softmax_rows(log_prob + self.log_weights_)
        return lse.mean() - self.log_weights_.mean(), log_resp

    def _estimate_log_weights(self, xp=None):
        return self.log_weights_

    def _get_parameters(self):
        return (*super()._get_parameters(), self.log_weights_)

    def _set_parameters(self, params, xp=None):
        *gaussian, self.log_weights_ = params
        super()._set_parameters(tuple(gaussian), xp=xp)


# Equal-size K-Means balances soft assignments ``softmax(-d / t)`` at a temperature ``t``
# this fraction of the rows' mean squared distance to their nearest centre: soft enough for
# the solver above, hard enough that the hard assignments it implies keep the sizes within
# about 0.1 % of each other (on the real features: 4,795-4,806 rows for a target of 4,800).
KMEANS_TEMPERATURE = 0.01


def equal_count_offsets(distances: np.ndarray, offsets: np.ndarray, tol: float,
                        max_iter: int) -> np.ndarray:
    """Offsets ``b`` under which ``argmin_k(distances[i, k] - b[k])`` gives every cluster
    about n / K rows: the equal-mass log weights of ``-distances / t``, times ``t``
    (:data:`KMEANS_TEMPERATURE`); warm-started from ``offsets``."""
    temperature = KMEANS_TEMPERATURE * distances.min(axis=1).mean()
    if temperature == 0:  # every row on a centre: nothing to balance
        return offsets
    return temperature * equal_mass_log_weights(-distances / temperature, offsets / temperature,
                                                tol, max_iter)


class EqualSizeKMeans(ClusterMixin, BaseEstimator):
    """K-Means whose assignment step gives every cluster n / K training rows: Lloyd's
    iterations with :func:`equal_count_offsets` on the squared distances, from k-means++
    starts; the restart with the smallest within-cluster sum of squares is kept.

    ``predict`` assigns a row to ``argmin_k(|x - c_k|^2 - offsets_[k])`` with the fitted
    offsets, as the last assignment step did the training rows.
    """

    def __init__(self, n_clusters: int = 8, *, n_init: int = 1, max_iter: int = 300,
                 tol: float = 1e-4, random_state=None, size_tol: float = 1e-4):
        self.n_clusters, self.n_init, self.max_iter = n_clusters, n_init, max_iter
        self.tol, self.random_state, self.size_tol = tol, random_state, size_tol

    def _assignment(self, x: np.ndarray, centers: np.ndarray, offsets: np.ndarray):
        distances = squared_distances(x, centers)
        offsets = equal_count_offsets(distances, offsets, self.size_tol, self.max_iter)
        return distances, offsets, np.argmin(distances - offsets, axis=1)

    def _lloyd(self, x: np.ndarray, centers: np.ndarray, tol: float):
        offsets = np.zeros(self.n_clusters)
        for n_iter in range(1, self.max_iter + 1):
            _, offsets, labels = self._assignment(x, centers, offsets)
            previous = centers
            centers = np.stack([x[labels == j].mean(axis=0) for j in range(self.n_clusters)])
            if ((centers - previous) ** 2).sum() <= tol:
                break
        distances, offsets, labels = self._assignment(x, centers, offsets)
        inertia = float(distances[np.arange(len(x)), labels].sum())
        return centers, offsets, labels, inertia, n_iter

    def fit(self, x: np.ndarray, y=None) -> "EqualSizeKMeans":
        x = np.asarray(x, dtype=np.float64)
        random_state = check_random_state(self.random_state)
        tol = self.tol * float(np.var(x, axis=0).mean())  # scikit-learn's scale of tol
        best = None
        for _ in range(self.n_init):
            start, _ = kmeans_plusplus(x, self.n_clusters, random_state=random_state)
            run = self._lloyd(x, start, tol)
            if best is None or run[3] < best[3]:
                best = run
        self.cluster_centers_, self.offsets_, self.labels_, self.inertia_, self.n_iter_ = best
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Each row's distance to each centre, as scikit-learn's ``KMeans.transform``."""
        return np.sqrt(squared_distances(x, self.cluster_centers_))

    def predict(self, x: np.ndarray) -> np.ndarray:
        distances = squared_distances(x, self.cluster_centers_)
        return np.argmin(distances - self.offsets_, axis=1)
