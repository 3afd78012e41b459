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

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

# scikit-learn has no public way for an estimator outside it to declare its parameters' rules
# and have them checked on fit (imbalanced-learn imports these two the same way);
# tests/clustering/test_equal_size.py fails if an upgrade moves them.
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from .rowwise import RowwiseGaussianMixture, squared_distances


# A damping this large makes steps too small to change the objective in floating point.
MAX_DAMPING = 1e12
# exp of less is 0 in float64 (below a 256th of the smallest subnormal, exp(-745.13)).
EXP_ZERO_BELOW = -750.0
# Rows whose softmax is computed at a time (speed, not results: each row's is its own).
ROW_BLOCK = 4096


def _exp(x: np.ndarray) -> np.ndarray:
    """``np.exp(x)``, leaving out the arguments whose exponential is 0 anyway: on x86 NumPy's
    vector ``exp`` runs ten times slower over values where it underflows, and balancing
    pushes half of the terms of a row hundreds of log units under its largest."""
    out = np.zeros_like(x)
    return np.exp(x, out=out, where=x >= EXP_ZERO_BELOW)


def _log_softmax_rows(scores: np.ndarray, exponentiate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each row's log-softmax (its softmax if ``exponentiate``) and log-sum-exp, computed
    :data:`ROW_BLOCK` rows at a time so that their passes stay in the cache.

    Not ``scipy.special``'s: its logsumexp leaves the largest term out of the sum and adds
    it back by ``log1p``, which rounds otherwise (by up to 1e-14 here); the fitted weights
    and means, hence the published models and assignments, are those of this arithmetic.
    """
    out, lse = np.empty_like(scores), np.empty(len(scores))
    for first in range(0, len(scores), ROW_BLOCK):
        rows = slice(first, first + ROW_BLOCK)
        top = scores[rows].max(axis=1, keepdims=True)
        block_lse = top + np.log(_exp(scores[rows] - top).sum(axis=1, keepdims=True))
        out[rows] = scores[rows] - block_lse
        if exponentiate:
            out[rows] = _exp(out[rows])
        lse[rows] = block_lse[:, 0]
    return out, lse


def _softmax_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's softmax and log-sum-exp."""
    return _log_softmax_rows(scores, exponentiate=True)


def _balance(log_prob: np.ndarray, w: np.ndarray, target: float) -> tuple[np.ndarray, float]:
    """The responsibilities under log weights ``w``, and the objective of
    :func:`equal_mass_log_weights` there."""
    resp, lse = _softmax_rows(log_prob + w)
    return resp, target * w.sum() - lse.sum()


class Balanced(NamedTuple):
    """What :func:`equal_mass_log_weights` ends with."""

    log_weights: np.ndarray  # normalised: their exponentials sum to one
    gap: float  # the largest relative deviation of a component's mass from 1/K there


def equal_mass_log_weights(log_prob: np.ndarray, log_weights: np.ndarray, tol: float,
                           max_iter: int) -> Balanced:
    """Log mixture weights under which every component's responsibility mass over the rows
    of ``log_prob`` (n × K log densities) is 1/K, within a relative ``tol``; after
    ``max_iter`` steps, or when no step gains in floating point, the weights reached, with
    their :attr:`Balanced.gap` for the caller to judge.

    They maximise the concave ``n/K * sum(w) - sum_i logsumexp(log_prob[i] + w)``, whose
    gradient is the target mass minus each component's mass: Newton's method damped as
    Levenberg and Marquardt's, warm-started from ``log_weights``. UMAP packs rows into tight
    clumps whose responsibilities switch between components almost as a step, so the
    balancing weights can be hundreds of log units apart and the curvature all but vanish;
    Sinkhorn's fixed-point iteration, the usual solver, then crawls, and plain Newton leaps.
    The damping shrinks while steps succeed, so the steps grow to the size needed.

    Raises
    ------
    ValueError
        If components end with no mass at all (no weight brings a row to them), naming them.
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
    mass = resp.sum(axis=0)
    if not np.all(mass > 0):
        raise ValueError(f"{np.flatnonzero(mass == 0).tolist()} get no mass at any row")
    return Balanced(_log_softmax_rows(w[np.newaxis])[0][0], float(np.abs(target - mass).max() / target))


def _warn_short(estimator: BaseEstimator, what: str) -> None:
    """A :class:`ConvergenceWarning` naming the estimator, what stopped short, and the cap."""
    warnings.warn(f"{type(estimator).__name__}: {what}", ConvergenceWarning, stacklevel=3)


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
        Relative tolerance of every component's training mass around 1/K; above 0.
    size_max_iter : int, default=1000
        Iterations of the weights' solver per E-step, at most.

    Attributes
    ----------
    log_weights_ : ndarray of shape (n_components,)
        The equal-mass log weights. Balancing a tight clump can take a weight below the
        smallest float, so these, not ``weights_`` (their exponential, for show), are used.
    size_gap_ : float
        The largest relative deviation of a component's training mass from 1/K under
        ``log_weights_``: at most ``size_tol`` unless the solver stopped at its cap.
    converged_ : bool
        EM converged, and so did the last weights' solve (``size_gap_ <= size_tol``).
    weights_, means_, covariances_, precisions_, precisions_cholesky_, n_iter_, \
lower_bound_, n_features_in_
        As for :class:`sklearn.mixture.GaussianMixture`; ``lower_bound_`` is the free
        energy that :meth:`_e_step` describes.

    Warns
    -----
    ConvergenceWarning
        When EM, or the last weights' solve, stops at its cap.
    """

    _parameter_constraints: dict = {
        **RowwiseGaussianMixture._parameter_constraints,
        "size_tol": [Interval(Real, 0, None, closed="neither")],
        "size_max_iter": [Interval(Integral, 1, None, closed="left")],
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

    def fit_predict(self, X, y=None):
        """Fit as :meth:`sklearn.mixture.GaussianMixture.fit_predict` does, and return the
        training rows' components.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        labels = super().fit_predict(X, y)
        if self.size_gap_ > self.size_tol:
            self.converged_ = False
            _warn_short(self, f"a component's training mass is {self.size_gap_:.2g} of 1/K away "
                              f"from it after size_max_iter={self.size_max_iter} steps of the "
                              f"weights' solver (size_tol={self.size_tol:g}); raise size_max_iter")
        return labels

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
        try:
            self.log_weights_, self.size_gap_ = equal_mass_log_weights(
                log_prob, self.log_weights_, self.size_tol, self.size_max_iter)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: components {error}, so no weights give every component "
                             "1/K of the rows; raise reg_covar or lower n_components") from error
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
                        max_iter: int) -> Balanced:
    """Offsets ``b`` under which ``argmin_k(distances[i, k] - b[k])`` gives every cluster
    about n / K rows: the equal-mass log weights of ``-distances / t``, times ``t``
    (:data:`KMEANS_TEMPERATURE`); warm-started from ``offsets``.

    Returns
    -------
    Balanced
        The offsets (in place of log weights), and the soft sizes' largest relative gap.
    """
    temperature = KMEANS_TEMPERATURE * distances.min(axis=1).mean()
    if temperature == 0:  # every row on a centre: nothing to balance
        return Balanced(offsets, 0.0)
    balanced = equal_mass_log_weights(-distances / temperature, offsets / temperature, tol, max_iter)
    return Balanced(temperature * balanced.log_weights, balanced.gap)


class LloydRun(NamedTuple):
    """What Lloyd's iterations from one start end with."""

    centers: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    converged: bool  # the centres moved less than tol before max_iter
    size_gap: float  # the last offsets' solve's gap (:attr:`Balanced.gap`)


class EqualSizeKMeans(ClusterMixin, TransformerMixin, BaseEstimator):
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
        Lloyd's iterations per start, at most.
    tol : float, default=1e-4
        Convergence: the squared moves of the centres, relative to the mean variance of the
        features (scikit-learn's ``KMeans.tol``).
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ starts.
    size_tol : float, default=1e-4
        Relative tolerance of the solver that balances the soft cluster sizes; above 0.
    size_max_iter : int, default=1000
        Iterations of that solver per assignment step, at most.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    offsets_ : ndarray of shape (n_clusters,)
        Subtracted from the squared distances before the nearest centre is taken.
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of the training rows' squared distances to their centres.
    n_iter_ : int
    converged_ : bool
        The kept start's centres settled within ``max_iter`` and its last offsets' solve
        within ``size_max_iter``.
    size_gap_ : float
        The largest relative deviation of a soft cluster size from n / K at the last
        assignment step.
    n_features_in_ : int

    Warns
    -----
    ConvergenceWarning
        When the kept start stopped at ``max_iter`` or ``size_max_iter``.

    Notes
    -----
    ``predict`` assigns a row to ``argmin_k(|x - c_k|^2 - offsets_[k])``, as the last
    assignment step did the training rows.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "size_tol": [Interval(Real, 0, None, closed="neither")],
        "size_max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_clusters: int = 8, *, n_init: int = 1, max_iter: int = 300,
                 tol: float = 1e-4, random_state=None, size_tol: float = 1e-4,
                 size_max_iter: int = 1000):
        self.n_clusters, self.n_init, self.max_iter = n_clusters, n_init, max_iter
        self.tol, self.random_state = tol, random_state
        self.size_tol, self.size_max_iter = size_tol, size_max_iter

    def _assignment(self, X: np.ndarray, centers: np.ndarray, offsets: np.ndarray):
        distances = squared_distances(X, centers)
        try:
            balanced = equal_count_offsets(distances, offsets, self.size_tol, self.size_max_iter)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: clusters {error}, so no offsets give every "
                             "cluster n / K rows; lower n_clusters") from error
        return distances, balanced, np.argmin(distances - balanced.log_weights, axis=1)

    def _lloyd(self, X: np.ndarray, centers: np.ndarray, tol: float) -> LloydRun:
        offsets, converged = np.zeros(self.n_clusters), False
        for n_iter in range(1, self.max_iter + 1):
            _, balanced, labels = self._assignment(X, centers, offsets)
            offsets, previous = balanced.log_weights, centers
            centers = np.stack([X[labels == j].mean(axis=0) for j in range(self.n_clusters)])
            if ((centers - previous) ** 2).sum() <= tol:
                converged = True
                break
        distances, balanced, labels = self._assignment(X, centers, offsets)
        inertia = float(distances[np.arange(len(X)), labels].sum())
        return LloydRun(centers, balanced.log_weights, labels, inertia, n_iter, converged, balanced.gap)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> "EqualSizeKMeans":
        """Fit the centres and offsets on the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : EqualSizeKMeans

        Raises
        ------
        ValueError
            If ``X`` has fewer distinct rows than ``n_clusters``: equal rows always share a
            cluster, so some cluster would stay empty.
        """
        X = validate_data(self, X, dtype=np.float64)
        distinct = len(np.unique(X, axis=0))
        if distinct < self.n_clusters:
            raise ValueError(f"{type(self).__name__}: n_clusters={self.n_clusters} clusters of "
                             f"equal size need as many distinct rows; X has {distinct}")
        random_state = check_random_state(self.random_state)
        tol = self.tol * float(np.var(X, axis=0).mean())  # scikit-learn's scale of tol
        best = None
        for _ in range(self.n_init):
            initial_centers, _ = kmeans_plusplus(X, self.n_clusters, random_state=random_state)
            run = self._lloyd(X, initial_centers, tol)
            if best is None or run.inertia < best.inertia:
                best = run
        self.cluster_centers_, self.offsets_, self.labels_ = best.centers, best.offsets, best.labels
        self.inertia_, self.n_iter_, self.size_gap_ = best.inertia, best.n_iter, best.size_gap
        self.converged_ = best.converged and best.size_gap <= self.size_tol
        if not best.converged:
            _warn_short(self, f"the centres still moved after max_iter={self.max_iter} "
                              "iterations; raise max_iter or tol")
        if best.size_gap > self.size_tol:
            _warn_short(self, f"a cluster's soft size is {best.size_gap:.2g} of n / K away from "
                              f"it after size_max_iter={self.size_max_iter} steps of the offsets' "
                              f"solver (size_tol={self.size_tol:g}); raise size_max_iter")
        return self

    def transform(self, X) -> np.ndarray:
        """Each row's distance to each centre, as scikit-learn's ``KMeans.transform``.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        return np.sqrt(squared_distances(self._checked(X), self.cluster_centers_))

    def predict(self, X) -> np.ndarray:
        """Each row's cluster: the nearest centre once the offsets are taken off.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        distances = squared_distances(self._checked(X), self.cluster_centers_)
        return np.argmin(distances - self.offsets_, axis=1)

    def _checked(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)
