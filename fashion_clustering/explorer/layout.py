"""A 2-D layout of every image for the explorer's map: a UMAP fitted on a seeded sample of
the training features (on their exact nearest neighbours, found through a k-d tree), then
every row placed at the mean of the 2-D positions of its nearest rows of the sample
(:func:`..representation.manifold.embed_codes`, as the encode stage places held-out codes).

Fitting on every row is what the report's map does for its sample of test rows; at 70,000
rows it would cost minutes. Placing the other rows among their nearest sampled rows, found
through a k-d tree, takes a fraction of what UMAP's own ``transform`` of them takes
(benchmarks/results/placement.md)."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import PipelineError
from ..representation.manifold import (
    NeighbourEmbedding, embed_codes, neighbour_graph, seeded_sample, two_d_umap,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayoutConfig:
    """How the explorer's 2-D map is laid out: a UMAP fitted on a seeded sample of training rows."""

    sample: int      # training rows the 2-D UMAP is fitted on
    neighbors: int   # UMAP's neighbours, and the rows of the sample each row is placed among
    epochs: int      # UMAP's optimisation epochs
    seed: int


def two_d_layout(fit_rows: np.ndarray, rows: np.ndarray, config: LayoutConfig) -> np.ndarray:
    """``rows`` placed in 2-D by a UMAP fitted on a sample of ``fit_rows`` (float32, n × 2)."""
    if fit_rows.ndim != 2 or rows.ndim != 2 or fit_rows.shape[1] != rows.shape[1]:
        raise PipelineError(f"2-D layout: expected features of one width, got {fit_rows.shape} and {rows.shape}")
    chosen = fit_rows[seeded_sample(len(fit_rows), config.sample, config.seed)]
    if len(chosen) <= config.neighbors:
        raise PipelineError(f"2-D layout: {len(chosen)} rows to fit cannot have {config.neighbors} neighbours")
    start = time.perf_counter()
    umap = two_d_umap(config.neighbors, config.seed, config.epochs, neighbour_graph(chosen, config.neighbors))
    with warnings.catch_warnings():  # that it cannot transform: the other rows are placed below
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        reducer = umap.fit(chosen)
    log.info("2-D layout: UMAP fitted on %d rows, %.1f s; placing %d rows", len(chosen),
             time.perf_counter() - start, len(rows))
    fitted = NeighbourEmbedding(np.asarray(chosen, np.float32), np.asarray(reducer.embedding_, np.float32),
                                config.neighbors, "euclidean")
    return embed_codes(fitted, rows)
