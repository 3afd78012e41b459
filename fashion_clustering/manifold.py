"""An optional manifold-learning step between the encoder and the clusterers (N2D's idea):
UMAP fitted on the training codes, then applied unchanged to validation and test codes,
and to new images by ``fashion-clustering predict``."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np

from .errors import RUN_PIPELINE
from .files import read_pickle, write_pickle
from .quiet_tensorflow import import_tensorflow
from .params import Section

log = logging.getLogger(__name__)

MANIFOLDS = ("none", "umap")
# umap-learn optimises the embedding of new rows for 100 epochs in batches of at most
# 10,000 rows and for 30 in larger ones (when n_epochs is not set); chunks of this many
# rows plus the anchor row always get the same number.
TRANSFORM_CHUNK = 9_999


def umap_metrics() -> frozenset[str]:
    """The metric names umap-learn accepts for dense data: its own and pynndescent's."""
    from pynndescent.distances import named_distances as pynndescent_distances
    import_tensorflow()
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
    import_tensorflow()
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
    """Embed codes with a fitted reducer, as float32 rows; a row's embedding does not
    depend on the rows embedded with it, so one new image lands where it would among
    the 10,000 test images.

    umap-learn scales the neighbour weights of the rows it embeds by the largest weight
    in the batch. Each chunk therefore starts with an anchor, a training code of the
    reducer: its nearest neighbour is itself, at distance 0, with weight 1, the largest a
    weight can be; its own embedding is dropped.
    """
    reducer.verbose = False  # umap-learn's progress report divides by zero for short runs
    start = time.perf_counter()
    anchor = np.asarray(reducer._raw_data[:1], dtype=codes.dtype)  # the codes UMAP was fitted on
    with _progress_to_stderr():
        chunks = [reducer.transform(np.concatenate([anchor, codes[i:i + TRANSFORM_CHUNK]]))[1:]
                  for i in range(0, len(codes), TRANSFORM_CHUNK)]
    embedded = np.concatenate(chunks).astype(np.float32) if chunks else np.empty(
        (0, reducer.n_components), np.float32)
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


def _progress_to_stderr():
    """pynndescent prints its progress, on loading a reducer too; keep stdout for results."""
    return contextlib.redirect_stdout(sys.stderr)


def save_manifold(path: str, reducer) -> None:
    """Save the fitted reducer, or ``None`` when features are the codes themselves."""
    write_pickle(path, reducer)


def load_manifold(path: str):
    """The reducer :func:`save_manifold` wrote (``None``: no manifold step)."""
    with _progress_to_stderr():
        import_tensorflow()  # unpickling the reducer imports umap
        return read_pickle(path, RUN_PIPELINE)
