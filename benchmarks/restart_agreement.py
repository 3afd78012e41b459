"""Which GMM restart to keep: the best likelihood, or the one that agrees most with the others?

    python benchmarks/restart_agreement.py PROJECT [--fits 40] [--first-seed 1000]

PROJECT is a repository where `dvc repro` has run. On its clustered features (the
``encode`` stage's output), ``--fits`` single-initialisation GMMs with the run's
``cluster_gmm`` settings are fitted on the training rows, each seeded apart. Every fit is
scored on the test split (labels used only to judge the criteria), and two unsupervised
criteria pick one fit: the highest likelihood (what ``n_init`` keeps) and the highest mean
ARI against the other fits on the training rows. Subsets of 10 fits, drawn 300 times, show
what each criterion keeps from 10 restarts.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from fashion_clustering.clustering.fit import GmmConfig, fit_gmm
from fashion_clustering.data.dataset import load_split
from fashion_clustering.evaluation.metrics import cluster_accuracy
from fashion_clustering.files import load_arrays
from fashion_clustering.params import Section

SUBSETS, SUBSET_SIZE = 300, 10


def main(project: Path, fits: int, first_seed: int) -> None:
    config = GmmConfig.from_params(Section.load("cluster_gmm", project / "params.yaml"))
    features = load_arrays(project / "data/features.npz", ("train", "test"))
    _, y_test = load_split(project / "data/prepared", "test")
    likelihood, train_labels, accuracy = [], [], []
    for seed in range(first_seed, first_seed + fits):
        model = fit_gmm(features["train"], dataclasses.replace(config, n_init=1, seed=seed))
        likelihood.append(model.lower_bound_)
        train_labels.append(model.predict(features["train"]))
        accuracy.append(cluster_accuracy(y_test, model.predict(features["test"])))
    likelihood, accuracy = np.array(likelihood), np.array(accuracy)
    ari = np.array([[adjusted_rand_score(a, b) if i != j else 0.0 for j, b in enumerate(train_labels)]
                    for i, a in enumerate(train_labels)])
    agreement = ari.sum(axis=1) / (fits - 1)
    print(f"{fits} single fits: test ACC {accuracy.mean():.3f} on average, at most {accuracy.max():.3f}")
    print(f"best likelihood: {accuracy[likelihood.argmax()]:.3f}; most agreeing: {accuracy[agreement.argmax()]:.3f}")
    print(f"correlation with ACC: likelihood {np.corrcoef(accuracy, likelihood)[0, 1]:+.2f}, "
          f"agreement {np.corrcoef(accuracy, agreement)[0, 1]:+.2f}")
    rng = np.random.default_rng(0)
    by_likelihood, by_agreement = [], []
    for _ in range(SUBSETS):
        subset = rng.choice(fits, SUBSET_SIZE, replace=False)
        by_likelihood.append(accuracy[subset][likelihood[subset].argmax()])
        by_agreement.append(accuracy[subset][ari[np.ix_(subset, subset)].sum(axis=1).argmax()])
    print(f"from {SUBSET_SIZE} fits ({SUBSETS} draws): likelihood keeps {np.mean(by_likelihood):.3f} "
          f"± {np.std(by_likelihood):.3f}, agreement {np.mean(by_agreement):.3f} ± {np.std(by_agreement):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--fits", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1000)
    args = parser.parse_args()
    main(args.project, args.fits, args.first_seed)
