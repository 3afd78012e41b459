"""Benchmark: placing rows among fitted ones, before and after the k-d tree (issue 34).

Two steps placed rows by their neighbours in ways that grew faster than the rows:
- ``encode`` embeds the held-out codes at the mean of the UMAP embeddings of their nearest
  training codes; it computed every held-out code's distance to every training code, so its
  time grew with held-out × training rows, the square of the collection;
- the ``explore`` stage placed every row on its 2-D map with UMAP's ``transform``.

In the projects ``benchmarks/scale.py`` left (``--workdir``), for each size: the held-out
embedding by every distance (timed on ``--rows`` held-out-like rows, a time per row: that
way's cost is the same for each row) against through the tree (every held-out row), with the
same codes chosen; and the 2-D map's placement of ``--rows`` rows by UMAP's ``transform``
against at the mean of their nearest sampled rows, both per row. The held-out-like rows are
training codes, each moved by a little noise (the held-out codes themselves are not kept).
Written: ``benchmarks/results/placement.{json,md}``.

    python benchmarks/placement.py --workdir /tmp/fashion-scale
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.explorer.layout import LayoutConfig
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.representation import manifold as manifold_module
from fashion_clustering.representation.manifold import (
    NeighbourEmbedding, embed_codes, load_manifold, seeded_sample, two_d_umap,
)
from seeds import ROOT, commit

RESULTS = ROOT / "benchmarks" / "results"
NOISE = 0.05  # the held-out-like rows: training codes moved by this much, in each feature


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - start, out


def held_out_embedding(manifold: NeighbourEmbedding, held_out: int, rows: int, seed: int = 0) -> dict:
    """Seconds per row of embedding held-out-like rows by every distance and through the tree."""
    rng = np.random.default_rng(seed)
    codes = manifold.codes[rng.choice(len(manifold.codes), held_out)]
    codes = (codes + rng.normal(0, NOISE, codes.shape)).astype(np.float32)
    tree_seconds, through_tree = timed(embed_codes, manifold, codes)
    threshold = manifold_module.TREE_ROWS
    manifold_module.TREE_ROWS = len(codes) + 1  # every distance, as before the tree
    try:
        every_seconds, every = timed(embed_codes, manifold, codes[:rows])
    finally:
        manifold_module.TREE_ROWS = threshold
    return {"training_rows": len(manifold.codes), "held_out_rows": held_out,
            "tree_seconds": round(tree_seconds, 2),
            "every_distance_seconds_per_row": every_seconds / rows,
            "every_distance_seconds": round(every_seconds / rows * held_out, 1),
            "same_codes": bool(np.array_equal(every, through_tree[:rows]))}


def map_placement(features: np.ndarray, train: np.ndarray, config: LayoutConfig, rows: int) -> dict:
    """Seconds per row of placing rows on the 2-D map by UMAP's transform and by the nearest
    sampled rows, after one fit on the sample."""
    chosen = train[seeded_sample(len(train), config.sample, config.seed)]
    fit_seconds, reducer = timed(two_d_umap(config.neighbors, config.seed, config.epochs).fit, chosen)
    placed = features[seeded_sample(len(features), rows, config.seed)]
    transform_seconds, _ = timed(reducer.transform, placed)
    fitted = NeighbourEmbedding(np.asarray(chosen, np.float32), np.asarray(reducer.embedding_, np.float32),
                                config.neighbors, "euclidean")
    nearest_seconds, _ = timed(embed_codes, fitted, features)
    return {"rows": len(features), "fit_seconds": round(fit_seconds, 1),
            "transform_seconds": round(transform_seconds / len(placed) * len(features), 1),
            "nearest_seconds": round(nearest_seconds, 1)}


def markdown(results: dict) -> str:
    cpu = results["cpu"]
    lines = ["# Placing rows among fitted ones: every distance or UMAP's transform, against a k-d tree", "",
             f"{cpu['model']} ({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs; commit `{results['commit']}`. "
             "Times of every distance and of UMAP's transform are per-row times of a sample, times the rows.", "",
             "| images | training codes | held-out codes | embedding them: every distance | through the tree | "
             "same codes | map: rows placed | UMAP's transform | nearest sampled rows |", "|---|---|---|---|---|---|---|---|---|"]
    for size in results["sizes"]:
        e, m = size["held_out"], size["map"]
        lines.append(f"| {size['images']:,} | {e['training_rows']:,} | {e['held_out_rows']:,} | "
                     f"{e['every_distance_seconds']:,.1f} s | {e['tree_seconds']:,.1f} s | {e['same_codes']} | "
                     f"{m['rows']:,} | {m['transform_seconds']:,.1f} s | {m['nearest_seconds']:,.1f} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fashion-scale")
    parser.add_argument("--rows", type=int, default=2000, help="rows the slow ways are timed on")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["explore"]
    config = LayoutConfig(sample=params["layout_sample"], neighbors=params["layout_neighbors"],
                          epochs=params["layout_epochs"], seed=params["seed"])
    warm = np.random.default_rng(0).normal(size=(300, 10)).astype(np.float32)
    two_d_umap(config.neighbors, config.seed, config.epochs).fit(warm).transform(warm[:20] + 0.01)  # Numba compiles, untimed
    sizes = []
    for project in sorted(args.workdir.glob("images_*"), key=lambda p: int(p.name.split("_")[1])):
        features = load_arrays(project / "data/features.npz", SPLITS)
        held_out = len(features["val"]) + len(features["test"])
        manifold = load_manifold(str(project / "data/models/manifold.pkl"))
        sizes.append({"images": int(project.name.split("_")[1]),
                      "held_out": held_out_embedding(manifold, held_out, args.rows),
                      "map": map_placement(np.concatenate([features[s] for s in SPLITS]), features["train"], config,
                                           args.rows)})
        print(sizes[-1])
    results = {"commit": commit(), "cpu": describe_cpu(), "sizes": sizes}
    (RESULTS / "placement.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "placement.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
