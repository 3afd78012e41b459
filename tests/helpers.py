"""Tiny Fashion-MNIST-shaped IDX files for the unit tests, and what pipeline-level tests
check on a run's outputs (shared by plain import, not a fixture)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.data.idx import encode_idx
from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import load_arrays
from fashion_clustering.methods import METHODS

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
RAW_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
# A colour per class, to tint the grey digits with (a colour data set that needs no download).
TINTS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255],
                  [0, 255, 255], [255, 128, 0], [128, 0, 255], [0, 128, 255], [255, 255, 255]])
# Fashion-MNIST's image shape (height, width, channels), as its data/dataset.json says.
FASHION_SHAPE = (28, 28, 1)


def tiny_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 28x28 uint8 images and labels cycling through 0..9 (n/10 per class)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def tiny_arrays(n_train: int = 200, n_test: int = 50) -> dict[str, np.ndarray]:
    """The four raw arrays, keyed by official file name."""
    x_train, y_train = tiny_split(n_train, seed=1)
    x_test, y_test = tiny_split(n_test, seed=2)
    return {TRAIN_IMAGES: x_train, TRAIN_LABELS: y_train, TEST_IMAGES: x_test, TEST_LABELS: y_test}


def tiny_idx_bytes(n_train: int = 200, n_test: int = 50) -> dict[str, bytes]:
    """The four raw files' uncompressed IDX bytes, keyed by official file name."""
    return {name: encode_idx(array) for name, array in tiny_arrays(n_train, n_test).items()}


def sha256_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (fixed mtime)."""
    return gzip.compress(data, mtime=0)


def write_files(directory: Path, files: dict[str, bytes], compressed: bool = False) -> Path:
    """Write ``files`` into ``directory`` (as ``name.gz`` if ``compressed``); return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if compressed:
            (directory / f"{name}.gz").write_bytes(gzip_bytes(data))
        else:
            (directory / name).write_bytes(data)
    return directory


def tree_snapshot(directory: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``directory``."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*")) if p.is_file()
    }


def recomputed_scores(project: Path) -> dict[str, dict[str, dict[str, float]]]:
    """``{method: {split: scores}}`` of a run's assignment files against its prepared labels:
    what its ``metrics/evaluate.json`` must say."""
    labels = {split: load_split(project / "data/prepared", split)[1] for split in SPLITS}
    scores = {}
    for method in METHODS:
        clusters = load_arrays(project / f"data/assignments/{method}.npz", SPLITS)
        scores[method] = {split: clustering_scores(labels[split], clusters[split]) for split in SPLITS}
    return scores


def outputs_snapshot(project: Path) -> dict[str, bytes]:
    """Every file under ``data/`` and ``metrics/`` (temporaries included) and its bytes."""
    return {f"{top}/{name}": data for top in ("data", "metrics")
            for name, data in tree_snapshot(project / top).items()}


def stand_in_outputs(project: Path, stage: dict[str, Any]) -> dict[str, bytes]:
    """Replace the outputs of ``stage`` (its entry in ``dvc.yaml``) by stand-ins it would
    never write, and return :func:`outputs_snapshot`: a failing stage must leave that as it is.

    Without stand-ins a stage could rewrite its byte-stable outputs from the same inputs
    and no snapshot would show it.
    """
    for out in stage["outs"]:
        path = project / (next(iter(out)) if isinstance(out, dict) else out)
        if path.is_dir():
            shutil.rmtree(path)
            write_files(path, {"stand-in": b"previous output"})
        else:
            path.write_bytes(b"previous output")
    return outputs_snapshot(project)


def made_up_run_without_labels(project: Path, description: Any, seed: int) -> None:
    """The outputs up to ``cluster_gmm`` of a run of random images of ``description``'s shape
    (its counts per split) without labels: data/dataset.json, the prepared splits, 3-D
    features, every split's typicality, the K-Means models and every method's clusters
    (four each; the mixture's as random probabilities)."""
    from fashion_clustering.clustering.fit import KMeansConfig, fit_kmeans, save_assignments
    from fashion_clustering.data.description import UNLABELLED, write_description
    from fashion_clustering.files import save_arrays, write_pickle

    rng = np.random.default_rng(seed)
    rows = description.counts
    write_description(project / "data/dataset.json", description)
    pixels = {s: rng.random((n, description.row_length), dtype=np.float32) for s, n in rows.items()}
    features = {s: rng.normal(size=(n, 3)).astype(np.float32) for s, n in rows.items()}
    (project / "data/prepared").mkdir(parents=True)
    for split, x in pixels.items():
        save_arrays(project / f"data/prepared/{split}.npz", {"x": x, "y": np.full(len(x), UNLABELLED, np.int8)})
    save_arrays(project / "data/features.npz", features)
    save_arrays(project / "data/typicality.npz", {s: rng.random(n) for s, n in rows.items()})
    config = KMeansConfig(n_clusters=4, n_init=1, max_iter=50, tol=1e-4, seed=0)
    for method, x in (("baseline_kmeans", pixels), ("ae_kmeans", features)):
        model = fit_kmeans(x["train"], config)
        write_pickle(project / f"data/models/{method}.pkl", model)
        save_assignments(project / f"data/assignments/{method}.npz", model, x)
    save_arrays(project / "data/assignments/ae_gmm.npz",
                {**{s: rng.integers(0, 4, n).astype(np.int32) for s, n in rows.items()},
                 **{f"{s}_proba": rng.dirichlet(np.ones(4), n).astype(np.float32) for s, n in rows.items()}})


def tinted(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each grey digit as a colour picture, in its class's colour."""
    return np.rint(images[..., None] * (TINTS[labels][:, None, None, :] / 255)).astype(np.uint8)
