"""Clusterers whose answer for a row does not depend on the rows it comes with.

scikit-learn computes K-Means' distances and a Gaussian mixture's log densities with matrix
products, and BLAS orders their additions by CPU, matrix shape and thread count: a row
predicted alone can get other last bits than the same row among others (measured in
benchmarks/results/exploration.md, issue 15's section).
Here they are built from element-wise operations and sums taken feature by feature in a
fixed order, which round the same way for every row whatever the batch, so
``fashion-clustering predict`` gives one image exactly the cluster (and probability) the
pipeline gives it among the test images.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, validate_data

from ..fixed_order import distances, row_products, row_sums

log = logging.getLogger(__name__)


def squared_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each row's squared euclidean distance to each centre (rows × centres), in float64."""
    return distances(np.asarray(x, dtype=np.float64), np.asarray(centers, dtype=np.float64))


def log_det_cholesky(precisions_cholesky: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    """Each component's log determinant of its precision's Cholesky factor, by the same
    operations as scikit-learn's EM (so the densities match its to the last bit)."""
    if covariance_type == "full":
        diagonals = precisions_cholesky.reshape(len(precisions_cholesky), -1)[:, ::n_features + 1]
        return np.sum(np.log(diagonals), axis=1)
    if covariance_type == "tied":
        return np.sum(np.log(np.diagonal(precisions_cholesky)))
    if covariance_type == "diag":
        return np.sum(np.log(precisions_cholesky), axis=1)
    return n_features * np.log(precisions_cholesky)


def log_gaussian_densities(x: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray,
                           covariance_type: str) -> np.ndarray:
    """``log N(x | mean_k, covariance_k)`` for each row and component, as scikit-learn's
    ``_estimate_log_gaussian_prob`` (from the Cholesky factors of the precisions)."""
    x = np.asarray(x, dtype=np.float64)
    n_features = x.shape[1]
    squared_norms = np.empty((len(x), len(means)))
    for k, mean in enumerate(means):
        difference = x - mean
        if covariance_type == "full":
            whitened = row_products(difference, precisions_cholesky[k])
        elif covariance_type == "tied":
            whitened = row_products(difference, precisions_cholesky)
        else:  # diag: a factor per feature; spherical: one per component
            whitened = difference * precisions_cholesky[k]
        squared_norms[:, k] = row_sums(np.square(whitened))
    log_det = log_det_cholesky(precisions_cholesky, covariance_type, n_features)
    return -0.5 * (n_features * math.log(2 * math.pi) + squared_norms) + log_det


class RowwiseGaussianMixture(GaussianMixture):
    """scikit-learn's ``GaussianMixture`` (same parameters, same EM) with the log densities
    of :func:`log_gaussian_densities`, in fitting as in predicting.

    Parameters and attributes are :class:`sklearn.mixture.GaussianMixture`'s. With
    ``verbose``, EM's progress goes to this module's logger (INFO), beside the pipeline's
    other lines, instead of being printed to stdout.
    """

    def _estimate_log_prob(self, X, xp=None):
        return log_gaussian_densities(X, self.means_, self.precisions_cholesky_, self.covariance_type)

    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose:
            log.info("%s: start %d", type(self).__name__, n_init + 1)

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        if self.verbose and n_iter % self.verbose_interval == 0:
            log.info("%s: iteration %d, objective change %.3g", type(self).__name__, n_iter, diff_ll)

    def _print_verbose_msg_init_end(self, lb, init_has_converged):
        if self.verbose:
            log.info("%s: start %s, objective %.6g", type(self).__name__,
                     "converged" if init_has_converged else "did not converge", lb)


class RowwiseKMeans(KMeans):
    """scikit-learn's ``KMeans`` (same fit, from dense rows without weights) whose
    ``predict`` and ``transform`` use :func:`squared_distances`.

    Parameters and attributes are :class:`sklearn.cluster.KMeans`'s. ``fit`` takes no
    ``sample_weight``: a weighted fit has no row-wise counterpart here, and none is needed.
    """

    def fit(self, X, y=None):
        """Fit as :meth:`sklearn.cluster.KMeans.fit`, on dense rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : RowwiseKMeans
        """
        validate_data(self, X, dtype=[np.float64, np.float32])  # refuses sparse rows with a message
        return super().fit(X)

    def fit_predict(self, X, y=None):
        """Fit, then the training rows' clusters (:attr:`labels_`).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X).labels_

    def fit_transform(self, X, y=None):
        """Fit, then each training row's distance to each centre.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X).transform(X)

    def predict(self, X):
        """Each row's nearest centre.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        return np.argmin(squared_distances(self._checked(X), self.cluster_centers_), axis=1).astype(np.int32)

    def transform(self, X):
        """Each row's distance to each centre.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        return np.sqrt(squared_distances(self._checked(X), self.cluster_centers_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _checked(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
