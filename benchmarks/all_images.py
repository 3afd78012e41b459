"""The papers' protocol on one finished run of the pipeline: all 70k images clustered together.

    python benchmarks/all_images.py PROJECT OUT.json

PROJECT is a repository where `dvc repro` has run; its params, prepared data and trained
autoencoder are used (see `fashion_clustering/evaluation/all_images.py`). `seeds.py --all-images` runs
this in its own process, so that its memory is measured apart from the stages'.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig
from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.evaluation.all_images import score_all_images
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_encoder import load_exact_encoder
from fashion_clustering.representation.manifold import EncodeConfig
from fashion_clustering.startup import start_program


def main(project: Path, out: Path) -> None:
    def section(name: str) -> Section:
        return Section.load(name, project / "params.yaml")

    splits = [load_split(project / "data/prepared", split) for split in SPLITS]
    encode = EncodeConfig.from_params(section("encode"))
    scores = score_all_images(
        load_exact_encoder(str(project / "data/models/autoencoder.keras")),
        np.concatenate([x for x, _ in splits]), np.concatenate([y for _, y in splits]),
        encode.batch_size, encode.umap,
        KMeansConfig.from_params(section("baseline_kmeans")),
        KMeansConfig.from_params(section("cluster_kmeans"), sizes=True), GmmConfig.from_params(section("cluster_gmm")))
    out.write_text(json.dumps(scores, indent=2) + "\n")


if __name__ == "__main__":
    start_program()
    main(Path(sys.argv[1]), Path(sys.argv[2]))
