"""The explorer's 2-D map: a UMAP fitted on a seeded sample of training rows, then every row
placed at the mean of the positions of its nearest sampled rows."""

import numpy as np
import pytest

from fashion_clustering.explorer import layout
from fashion_clustering.explorer.layout import LayoutConfig, two_d_layout
from fashion_clustering.representation.manifold import neighbour_graph, seeded_sample

pytestmark = pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning")


class KnownPositions:
    """A stand-in for UMAP whose fitted positions are known: the first two features, doubled;
    it keeps the neighbour graph it was given."""

    def __init__(self, knn):
        self.knn = knn

    def fit(self, rows):
        self.embedding_ = rows[:, :2] * 2
        return self


def test_every_row_is_placed_at_the_mean_of_its_nearest_sampled_rows(monkeypatch):
    made = []
    monkeypatch.setattr(layout, "two_d_umap", lambda neighbors, seed, epochs, knn: made.append(KnownPositions(knn))
                        or made[-1])
    rng = np.random.default_rng(0)
    fit_rows, rows = rng.normal(size=(400, 3)).astype(np.float32), rng.normal(size=(300, 3)).astype(np.float32)
    xy = two_d_layout(fit_rows, rows, LayoutConfig(sample=100, neighbors=5, epochs=10, seed=0))
    sample = fit_rows[seeded_sample(len(fit_rows), 100, 0)]
    # UMAP is fitted on the sample's exact neighbour graph, not its own approximate search.
    np.testing.assert_array_equal(made[0].knn[0], neighbour_graph(sample, 5)[0])
    nearest = np.argsort(((rows[:, None, :] - sample[None]) ** 2).sum(axis=-1), axis=1, kind="stable")[:, :5]
    np.testing.assert_allclose(xy, (sample[nearest, :2] * 2).mean(axis=1), rtol=1e-5, atol=1e-6)


def test_rows_of_far_apart_groups_stay_apart_on_the_map():
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=20, size=(3, 5))
    group = np.repeat(np.arange(3), 200)
    rows = (centres[group] + rng.normal(size=(600, 5))).astype(np.float32)
    xy = two_d_layout(rows, rows, LayoutConfig(sample=150, neighbors=10, epochs=50, seed=0))
    middles = np.stack([xy[group == g].mean(axis=0) for g in range(3)])
    nearest_middle = np.argmin(((xy[:, None, :] - middles[None]) ** 2).sum(axis=-1), axis=1)
    assert (nearest_middle == group).all()
