"""Benchmark: which K the K guide (the ``choose_k`` stage) points to, and which K the criteria
it was chosen against point to, on features of two data sets without their labels.

- Fashion-MNIST: the training features of a finished default run (``data/features.npz``).
- scikit-learn's digits (1,797 real 8×8 images, ten classes): the pipeline's recipe outside
  DVC, split as ``preprocess`` splits them (test, then validation shares, stratified, seeded),
  the dense autoencoder of ``train_autoencoder``'s settings trained for ``--digits-epochs``
  epochs on the training split, its codes, then ``encode``'s UMAP; and, as a second view, the
  same UMAP of the pixels themselves. Until the autoencoder takes the data's shape, its input
  width is set to the digits' 64 pixels here.

The guide's criterion (the mixture's BIC elbow) runs with the project's ``choose_k`` params,
over several seeds (which rows, and the mixtures' start); beside it, on the same rows, the K
that the K-Means silhouette and the stability of K-Means and of the mixture between two seeds
(the adjusted Rand index of their clusters) point to. Written: ``benchmarks/results/
choose_k.{json,md}``, with the CPU.

    python benchmarks/choose_k.py [--features data/features.npz] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from fashion_clustering.data.dataset import PreprocessConfig
from fashion_clustering.evaluation.choose_k import ChooseKConfig, choose_k
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.params import Section, load_params
from fashion_clustering.representation import autoencoder as autoencoders
from fashion_clustering.representation.manifold import EncodeConfig, fit_umap, seeded_sample
from fashion_clustering.startup import start_program

RESULTS = Path("benchmarks/results/choose_k")
DIGIT_LEVELS = 16  # load_digits' pixels are 0..16


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


def digits_features(params: dict, epochs: int) -> dict[str, np.ndarray]:
    """The digits' training rows as the pipeline's recipe sees them: autoencoder codes then
    UMAP, and the UMAP of the pixels themselves."""
    digits = load_digits()
    x = (np.round(digits.data * 255 / DIGIT_LEVELS) / 255).astype(np.float32)
    split = PreprocessConfig.from_params(Section(params["preprocess"], "preprocess"))
    rest, _, y_rest, _ = train_test_split(x, digits.target, test_size=split.test_fraction, stratify=digits.target,
                                          random_state=split.seed)
    train, val = train_test_split(rest, test_size=split.val_fraction, stratify=y_rest, random_state=split.seed)
    section = Section(params["train_autoencoder"], "train_autoencoder")
    model_config = autoencoders.AutoencoderConfig.from_params(section)
    training = dataclasses.replace(autoencoders.TrainingConfig.from_params(section), epochs=epochs)
    autoencoders.seed_everything(section.values["seed"])
    model, encoder = autoencoders.build_autoencoder(model_config, digits.images.shape[1:] + (1,))
    autoencoders.train_autoencoder(model, train, val, training, [])
    umap = EncodeConfig.from_params(Section(params["encode"], "encode")).umap
    return {"autoencoder_umap": fit_umap(encoder.predict(train, verbose=0), umap).embedding,
            "pixels_umap": fit_umap(train, umap).embedding}


def markdown(results: dict) -> str:
    """The results as a page: the K each criterion points to, per data set and seed."""
    cpu = results["cpu"]
    lines = ["# The K guide: which K it points to", "",
             f"Measured on {cpu['model']}, {cpu['cpus']} CPUs, by `benchmarks/choose_k.py`; the guide's "
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
    parser.add_argument("--digits-epochs", type=int, default=150,
                        help="the digits' autoencoder's epochs (their training split is 25 times smaller)")
    args = parser.parse_args()
    start_program()
    params = load_params()
    config = ChooseKConfig.from_params(Section(params["choose_k"], "choose_k"))
    features = {"Fashion-MNIST, the default run's features": load_arrays(args.features, ("train",))["train"]}
    digits = digits_features(params, args.digits_epochs)
    features |= {f"digits, autoencoder ({args.digits_epochs} epochs) + UMAP": digits["autoencoder_umap"],
                 "digits, UMAP of the pixels": digits["pixels_umap"]}
    results = {"cpu": describe_cpu(), "choose_k": dataclasses.asdict(config), "digits_epochs": args.digits_epochs,
               "features": {name: measure(x, config, args.seeds) for name, x in features.items()}}
    RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    RESULTS.with_suffix(".md").write_text(markdown(results))


if __name__ == "__main__":
    main()
