"""A 2-D layout of every image for the explorer's map: a UMAP fitted on a seeded sample of
the training features, every other row placed by UMAP's ``transform``.

Fitting on all 70,000 rows is what the report's map does for 3,000; at 70,000 it would
cost minutes, while fitting on 10,000 and transforming the rest takes about 15 s on 2 CPUs
(benchmarks/results/explorer.md)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..errors import PipelineError
from ..quiet_tensorflow import import_tensorflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayoutConfig:
    sample: int      # training rows the 2-D UMAP is fitted on
    neighbors: int
    seed: int


def sample_rows(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``size`` of ``n_rows`` rows (all if fewer)."""
    if size >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def two_d_layout(fit_rows: np.ndarray, rows: np.ndarray, config: LayoutConfig) -> np.ndarray:
    """``rows`` placed in 2-D by a UMAP fitted on a sample of ``fit_rows`` (float32, n × 2)."""
    if fit_rows.ndim != 2 or rows.ndim != 2 or fit_rows.shape[1] != rows.shape[1]:
        raise PipelineError(f"2-D layout: expected features of one width, got {fit_rows.shape} and {rows.shape}")
    chosen = fit_rows[sample_rows(len(fit_rows), config.sample, config.seed)]
    if len(chosen) <= config.neighbors:
        raise PipelineError(f"2-D layout: {len(chosen)} rows to fit cannot have {config.neighbors} neighbours")
    import_tensorflow()
    import umap

    start = time.perf_counter()
    reducer = umap.UMAP(n_components=2, n_neighbors=config.neighbors, random_state=config.seed,
                        tqdm_kwds={"disable": True})
    reducer.fit(chosen)
    log.info("2-D layout: UMAP fitted on %d rows, %.1f s; placing %d rows", len(chosen),
             time.perf_counter() - start, len(rows))
    return np.asarray(reducer.transform(rows), dtype=np.float32)
