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

from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import PipelineError
from .rowwise import RowwiseGaussianMixture, squared_distances


# A damping this large makes steps too small to change the objective in floating point.
MAX_DAMPING = 1e12


def _log_softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's log-softmax and log-sum-exp.

    Not ``scipy.special``'s: its logsumexp leaves the largest term out of the sum and adds
    it back by ``log1p``, which rounds otherwise (by up to 1e-14 here); the fitted weights
    and means, hence the published models and assignments, are those of this arithmetic.
    """
    top = scores.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
    return scores - lse, lse[:, 0]


def _softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's softmax and log-sum-exp."""
    log_softmax, lse = _log_softmax_rows(scores)
    return np.exp(log_softmax), lse


def _balance(log_prob: np.ndarray, w: np.ndarray, target: float) -> tuple[np.ndarray, float]:
    """The responsibilities under log weights ``w``, and the objective of
    :func:`equal_mass_log_weights` there."""
    resp, lse = _softmax_rows(log_prob + w)
    return resp, target * w.sum() - lse.sum()


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
    resp, objective = _balance(log_prob, w, target)
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
            trial_resp, trial_objective = _balance(log_prob, trial, target)
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
    return _log_softmax_rows(w[np.newaxis])[0][0]  # normalised: the weights sum to one


class EqualSizeGaussianMixture(RowwiseGaussianMixture):
    """scikit-learn's ``GaussianMixture`` whose weights are not the components' responsibility
    mass but the weights that make those masses equal (:func:`equal_mass_log_weights`).

    Each E-step re-solves them for the current means and covariances, so the last one (made
    after the best restart is restored) leaves weights under which ``predict_proba`` gives
    every component 1/K of the training mass.

    Parameters
    ----------
    n_components, covariance_type, tol, reg_covar, max_iter, n_init, init_params, \
weights_init, means_init, precisions_init, random_state, verbose, verbose_interval
        As for :class:`sklearn.mixture.GaussianMixture`.
    size_tol : float, default=1e-4
        Relative tolerance of every component's training mass around 1/K.
    size_max_iter : int, default=1000
        Iterations of the weights' solver per E-step, at most.

    Attributes
    ----------
    log_weights_ : ndarray of shape (n_components,)
        The equal-mass log weights. Balancing a tight clump can take a weight below the
        smallest float, so these, not ``weights_`` (their exponential, for show), are used.
    weights_, means_, covariances_, precisions_, precisions_cholesky_, converged_, n_iter_, \
lower_bound_, n_features_in_
        As for :class:`sklearn.mixture.GaussianMixture`; ``lower_bound_`` is the free
        energy that :meth:`_e_step` describes.
    """

    _parameter_constraints: dict = {
        **RowwiseGaussianMixture._parameter_constraints,
        # The same kinds of number as EM's own tolerance and iteration cap.
        "size_tol": GaussianMixture._parameter_constraints["tol"],
        "size_max_iter": KMeans._parameter_constraints["max_iter"],
    }

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


class LloydRun(NamedTuple):
    """What Lloyd's iterations from one start end with."""

    centers: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int


class EqualSizeKMeans(ClusterMixin, BaseEstimator):
    """K-Means whose assignment step gives every cluster n / K training rows: Lloyd's
    iterations with :func:`equal_count_offsets` on the squared distances, from k-means++
    starts; the restart with the smallest within-cluster sum of squares is kept.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters, K.
    n_init : int, default=1
        Starts drawn by k-means++; the one of least inertia is kept.
    max_iter : int, default=300
        Lloyd's iterations per start, and the offsets' solver's per assignment, at most.
    tol : float, default=1e-4
        Convergence: the squared moves of the centres, relative to the mean variance of the
        features (scikit-learn's ``KMeans.tol``).
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ starts.
    size_tol : float, default=1e-4
        Relative tolerance of the solver that balances the soft cluster sizes.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    offsets_ : ndarray of shape (n_clusters,)
        Subtracted from the squared distances before the nearest centre is taken.
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of the training rows' squared distances to their centres.
    n_iter_ : int
    n_features_in_ : int

    Notes
    -----
    ``predict`` assigns a row to ``argmin_k(|x - c_k|^2 - offsets_[k])``, as the last
    assignment step did the training rows.
    """

    _parameter_constraints: dict = {
        **{key: KMeans._parameter_constraints[key] for key in ("n_clusters", "max_iter", "tol", "random_state")},
        "n_init": KMeans._parameter_constraints["max_iter"],  # an integer >= 1 (no "auto" here)
        "size_tol": KMeans._parameter_constraints["tol"],
    }

    def __init__(self, n_clusters: int = 8, *, n_init: int = 1, max_iter: int = 300,
                 tol: float = 1e-4, random_state=None, size_tol: float = 1e-4):
        self.n_clusters, self.n_init, self.max_iter = n_clusters, n_init, max_iter
        self.tol, self.random_state, self.size_tol = tol, random_state, size_tol

    def _assignment(self, x: np.ndarray, centers: np.ndarray, offsets: np.ndarray):
        distances = squared_distances(x, centers)
        offsets = equal_count_offsets(distances, offsets, self.size_tol, self.max_iter)
        return distances, offsets, np.argmin(distances - offsets, axis=1)

    def _lloyd(self, x: np.ndarray, centers: np.ndarray, tol: float) -> LloydRun:
        offsets = np.zeros(self.n_clusters)
        for n_iter in range(1, self.max_iter + 1):
            _, offsets, labels = self._assignment(x, centers, offsets)
            previous = centers
            centers = np.stack([x[labels == j].mean(axis=0) for j in range(self.n_clusters)])
            if ((centers - previous) ** 2).sum() <= tol:
                break
        distances, offsets, labels = self._assignment(x, centers, offsets)
        inertia = float(distances[np.arange(len(x)), labels].sum())
        return LloydRun(centers, offsets, labels, inertia, n_iter)

    def fit(self, x: np.ndarray, y=None) -> "EqualSizeKMeans":
        self._validate_params()
        x = validate_data(self, x, dtype=np.float64)
        random_state = check_random_state(self.random_state)
        tol = self.tol * float(np.var(x, axis=0).mean())  # scikit-learn's scale of tol
        best = None
        for _ in range(self.n_init):
            initial_centers, _ = kmeans_plusplus(x, self.n_clusters, random_state=random_state)
            run = self._lloyd(x, initial_centers, tol)
            if best is None or run.inertia < best.inertia:
                best = run
        self.cluster_centers_, self.offsets_, self.labels_ = best.centers, best.offsets, best.labels
        self.inertia_, self.n_iter_ = best.inertia, best.n_iter
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Each row's distance to each centre, as scikit-learn's ``KMeans.transform``."""
        return np.sqrt(squared_distances(self._checked(x), self.cluster_centers_))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Each row's cluster: the nearest centre once the offsets are taken off."""
        distances = squared_distances(self._checked(x), self.cluster_centers_)
        return np.argmin(distances - self.offsets_, axis=1)

    def _checked(self, x: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, x, dtype=np.float64, reset=False)
