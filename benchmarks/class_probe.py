"""A diagnosis, not a method: how much class information each representation holds locally.

    python benchmarks/class_probe.py PROJECT OUT.md [--neighbours 10]

PROJECT is a repository where `dvc repro` has run. A k-nearest-neighbour classifier, fitted
on the training split's labels (labels are used here only, to diagnose), scores the test split
on the raw pixels, the autoencoder's codes and the clustered features (the codes' UMAP
embedding). If the neighbours agree with the class far more often than the clusters do, the
classes are there locally and the clusters merge them globally.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from fashion_clustering.data.dataset import load_split
from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.files import load_arrays
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder
from fashion_clustering.representation.manifold import EncodeConfig


def knn_recall(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray,
               neighbours: int) -> tuple[float, list[float]]:
    """Overall accuracy and per-class recall of ``neighbours``-NN on the test rows."""
    predicted = KNeighborsClassifier(neighbours).fit(train, y_train).predict(test)
    hit = predicted == y_test
    return float(hit.mean()), [float(hit[y_test == c].mean()) for c in range(len(CLASS_NAMES))]


def main(project: Path, out: Path, neighbours: int) -> None:
    (x_train, y_train), (x_test, y_test) = (load_split(project / "data/prepared", s) for s in ("train", "test"))
    encoder = load_exact_encoder(str(project / "data/models/autoencoder.keras"))
    batch = EncodeConfig.from_params(Section.load("encode", project / "params.yaml")).batch_size
    features = load_arrays(project / "data/features.npz", ("train", "test"))
    representations = {"pixels": (x_train, x_test),
                       "codes": (exact_encode(encoder, x_train, batch), exact_encode(encoder, x_test, batch)),
                       "clustered features": (features["train"], features["test"])}
    lines = [f"{neighbours}-nearest-neighbour accuracy on the test split, neighbours from the training "
             f"split (`benchmarks/class_probe.py`).", "",
             "| representation | accuracy | " + " | ".join(CLASS_NAMES) + " |",
             "|---|---|" + "---|" * len(CLASS_NAMES)]
    for name, (train, test) in representations.items():
        accuracy, recall = knn_recall(train, y_train, test, y_test, neighbours)
        lines.append(f"| {name} | {accuracy:.3f} | " + " | ".join(f"{r:.2f}" for r in recall) + " |")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--neighbours", type=int, default=10)
    args = parser.parse_args()
    main(args.project, args.out, args.neighbours)
