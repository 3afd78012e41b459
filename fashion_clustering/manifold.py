"""An optional manifold-learning step between the encoder and the clusterers (N2D's idea):
UMAP fitted on the training codes, then applied unchanged to validation and test codes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from .params import Section

log = logging.getLogger(__name__)

MANIFOLDS = ("none", "umap")


def umap_metrics() -> frozenset[str]:
    """The metric names umap-learn accepts for dense data: its own and pynndescent's."""
    from pynndescent.distances import named_distances as pynndescent_distances
    from umap.distances import named_distances

    return frozenset(named_distances) | frozenset(pynndescent_distances)


@dataclass(frozen=True)
class UmapConfig:
    n_components: int
    n_neighbors: int
    min_dist: float
    metric: str
    n_epochs: int | None
    seed: int

    @classmethod
    def from_params(cls, p: Section) -> "UmapConfig":
        """The settings in the encode.umap section, validated (the metric here, not after
        every split has been encoded)."""
        return cls(
            n_components=p.integer("n_components", minimum=1),
            n_neighbors=p.integer("n_neighbors", minimum=2), min_dist=p.number("min_dist", minimum=0),
            metric=p.choice("metric", umap_metrics()), n_epochs=p.integer("n_epochs", minimum=1, optional=True),
            seed=p.integer("seed", minimum=0),
        )


def fit_umap(codes: np.ndarray, config: UmapConfig):
    """Fit UMAP on training codes; return the reducer and the training embedding.

    Seeded UMAP runs single-threaded, which is what makes it repeatable.
    """
    import umap

    reducer = umap.UMAP(
        n_components=config.n_components, n_neighbors=config.n_neighbors,
        min_dist=config.min_dist, metric=config.metric, n_epochs=config.n_epochs,
        random_state=config.seed, verbose=True, tqdm_kwds={"disable": True},
    )
    start = time.perf_counter()
    log.info("UMAP: fitting %d dimensions on %d x %d codes", config.n_components, *codes.shape)
    reducer.fit(codes)
    log.info("UMAP: fitted in %.1f s", time.perf_counter() - start)
    return reducer, np.asarray(reducer.embedding_, dtype=np.float32)


def apply_umap(reducer, codes: np.ndarray) -> np.ndarray:
    """Embed codes with a fitted reducer, as float32 rows."""
    reducer.verbose = False  # umap-learn's progress report divides by zero for short runs
    start = time.perf_counter()
    embedded = np.asarray(reducer.transform(codes), dtype=np.float32)
    log.info("UMAP: embedded %d codes in %.1f s", len(codes), time.perf_counter() - start)
    return embedded


@dataclass(frozen=True)
class EncodeConfig:
    batch_size: int
    umap: UmapConfig | None  # None: manifold "none", the codes themselves are clustered

    @classmethod
    def from_params(cls, p: Section) -> "EncodeConfig":
        """The encode section, validated; encode.umap is read only if the manifold is UMAP."""
        batch_size = p.integer("batch_size", minimum=1)
        umap = (UmapConfig.from_params(p.section("umap")) if p.choice("manifold", MANIFOLDS) == "umap"
                else p.unused("umap"))
        return cls(batch_size, umap)
