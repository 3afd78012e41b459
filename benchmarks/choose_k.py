"""Benchmark: which K the K guide (the ``choose_k`` stage) points to, and which K the criteria
it was chosen against point to, on features of two data sets without their labels.

- Fashion-MNIST: the training features of a finished default run (``data/features.npz``),
  the guide run here over several seeds (which rows, and the mixtures' start).
- scikit-learn's digits (1,797 real 8×8 images, ten classes) as a flat folder of pictures, no
  labels: for each seed, a scratch copy of the project runs the stages up to ``choose_k`` with
  the committed params (only ``fetch.source.kind: folder`` set, and every ``seed`` key to the
  seed), as a user without labels would; the K is the stage's own (``metrics/choose_k.json``).

Beside the guide's criterion (the mixture's BIC elbow), on the same rows: the K that the
K-Means silhouette and the stability of K-Means and of the mixture between two seeds (the
adjusted Rand index of their clusters) point to. Written: ``benchmarks/results/
choose_k.{json,md}``, with the CPU and the commit.

    python benchmarks/choose_k.py [--features data/features.npz] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture

from fashion_clustering.evaluation.choose_k import ChooseKConfig, choose_k
from fashion_clustering.files import load_arrays, read_json
from fashion_clustering.machine import describe_cpu
from fashion_clustering.params import Section, load_params
from fashion_clustering.representation.manifold import seeded_sample
from fashion_clustering.scratch import digits, git_commit, scratch_project, write_pictures
from fashion_clustering.startup import start_program
from own_images import SOURCE, seed_everything_in
from seeds import ROOT, commit, run_stage

RESULTS = ROOT / "benchmarks" / "results" / "choose_k"
# The stages a run without labels needs before the guide.
STAGES = ("fetch", "preprocess", "train_autoencoder", "encode", "choose_k")
DIGITS = "digits without labels, the pipeline's defaults"


def other_criteria(x: np.ndarray, ks: list[int], config: ChooseKConfig) -> dict[str, int]:
    """The K each of the criteria the guide was chosen against points to, on the same rows."""
    rows = x[seeded_sample(len(x), config.sample, config.seed)]
    silhouette, kmeans_stability, mixture_stability = [], [], []
    for k in ks:
        first, second = (KMeans(k, n_init=3, random_state=config.seed + i).fit(rows) for i in (0, 1))
        silhouette.append(silhouette_score(rows, first.labels_))
        kmeans_stability.append(adjusted_rand_score(first.labels_, second.labels_))
        mixtures = [GaussianMixture(k, covariance_type=config.covariance_type, reg_covar=config.reg_covar,
                                    random_state=config.seed + i).fit(rows).predict(rows) for i in (0, 1)]
        mixture_stability.append(adjusted_rand_score(*mixtures))
    return {"silhouette": ks[int(np.argmax(silhouette))], "kmeans_stability": ks[int(np.argmax(kmeans_stability))],
            "mixture_stability": ks[int(np.argmax(mixture_stability))]}


def measure(x: np.ndarray, config: ChooseKConfig, seeds: list[int]) -> list[dict]:
    """The guide and the other criteria on ``x``, once per seed."""
    runs = []
    for seed in seeds:
        seeded = dataclasses.replace(config, seed=seed)
        start = time.perf_counter()
        guide = choose_k(x, seeded)
        seconds = time.perf_counter() - start
        runs.append({"seed": seed, "chosen_k": guide["chosen_k"], "guide_seconds": seconds, "bic": guide["bic"],
                     "other_criteria": other_criteria(x, guide["k"], seeded)})
        print(seed, runs[-1]["chosen_k"], runs[-1]["other_criteria"], f"{seconds:.1f} s", flush=True)
    return runs


def digits_runs(params: dict, seeds: list[int]) -> list[dict]:
    """The digits as a flat folder through the stages up to ``choose_k``, once per seed: the
    K the stage points to, its seconds, and the other criteria on the run's training features."""
    runs = []
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with tempfile.TemporaryDirectory(prefix="choose-k-bench-") as scratch:
        project = scratch_project(Path(scratch) / "digits")
        write_pictures(project / params["fetch"]["source"]["path"], digits()[0])  # no labels
        git_commit(project, "the digits as a flat folder of pictures")
        for seed in seeds:
            seeded = json.loads(json.dumps(params))
            seeded["fetch"]["source"].update(SOURCE)
            seed_everything_in(seeded, seed)
            (project / "params.yaml").write_text(yaml.safe_dump(seeded, sort_keys=False))
            stages = {stage: run_stage(project, stage, env) for stage in STAGES}
            guide = read_json(project / "metrics/choose_k.json", "the choose_k stage writes it")
            config = ChooseKConfig.from_params(Section(seeded["choose_k"], "choose_k"))
            x = load_arrays(project / "data/features.npz", ("train",))["train"]
            runs.append({"seed": seed, "chosen_k": guide["chosen_k"], "guide_seconds": stages["choose_k"]["seconds"],
                         "bic": guide["bic"], "stages": stages, "other_criteria": other_criteria(x, guide["k"], config)})
            print(seed, runs[-1]["chosen_k"], runs[-1]["other_criteria"], flush=True)
    return runs


def markdown(results: dict) -> str:
    """The results as a page: the K each criterion points to, per data set and seed."""
    cpu = results["cpu"]
    lines = ["# The K guide: which K it points to", "",
             f"Measured at `{results['commit']}` on {cpu['model']}, {cpu['cpus']} CPUs, by "
             f"`benchmarks/choose_k.py` (the digits' seconds: their choose_k stage's); the guide's "
             f"settings: `{json.dumps(results['choose_k'])}`. The goal: 10 on the digits "
             f"(10 ± 2 at least), 8 to 12 on Fashion-MNIST (not 3).", "",
             "| features | seed | the guide (BIC elbow) | silhouette | K-Means stability | mixture stability | the guide's seconds |",
             "|---|---|---|---|---|---|---|"]
    for name, runs in results["features"].items():
        for run in runs:
            other = run["other_criteria"]
            lines.append(f"| {name} | {run['seed']} | {run['chosen_k']} | {other['silhouette']} | "
                         f"{other['kmeans_stability']} | {other['mixture_stability']} | {run['guide_seconds']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", default="data/features.npz", help="a finished default run's features")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    start_program()
    params = load_params()
    config = ChooseKConfig.from_params(Section(params["choose_k"], "choose_k"))
    fashion = load_arrays(args.features, ("train",))["train"]
    results = {"commit": commit(), "cpu": describe_cpu(), "choose_k": dataclasses.asdict(config),
               "features": {"Fashion-MNIST, the default run's features": measure(fashion, config, args.seeds),
                            DIGITS: digits_runs(params, args.seeds)}}
    RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    RESULTS.with_suffix(".md").write_text(markdown(results))


if __name__ == "__main__":
    main()
