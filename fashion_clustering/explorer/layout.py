"""A 2-D layout of every image for the explorer's map: a UMAP fitted on a seeded sample of
the training features, every other row placed by UMAP's ``transform``.

Fitting on every row is what the report's map does for its sample of test rows; at 70,000
rows it would cost minutes, while fitting on a sample and transforming the rest is a part of
the stage's time (benchmarks/results/explorer.md)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..errors import PipelineError
from ..representation.manifold import seeded_sample, two_d_umap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayoutConfig:
    """How the explorer's 2-D map is laid out: a UMAP fitted on a seeded sample of training rows."""

    sample: int      # training rows the 2-D UMAP is fitted on
    neighbors: int
    seed: int


def two_d_layout(fit_rows: np.ndarray, rows: np.ndarray, config: LayoutConfig) -> np.ndarray:
    """``rows`` placed in 2-D by a UMAP fitted on a sample of ``fit_rows`` (float32, n × 2)."""
    if fit_rows.ndim != 2 or rows.ndim != 2 or fit_rows.shape[1] != rows.shape[1]:
        raise PipelineError(f"2-D layout: expected features of one width, got {fit_rows.shape} and {rows.shape}")
    chosen = fit_rows[seeded_sample(len(fit_rows), config.sample, config.seed)]
    if len(chosen) <= config.neighbors:
        raise PipelineError(f"2-D layout: {len(chosen)} rows to fit cannot have {config.neighbors} neighbours")
    start = time.perf_counter()
    reducer = two_d_umap(config.neighbors, config.seed).fit(chosen)
    log.info("2-D layout: UMAP fitted on %d rows, %.1f s; placing %d rows", len(chosen),
             time.perf_counter() - start, len(rows))
    return np.asarray(reducer.transform(rows), dtype=np.float32)
