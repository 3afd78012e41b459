"""Benchmark: which measure of typicality catches what (issues 21 and 26), on a run's models,
and what centring does to the clusters of moved garments.

    python benchmarks/typicality_measures.py [--project .]

Run in a project whose ``dvc repro`` is done (UMAP manifold, for the code distance). Every
candidate is scored on the validation images, which calibrate it as the typicality stage
does (an image's typicality: the share of validation images whose worst rank over the
candidate's ranked scores is worse; 0 if beyond every validation image on one of its limit
scores), then on the test images, the test images turned a quarter turn, inverted, or moved
by ``typicality.moved_shifts`` pixels (the first ``typicality.moved_images``), single bright
dots, and ``typicality.outliers_per_kind`` made-up images of each kind, of another seed than
the stage's. An image is flagged when its typicality is below ``typicality.threshold``.
Candidates: the distance from the image's code to its nearest training codes, the mixture's
log density of its features, the reconstruction error, the error relative to the image's
brightness (squared or absolute), the gain in error when turned, the smoothness, where the
garment lies (blank margins; centre of mass), the brightness of the frame's border, and unions
of them ("a | b": flagged if atypical by either; "[limit]": a limit, not a rank).
Centring: the share of moved test garments whose cluster's matched class is their class, as
they are and centred as ``predict --centre`` centres them, beside the unmoved ones'.
Written: ``benchmarks/results/typicality_measures.{json,md}``, with the CPU they were measured on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fashion_clustering.data.dataset import load_split
from fashion_clustering.data.idx import CLASS_NAMES, N_PIXELS, SIDE
from fashion_clustering.files import read_pickle
from fashion_clustering.fixed_order import distances, row_sums
from fashion_clustering.machine import describe_cpu
from fashion_clustering.methods import METHODS
from fashion_clustering.params import Section
from fashion_clustering.prediction.predict import assign, load_models as load_predict_models
from fashion_clustering.representation.exact_decoder import exact_decode, load_exact_decoder
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder
from fashion_clustering.representation.manifold import embed_codes, load_manifold
from fashion_clustering.typicality.outliers import OUTLIERS, moved
from fashion_clustering.typicality.position import centred
from fashion_clustering.typicality.scores import (
    LIMITS, RANKED, SCORES, atypical, calibrate, turned, typicality, typicality_scores,
)

IMAGE_SHAPE = (SIDE, SIDE, 1)  # Fashion-MNIST's, whose run this benchmark measures

ROOT = Path(__file__).resolve().parents[1]
NEIGHBOURS = 20  # training codes whose mean distance is the code distance (UMAP's n_neighbors)
ROW_CHUNK = 256  # rows whose distances to every training code are held at once (memory)
THRESHOLDS = (0.005, 0.0075, 0.009, 0.01, 0.015, 0.02)
CANDIDATES = {  # name: (the scores whose worst rank counts, the limit scores)
    "code distance to the 20 nearest training codes": (("code_distance",), ()),
    "mixture's log density (negated)": (("log_density",), ()),
    "reconstruction error (MSE)": (("error",), ()),
    "squared error / squared brightness": (("relative_squared_error",), ()),
    "absolute error / brightness": (("relative_error",), ()),
    "error minus the error turned": (("turn_gain",), ()),
    "smoothness (minus variation / brightness)": (("smoothness",), ()),
    "off centre (blank margins)": (("off_centre",), ()),
    "centre of mass's distance from the frame's middle": (("mass_off_centre",), ()),
    "border brightness": (("border",), ()),
    "MSE | absolute error / brightness | turned (issue 21's)": (RANKED, ()),
    "issue 21's | code distance": ((*RANKED, "code_distance"), ()),
    "issue 21's | smoothness": ((*RANKED, "smoothness"), ()),
    "issue 21's | off centre": ((*RANKED, "off_centre"), ()),
    "issue 21's | smoothness | off centre": ((*RANKED, "smoothness", "off_centre"), ()),
    "issue 21's | smoothness | centre of mass": ((*RANKED, "smoothness", "mass_off_centre"), ()),
    "issue 21's | border | off centre": ((*RANKED, "border", "off_centre"), ()),
    "issue 21's | smoothness | off centre | code distance": ((*RANKED, "smoothness", "off_centre", "code_distance"), ()),
    "issue 21's | [centre of mass] | [smoothness]": (RANKED, ("smoothness", "mass_off_centre")),
    "issue 21's | [smoothness] | [off centre] (the stage's)": (RANKED, LIMITS),
}
CHOSEN = "issue 21's | [smoothness] | [off centre] (the stage's)"
DOT_LEVEL = 1.0  # a single dot's grey level


def code_distances(codes: np.ndarray, training_codes: np.ndarray) -> np.ndarray:
    """Each code's mean euclidean distance to its :data:`NEIGHBOURS` nearest training codes."""
    chunks = [np.empty(0)]
    for start in range(0, len(codes), ROW_CHUNK):
        squared = distances(codes[start:start + ROW_CHUNK], training_codes, "euclidean")
        chunks.append(np.sqrt(np.partition(squared, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]).mean(axis=1))
    return np.concatenate(chunks)


def mass_off_centre(pixels: np.ndarray) -> np.ndarray:
    """The larger of the distances, vertical and horizontal, from the centre of mass to the
    frame's middle (+inf for a blank image)."""
    images = pixels.reshape(-1, SIDE, SIDE).astype(np.float64)
    brightness, middle, coordinates = row_sums(images.reshape(len(images), -1)), (SIDE - 1) / 2, np.arange(SIDE)
    offsets = [np.abs(row_sums(row_sums(images if axis else np.swapaxes(images, 1, 2)) * coordinates)
                      / np.where(brightness > 0, brightness, 1) - middle) for axis in (0, 1)]
    return np.where(brightness > 0, np.maximum(*offsets), np.inf)


def border(pixels: np.ndarray) -> np.ndarray:
    """The mean grey level of the frame's outermost pixels."""
    images = pixels.reshape(-1, SIDE, SIDE).astype(np.float64)
    ring = np.concatenate([images[:, 0], images[:, -1], images[:, 1:-1, 0], images[:, 1:-1, -1]], axis=1)
    return row_sums(ring) / ring.shape[1]


def dots(n: int, seed: int) -> np.ndarray:
    """A single bright pixel at a random place on black."""
    images = np.zeros((n, N_PIXELS), np.float32)
    images[np.arange(n), np.random.default_rng(seed).integers(0, N_PIXELS, n)] = DOT_LEVEL
    return images


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
    scores = dict(zip(SCORES, typicality_scores(encoder, decoder, pixels, batch_size, IMAGE_SHAPE).T))
    scores["relative_squared_error"] = row_sums(np.square(x - exact_decode(decoder, codes, batch_size))) / row_sums(
        np.square(x))
    scores["code_distance"] = code_distances(codes, manifold.codes)
    scores["log_density"] = -gmm.score_samples(embed_codes(manifold, codes))
    scores["mass_off_centre"], scores["border"] = mass_off_centre(pixels), border(pixels)
    return scores


def clusters_right(project: Path, batch_size: int, pixels: dict[str, np.ndarray], classes: np.ndarray) -> dict:
    """By set of pixels, by method: the share of rows whose cluster's matched class is ``classes``'."""
    models = load_predict_models(project / "data/models", project / "metrics/cluster_classes.json", batch_size,
                                 tuple(METHODS), project / "data/dataset.json")
    names = np.asarray(CLASS_NAMES)[classes]
    return {name: {method: float(np.mean([a.class_name == truth for a, truth in zip(answers, names)]))
                   for method, answers in assign(models, x).items()} for name, x in pixels.items()}


def table(title: str, rows: dict[str, dict[str, float]], columns: list[str]) -> list[str]:
    return [f"| {title} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)] + [
        f"| {name} | " + " | ".join(f"{100 * rates[c]:.1f} %" for c in columns) + " |" for name, rates in rows.items()]


def main(project: Path) -> None:
    p = Section.load("typicality", project / "params.yaml")
    threshold, batch_size = p.number("threshold"), p.integer("batch_size")
    count, seed = p.integer("outliers_per_kind"), p.integer("seed") + 1
    shifts, moved_count = p.integers("moved_shifts"), p.integer("moved_images")
    x_val = load_split(project / "data/prepared", "val")[0]
    x_test, y_test = load_split(project / "data/prepared", "test")
    images = {"val": x_val, "test": x_test, "test turned": turned(x_test, IMAGE_SHAPE), "test inverted": 1 - x_test[:count]}
    images |= {f"test moved {s} px": moved(x_test[:moved_count], s, IMAGE_SHAPE) for s in shifts}
    images |= {"single dots": dots(count, seed)} | {kind.title: kind.make(count, seed, IMAGE_SHAPE) for kind in OUTLIERS.values()}
    models = load_models(project)
    start = time.perf_counter()
    scores = {name: all_scores(models, pixels, batch_size) for name, pixels in images.items()}
    seconds = time.perf_counter() - start

    def shares(ranked: tuple[str, ...], limits: tuple[str, ...]) -> dict[str, np.ndarray]:
        names = (*ranked, *limits)
        calibration = calibrate(np.stack([scores["val"][n] for n in names], axis=1), threshold, len(limits))
        return {set_: typicality(calibration, np.stack([s[n] for n in names], axis=1)) for set_, s in scores.items()}

    flagged = {candidate: {set_: float(atypical(share, threshold).mean()) for set_, share in shares(*names).items()}
               for candidate, names in CANDIDATES.items()}
    chosen = shares(*CANDIDATES[CHOSEN])
    sweep = {t: {set_: float(atypical(share, t).mean()) for set_, share in chosen.items()} for t in THRESHOLDS}
    turned_by_class = {CLASS_NAMES[c]: float(atypical(chosen["test turned"][y_test == c], threshold).mean())
                       for c in range(len(CLASS_NAMES))}
    beyond_validation = {name: {set_: float((s[name] > scores["val"][name].max()).mean()) for set_, s in scores.items()}
                         for name in ("smoothness", "off_centre", "mass_off_centre", "code_distance")}
    garments = x_test[:moved_count]
    centring = {"unmoved": garments, "unmoved, centred": centred(garments, IMAGE_SHAPE)}
    centring |= {f"moved {s} px{how}": f(moved(garments, s, IMAGE_SHAPE)) for s in shifts
                 for how, f in (("", lambda x: x), (", centred", lambda x: centred(x, IMAGE_SHAPE)))}
    right = clusters_right(project, Section.load("encode", project / "params.yaml").integer("batch_size"), centring,
                           y_test[:moved_count])
    cpu = describe_cpu()
    result = {"cpu": cpu, "threshold": threshold, "made_up_per_kind": count, "made_up_seed": seed,
              "moved_images": moved_count, "scoring_seconds": round(seconds, 1), "flagged": flagged,
              "beyond_every_validation_image": beyond_validation, "threshold_sweep": sweep,
              "test_turned_flagged_by_class": turned_by_class, "clusters_right": right}
    out = ROOT / "benchmarks/results/typicality_measures"
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    sets = list(images)
    lines = [f"Typicality measures (`benchmarks/typicality_measures.py`) on {cpu['model']} "
             f"({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs: share of images flagged at "
             f"threshold {threshold}, each measure calibrated on the {len(x_val):,} validation images; "
             f"{count} made-up images of each kind (seed {seed}), the first {moved_count:,} test images "
             f"moved (right, left, down, up in turn), the first {count} inverted; scoring every set with "
             f"every candidate took {seconds:.0f} s. \"[name]\": a limit (flags only beyond every "
             f"validation image), not a rank.", ""]
    lines += table("measure", flagged, sets)
    lines += ["", "Share of each set beyond every validation image, by score:", ""]
    lines += table("score", beyond_validation, sets)
    lines += ["", "The stage's measure at other thresholds:", ""]
    lines += table("threshold", {str(t): rates for t, rates in sweep.items()}, sets)
    lines += ["", f"Test images turned a quarter turn, flagged by class at threshold {threshold}:", "",
              "| " + " | ".join(turned_by_class) + " |", "|" + "---|" * len(turned_by_class),
              "| " + " | ".join(f"{100 * v:.0f} %" for v in turned_by_class.values()) + " |"]
    lines += ["", f"The first {moved_count:,} test garments, clustered right (the cluster's matched class is "
                  f"theirs), as they are and centred as `predict --centre` centres arrays:", ""]
    lines += table("garments", right, list(METHODS))
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="a project whose dvc repro is done")
    main(parser.parse_args().project)
