"""What the explorer shows, read from a run's outputs: every image of every split with its
true class (if the data set has labels), each method's cluster and how typical of it the
image is, the mixture's probability, the typicality, and the run's scores and cluster classes.

A missing output fails with one line naming the stage that makes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.dataset import SPLITS, load_split
from ..data.description import DatasetDescription, read_description
from ..errors import not_found
from ..files import load_arrays, read_json, read_pickle
from ..methods import METHODS, ON_FEATURES

# The stage that writes each method's assignments and model.
METHOD_STAGES = {"baseline_kmeans": "baseline_kmeans", "ae_kmeans": "cluster_kmeans", "ae_gmm": "cluster_gmm"}
PROBABILISTIC = "ae_gmm"


def check_inputs(description: Path, prepared: Path, features: Path, assignments: Path, models: Path, typicality: Path,
                 metrics: Path) -> None:
    """Fail on the first missing input, in pipeline order, naming the stage that makes it."""
    needed = [(description, "preprocess"),
              *((prepared / f"{split}.npz", "preprocess") for split in SPLITS), (features, "encode"),
              (typicality, "typicality"), (metrics / "evaluate.json", "evaluate"),
              (metrics / "cluster_classes.json", "evaluate")]
    for method, stage in METHOD_STAGES.items():
        needed.append((assignments / f"{method}.npz", stage))
        if method != PROBABILISTIC:
            needed.append((models / f"{method}.pkl", stage))
    for path, stage in needed:
        if not path.exists():
            raise not_found(path, f"run `dvc repro {stage}` to make it")


@dataclass(frozen=True)
class ExplorerRun:
    """What the explorer page shows of a run: every image of every split, with its class,
    features and clusters."""

    description: DatasetDescription    # the data set: its name, image shape and classes (or none)
    images: np.ndarray                 # (n, height, width, channels) uint8, the splits one after the other
    split: np.ndarray                  # (n,) index into SPLITS
    label: np.ndarray                  # (n,) true class; UNLABELLED (-1) without labels
    features: np.ndarray               # (n, d) what the feature methods cluster
    clusters: dict[str, np.ndarray]    # method -> (n,) cluster
    membership: dict[str, np.ndarray]  # method -> (n,) probability (mixture) or distance to the centre
    typicality: np.ndarray             # (n,) share of validation images less typical
    scores: Mapping[str, Any]          # metrics/evaluate.json
    cluster_classes: Mapping[str, Mapping[str, str | None]]  # metrics/cluster_classes.json (null: no labels)


def membership(model: Any, x: np.ndarray, clusters: np.ndarray, proba: np.ndarray | None) -> np.ndarray:
    """How much each row belongs to its own cluster: the mixture's probability of it, or the
    distance to its K-Means centre (smaller is closer)."""
    rows = np.arange(len(clusters))
    values = proba[rows, clusters] if proba is not None else model.transform(x)[rows, clusters]
    return np.asarray(values, dtype=np.float32)


def load_explorer_run(description_file: str, prepared_dir: str, features_file: str, assignments_dir: str, models_dir: str,
                      typicality_file: str, metrics_dir: str) -> ExplorerRun:
    """Everything the page shows, every split in the order of :data:`SPLITS`."""
    prepared, assignments, models, metrics = map(Path, (prepared_dir, assignments_dir, models_dir, metrics_dir))
    check_inputs(Path(description_file), prepared, Path(features_file), assignments, models, Path(typicality_file),
                 metrics)
    description = read_description(description_file)
    pixels, labels = zip(*(load_split(prepared, split) for split in SPLITS))
    features = load_arrays(features_file, SPLITS)
    typicality = load_arrays(typicality_file, SPLITS)
    scores = read_json(metrics / "evaluate.json", "run `dvc repro evaluate` to make it")
    classes = read_json(metrics / "cluster_classes.json", "run `dvc repro evaluate` to make it")
    x = np.concatenate(pixels)
    feature_rows = np.concatenate([features[s] for s in SPLITS])
    clusters, closeness = {}, {}
    for method, stage in METHOD_STAGES.items():
        probabilistic = method == PROBABILISTIC
        names = SPLITS + tuple(f"{s}_proba" for s in SPLITS) if probabilistic else SPLITS
        arrays = load_arrays(assignments / f"{method}.npz", names)
        clusters[method] = np.concatenate([arrays[s] for s in SPLITS]).astype(np.int32)
        proba = np.concatenate([arrays[f"{s}_proba"] for s in SPLITS]) if probabilistic else None
        model = None if probabilistic else read_pickle(models / f"{method}.pkl", f"run `dvc repro {stage}` to make it")
        closeness[method] = membership(model, feature_rows if method in ON_FEATURES else x,
                                       clusters[method], proba)
    return ExplorerRun(
        description=description, images=np.round(x * 255).astype(np.uint8).reshape(-1, *description.image_shape),
        split=np.concatenate([np.full(len(y), i, dtype=np.uint8) for i, y in enumerate(labels)]),
        label=np.concatenate(labels).astype(np.int16), features=feature_rows, clusters=clusters,
        membership=closeness, typicality=np.concatenate([typicality[s] for s in SPLITS]),
        scores=scores, cluster_classes=classes)

