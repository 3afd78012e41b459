"""An optional manifold-learning step between the encoder and the clusterers (N2D's idea):
UMAP fitted on the training codes, then extended to validation and test codes, and to new
images by ``fashion-clustering predict``.

The extension is UMAP's own first guess for a new point (umap-learn starts ``transform``
from it): the mean of the embeddings of its nearest training codes, here without the
stochastic refinement that follows. It needs no Numba, so ``predict`` answers without
compiling anything, and its arithmetic (differences, squares, sums in a fixed order,
ties broken by index) makes a row's embedding the same bytes whatever rows come with it.
It clustered the test split as well as umap-learn's ``transform`` (measured in
benchmarks/results/exploration.md, issue 15's section).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import time
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from sklearn.neighbors import KDTree

from ..errors import RUN_PIPELINE, PipelineError
from ..files import read_pickle, write_pickle
from ..fixed_order import METRICS, distances, metric_terms, row_sums
from ..params import Section, Settings, setting
from ..quiet_tensorflow import import_tensorflow

log = logging.getLogger(__name__)

MANIFOLDS = ("none", "umap")
# New rows whose distances to every training code are held at once (memory, not results).
NEIGHBOUR_CHUNK = 64
# More new rows than this are matched to their nearest training codes through a k-d tree
# (speed, not results: a few rows are quicker by brute force than a tree is to build).
TREE_ROWS = 256
# The tree's distances are float64, the embedding's float32 summed in a fixed order: every
# code within this relative margin of the tree's k-th nearest is a candidate.
TREE_MARGIN = 1e-3
# Codes the tree finds for each row, as a multiple of k: those within reach are usually fewer.
TREE_CANDIDATES = 2
# Rows matched through the tree at a time (memory, not results).
TREE_CHUNK = 4096


@dataclass(frozen=True)
class UmapConfig(Settings):
    """The settings in the encode.umap section."""

    n_components: int = setting("integer", minimum=1)
    n_neighbors: int = setting("integer", minimum=2)
    min_dist: float = setting("number", minimum=0)
    metric: str = setting("choice", options=METRICS)
    n_epochs: int | None = setting("integer", minimum=1, optional=True)
    seed: int = setting("integer", minimum=0)


@dataclass(frozen=True)
class NeighbourEmbedding:
    """UMAP's embedding of the training codes, and what extends it to new codes."""

    codes: np.ndarray  # the training codes UMAP was fitted on
    embedding: np.ndarray  # their embedding
    n_neighbors: int
    metric: str


@functools.cache
def import_umap() -> ModuleType:
    """umap-learn, with its Numba kernels kept compiled on disk, as ``@njit(cache=True)`` keeps them.

    umap-learn compiles most of its kernels anew in every process, which in a small fit takes
    longer than the fit itself (Numba's compile time in ``cProfile``).
    ``enable_caching`` is the call ``cache=True`` makes; Numba keys what it keeps by the
    source and the CPU, and a cached kernel is the same machine code, so every output is the
    same bytes (``dvc repro --force`` in tests/pipeline/test_pipeline.py reruns from the cache).
    Where Numba finds no writable place (beside umap's source, or its user cache directory), a
    kernel is compiled in each process, as umap-learn does by default.
    """
    import_tensorflow()
    import umap
    from numba.core.dispatcher import Dispatcher

    for name, module in list(sys.modules.items()):
        if name.startswith("umap."):
            for kernel in vars(module).values():
                if isinstance(kernel, Dispatcher):
                    with contextlib.suppress(RuntimeError):  # Numba's "no locator available"
                        kernel.enable_caching()
    return umap


def fit_umap(codes: np.ndarray, config: UmapConfig) -> NeighbourEmbedding:
    """Fit UMAP on training codes; return their embedding and what extends it to new codes.

    Seeded UMAP runs single-threaded, which is what makes it repeatable. ``n_neighbors`` is
    capped below the training codes, so that a small collection still gets its embedding.
    """
    neighbours = min(config.n_neighbors, len(codes) - 1)
    if neighbours < config.n_neighbors:
        log.info("UMAP: %d neighbours of each of %d codes (encode.umap.n_neighbors %d is more than there are)",
                 neighbours, len(codes), config.n_neighbors)
    reducer = import_umap().UMAP(
        n_components=config.n_components, n_neighbors=neighbours,
        min_dist=config.min_dist, metric=config.metric, n_epochs=config.n_epochs,
        random_state=config.seed, verbose=True, tqdm_kwds={"disable": True},
    )
    started = time.perf_counter()
    log.info("UMAP: fitting %d dimensions on %d x %d codes", config.n_components, *codes.shape)
    reducer.fit(codes)
    log.info("UMAP: fitted in %.1f s", time.perf_counter() - started)
    return NeighbourEmbedding(np.asarray(codes, np.float32), np.asarray(reducer.embedding_, dtype=np.float32),
                              neighbours, config.metric)


def nearest(distances: np.ndarray, k: int) -> np.ndarray:
    """The indices of each row's ``k`` smallest distances, in index order; of equal
    distances, the lower indices are taken (a partition alone may take any of them)."""
    kth = np.partition(distances, k - 1, axis=1)[:, k - 1:k]
    closer, tied = distances < kth, distances == kth
    room = k - closer.sum(axis=1, keepdims=True)
    chosen = closer | (tied & (np.cumsum(tied, axis=1) <= room))
    return np.nonzero(chosen)[1].reshape(len(distances), k)


def nearest_training_rows(rows: np.ndarray, training_codes: np.ndarray, k: int, metric: str,
                          tree: KDTree | None = None) -> np.ndarray:
    """The indices of each row's ``k`` nearest training codes by :func:`distances` (ties to
    the lower index), in index order.

    With a ``tree`` of the training codes, the distances are computed only to the codes
    the tree finds within a hair of each row's ``k``-th nearest; otherwise to every code.
    Both choose the same codes; through the tree, embedding the held-out rows grows far
    slower than the square of the rows (benchmarks/results/placement.md).
    """
    if tree is None:
        return nearest(distances(rows, training_codes, metric), k)
    found_distances, found = tree.query(rows, k=min(TREE_CANDIDATES * k, len(training_codes)))
    reach = found_distances[:, k - 1] * (1 + TREE_MARGIN) + np.finfo(np.float32).tiny
    chosen = np.empty((len(rows), k), np.int64)
    whole = (found_distances[:, -1] > reach) | (found.shape[1] == len(training_codes))
    if whole.any():  # every candidate of these rows is among those found: one computation for all
        candidates = np.sort(found[whole], axis=1)
        terms = metric_terms(rows[whole][:, None, :] - training_codes[candidates], metric)
        chosen[whole] = np.take_along_axis(candidates, nearest(row_sums(terms), k), axis=1)
    for i in np.flatnonzero(~whole):  # more codes than were found lie within reach
        candidates = np.sort(tree.query_radius(rows[i:i + 1], reach[i:i + 1])[0])
        chosen[i] = candidates[nearest(distances(rows[i:i + 1], training_codes[candidates], metric), k)[0]]
    return chosen


def embed_codes(manifold: NeighbourEmbedding, codes: np.ndarray) -> np.ndarray:
    """Embed new codes, as float32 rows: each is the mean of the embeddings of its
    ``n_neighbors`` nearest training codes."""
    started = time.perf_counter()
    training_codes = np.asarray(manifold.codes, np.float32)
    embedding = np.asarray(manifold.embedding, np.float64)
    k = min(manifold.n_neighbors, len(embedding))
    tree = KDTree(training_codes, metric=manifold.metric) if len(codes) > TREE_ROWS else None
    chunk = NEIGHBOUR_CHUNK if tree is None else TREE_CHUNK
    chunks = [np.empty((0, embedding.shape[1]))]
    for first in range(0, len(codes), chunk):
        rows = np.asarray(codes[first:first + chunk], np.float32)
        neighbours = nearest_training_rows(rows, training_codes, k, manifold.metric, tree)
        total = np.zeros((len(rows), embedding.shape[1]))
        for j in range(k):
            total += embedding[neighbours[:, j]]
        chunks.append(total / k)
    log.info("UMAP: embedded %d new codes by their %d nearest training codes in %.1f s",
             len(codes), k, time.perf_counter() - started)
    return np.concatenate(chunks).astype(np.float32)


def seeded_sample(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``size`` of ``n_rows`` rows (all if fewer)."""
    if size >= n_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))


def neighbour_graph(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows, itself included, nearest first (ties to the lower
    index), and their euclidean distances (float32): exact, found through a k-d tree
    (:func:`nearest_training_rows`), in the form UMAP takes as ``precomputed_knn``. UMAP's own
    approximate search compiles its Numba kernels anew in every process, for tens of seconds."""
    rows = np.asarray(rows, np.float32)
    found = nearest_training_rows(rows, rows, k, "euclidean", KDTree(rows))
    lengths = np.sqrt(row_sums(metric_terms(rows[:, None, :] - rows[found], "euclidean")))
    order = np.argsort(lengths, axis=1, kind="stable")
    return np.take_along_axis(found, order, axis=1), np.take_along_axis(lengths, order, axis=1)


def two_d_umap(neighbors: int, seed: int, epochs: int | None = None,
               knn: tuple[np.ndarray, np.ndarray] | None = None):
    """An unfitted, seeded 2-D UMAP, for pictures of the features (the clusterers never see it);
    ``epochs`` None: UMAP's default (500 up to 10,000 rows, else 200); ``knn``: the rows'
    :func:`neighbour_graph`, instead of UMAP's own search (the fitted UMAP then cannot
    ``transform``)."""
    return import_umap().UMAP(n_components=2, n_neighbors=neighbors, n_epochs=epochs, random_state=seed,
                              precomputed_knn=(None, None, None) if knn is None else knn,
                              tqdm_kwds={"disable": True})


def two_d_map(features: np.ndarray, neighbors: int, seed: int) -> np.ndarray:
    """``features`` in 2-D by a seeded UMAP fitted on them."""
    return np.asarray(two_d_umap(neighbors, seed).fit_transform(features), dtype=np.float32)


@dataclass(frozen=True)
class EncodeConfig:
    """The encode section: rows encoded at a time, and the UMAP settings if the manifold is UMAP."""

    batch_size: int
    umap: UmapConfig | None  # None: manifold "none", the codes themselves are clustered

    @classmethod
    def from_params(cls, section: Section) -> "EncodeConfig":
        """The encode section, validated; encode.umap is read only if the manifold is UMAP."""
        batch_size = section.integer("batch_size", minimum=1)
        umap = (UmapConfig.from_params(section.section("umap"))
                if section.choice("manifold", MANIFOLDS) == "umap" else section.unused("umap"))
        return cls(batch_size, umap)


def save_manifold(path: str, manifold: NeighbourEmbedding | None) -> None:
    """Save the fitted manifold step, or ``None`` when features are the codes themselves."""
    write_pickle(path, manifold)


def load_manifold(path: str) -> NeighbourEmbedding | None:
    """What :func:`save_manifold` wrote; loading it imports neither UMAP nor Numba."""
    manifold = read_pickle(path, RUN_PIPELINE)
    if manifold is not None and not isinstance(manifold, NeighbourEmbedding):
        raise PipelineError(f"{path}: holds a {type(manifold).__name__}, not the manifold step of this "
                            f"version; {RUN_PIPELINE}")
    return manifold
