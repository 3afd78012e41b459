"""Benchmark: which measure of typicality catches what (issue 21), on a run's models.

    python benchmarks/typicality_measures.py [--project .]

Run in a project whose ``dvc repro`` is done (UMAP manifold, for the code distance). Every
candidate is scored on the validation images, which calibrate it as the typicality stage
does (an image's typicality: the share of validation images whose worst rank over the
measure's scores is worse), then on the test images, the test images turned a quarter
turn and ``typicality.outliers_per_kind`` made-up images of each kind, of another seed than
the stage's. An image is flagged when its typicality is below ``typicality.threshold``.
Candidates: the distance from the image's code to its nearest training codes, the
mixture's log density of its features, the reconstruction error, the error relative to the
image's brightness (squared or absolute), the gain in error when turned, and unions of
them ("a | b": flagged if atypical by either). Written: ``benchmarks/results/
typicality_measures.{json,md}``, with the CPU they were measured on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fashion_clustering.data.dataset import load_split
from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.evaluation.outliers import OUTLIERS
from fashion_clustering.evaluation.typicality import (
    SCORES, atypical, calibrate, turned, typicality, typicality_scores,
)
from fashion_clustering.files import read_pickle
from fashion_clustering.fixed_order import distances, row_sums
from fashion_clustering.machine import describe_cpu
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_decoder import exact_decode, load_exact_decoder
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder
from fashion_clustering.representation.manifold import embed_codes, load_manifold

ROOT = Path(__file__).resolve().parents[1]
NEIGHBOURS = 20  # training codes whose mean distance is the code distance (UMAP's n_neighbors)
ROW_CHUNK = 256  # rows whose distances to every training code are held at once (memory)
THRESHOLDS = (0.005, 0.0075, 0.009, 0.01, 0.015, 0.02)
CANDIDATES = {  # name: the scores whose worst rank counts
    "code distance to the 20 nearest training codes": ("code_distance",),
    "mixture's log density (negated)": ("log_density",),
    "reconstruction error (MSE)": ("error",),
    "squared error / squared brightness": ("relative_squared_error",),
    "absolute error / brightness": ("relative_error",),
    "error minus the error turned": ("turn_gain",),
    "MSE | code distance": ("error", "code_distance"),
    "MSE | squared error / squared brightness": ("error", "relative_squared_error"),
    "MSE | absolute error / brightness": ("error", "relative_error"),
    "MSE | absolute error / brightness | turned (the stage's)": SCORES,
}


def code_distances(codes: np.ndarray, training_codes: np.ndarray) -> np.ndarray:
    """Each code's mean euclidean distance to its :data:`NEIGHBOURS` nearest training codes."""
    chunks = [np.empty(0)]
    for start in range(0, len(codes), ROW_CHUNK):
        squared = distances(codes[start:start + ROW_CHUNK], training_codes, "euclidean")
        chunks.append(np.sqrt(np.partition(squared, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]).mean(axis=1))
    return np.concatenate(chunks)


def load_models(project: Path) -> tuple:
    """The run's encoder, decoder, manifold step and mixture."""
    model = str(project / "data/models/autoencoder.keras")
    return (load_exact_encoder(model), load_exact_decoder(model), load_manifold(str(project / "data/models/manifold.pkl")),
            read_pickle(project / "data/models/ae_gmm.pkl", "run dvc repro"))


def all_scores(models: tuple, pixels: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """Every candidate's scores of ``pixels``, each the higher the less typical."""
    encoder, decoder, manifold, gmm = models
    codes = exact_encode(encoder, pixels, batch_size)
    x = pixels.astype(np.float64)
    scores = dict(zip(SCORES, typicality_scores(encoder, decoder, pixels, batch_size).T))
    scores["relative_squared_error"] = row_sums(np.square(x - exact_decode(decoder, codes, batch_size))) / row_sums(
        np.square(x))
    scores["code_distance"] = code_distances(codes, manifold.codes)
    scores["log_density"] = -gmm.score_samples(embed_codes(manifold, codes))
    return scores


def main(project: Path) -> None:
    p = Section.load("typicality", project / "params.yaml")
    threshold, batch_size = p.number("threshold"), p.integer("batch_size")
    count, seed = p.integer("outliers_per_kind"), p.integer("seed") + 1
    x_val = load_split(project / "data/prepared", "val")[0]
    x_test, y_test = load_split(project / "data/prepared", "test")
    images = {"val": x_val, "test": x_test, "test turned": turned(x_test)} | {
        kind.title: kind.make(count, seed) for kind in OUTLIERS.values()}
    models = load_models(project)
    start = time.perf_counter()
    scores = {name: all_scores(models, pixels, batch_size) for name, pixels in images.items()}
    seconds = time.perf_counter() - start

    def shares(names: tuple[str, ...]) -> dict[str, np.ndarray]:
        calibration = calibrate(np.stack([scores["val"][n] for n in names], axis=1))
        return {set_: typicality(calibration, np.stack([s[n] for n in names], axis=1)) for set_, s in scores.items()}

    flagged = {candidate: {set_: float(atypical(share, threshold).mean()) for set_, share in shares(names).items()}
               for candidate, names in CANDIDATES.items()}
    chosen = shares(SCORES)
    sweep = {t: {set_: float(atypical(share, t).mean()) for set_, share in chosen.items()} for t in THRESHOLDS}
    turned_by_class = {CLASS_NAMES[c]: float(atypical(chosen["test turned"][y_test == c], threshold).mean())
                       for c in range(len(CLASS_NAMES))}
    cpu = describe_cpu()
    result = {"cpu": cpu, "threshold": threshold, "made_up_per_kind": count, "made_up_seed": seed,
              "scoring_seconds": round(seconds, 1), "flagged": flagged, "threshold_sweep": sweep,
              "test_turned_flagged_by_class": turned_by_class}
    out = ROOT / "benchmarks/results/typicality_measures"
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    sets = list(images)
    header = "| " + " | ".join(sets) + " |"
    lines = [f"Typicality measures (`benchmarks/typicality_measures.py`) on {cpu['model']} "
             f"({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs: share of images flagged at "
             f"threshold {threshold}, each measure calibrated on the {len(x_val):,} validation images; "
             f"{count} made-up images of each kind (seed {seed}); scoring every set with every candidate "
             f"took {seconds:.0f} s.", "",
             "| measure " + header, "|---|" + "---|" * len(sets)]
    lines += [f"| {candidate} | " + " | ".join(f"{100 * rates[s]:.1f} %" for s in sets) + " |"
              for candidate, rates in flagged.items()]
    lines += ["", "The stage's measure at other thresholds:", "", "| threshold " + header, "|---|" + "---|" * len(sets)]
    lines += [f"| {t} | " + " | ".join(f"{100 * rates[s]:.1f} %" for s in sets) + " |" for t, rates in sweep.items()]
    lines += ["", f"Test images turned a quarter turn, flagged by class at threshold {threshold}:", "",
              "| " + " | ".join(turned_by_class) + " |", "|" + "---|" * len(turned_by_class),
              "| " + " | ".join(f"{100 * v:.0f} %" for v in turned_by_class.values()) + " |"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="a project whose dvc repro is done")
    main(parser.parse_args().project)
