"""Benchmark: how fast ``fashion-clustering predict`` answers, that it answers exactly
the pipeline's clusters and typicality, and what it flags as atypical.

Run in a project whose ``dvc repro`` is done. Cold: a fresh process (``fashion-clustering
predict``) on one picture (PNG), one image (.npy) and the first 1,000 test images (.npy),
each ``--repeats`` times. Warm: the models loaded once, then 1 and 1,000 images assigned
and scored in-process. The 1,000 images' clusters must equal the test split's in
``data/assignments/`` and their typicality the typicality stage's in
``data/typicality.npz``, and the one image's those of the same image among the 1,000.
Flagged: the shares of the 1,000 test images, of the same turned a quarter turn or moved, and of
``typicality.outliers_per_kind`` made-up images of each kind (another seed than the
stage's) that ``predict`` flags as atypical.
Written: ``benchmarks/results/predict.{json,md}``, with the CPU they were measured on.

    python benchmarks/predict_time.py
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.typicality.outliers import OUTLIERS, moved
from fashion_clustering.typicality.scores import turned
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.methods import METHODS
from fashion_clustering.params import Section
from fashion_clustering.prediction.predict import assign, how_typical, load_models

ROOT = Path(__file__).resolve().parents[1]
MANY = 1000


def cold(files: list[Path], repeats: int) -> dict[str, object]:
    """Wall seconds of ``repeats`` fresh ``predict`` processes, and the last one's answer."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(["fashion-clustering", "predict", "--format", "json", *map(str, files)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "rows": json.loads(done.stdout)}


def warm(models, pixels: np.ndarray, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        assign(models, pixels)
        how_typical(models, pixels)
        seconds.append(time.perf_counter() - start)
    return seconds


def column(rows: list[dict], method: str, name: str = "cluster") -> list:
    return [row[name] for row in rows if row["method"] == method]


def flagged_share(models, pixels: np.ndarray) -> float:
    return float(np.mean([t.atypical for t in how_typical(models, pixels)]))


def main(repeats: int) -> None:
    x_test = load_split(ROOT / "data/prepared", "test")[0]
    images = np.rint(x_test[:MANY] * 255).astype(np.uint8).reshape(MANY, 28, 28)
    pipeline = {m: load_arrays(ROOT / f"data/assignments/{m}.npz", SPLITS)["test"][:MANY] for m in METHODS}
    typical = load_arrays(ROOT / "data/typicality.npz", ("test",))["test"][:MANY].tolist()
    with tempfile.TemporaryDirectory() as scratch:
        inputs = {"one picture (PNG)": Path(scratch) / "one.png", "one image (.npy)": Path(scratch) / "one.npy",
                  f"{MANY:,} images (.npy)": Path(scratch) / "many.npy"}
        Image.fromarray(images[0]).save(inputs["one picture (PNG)"])
        np.save(inputs["one image (.npy)"], images[:1])
        np.save(inputs[f"{MANY:,} images (.npy)"], images)
        runs = {name: cold([path], repeats) for name, path in inputs.items()}
    many, one = (runs[name]["rows"] for name in (f"{MANY:,} images (.npy)", "one image (.npy)"))
    for method in METHODS:  # exactly the pipeline's clusters and typicality, alone or among 1,000
        if column(many, method) != pipeline[method].tolist() or column(one, method) != column(many, method)[:1]:
            sys.exit(f"error: predict's {method} clusters differ from the pipeline's test assignments")
        if column(many, method, "typicality") != typical or column(one, method, "typicality") != typical[:1]:
            sys.exit("error: predict's typicality differs from the typicality stage's of the test images")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    params = ROOT / "params.yaml"
    section = Section.load("typicality", params)
    models = load_models(ROOT / "data/models", ROOT / "metrics/cluster_classes.json",
                         Section.load("encode", params).integer("batch_size", minimum=1), METHODS,
                         ROOT / "data/dataset.json")
    shape = models.description.image_shape
    pixels = images.reshape(MANY, -1) / np.float32(255)
    count, seed = section.integer("outliers_per_kind", minimum=1), section.integer("seed", minimum=0) + 1
    flagged = {f"first {MANY:,} test images (cold runs above)": float(np.mean(column(many, "ae_gmm", "atypical"))),
               "the same, turned a quarter turn": flagged_share(models, turned(pixels, shape))}
    flagged |= {f"the same, moved {shift} pixels": flagged_share(models, moved(pixels, shift, shape))
                for shift in section.integers("moved_shifts")}
    flagged |= {f"{kind.title} ({count}, seed {seed})": flagged_share(models, kind.make(count, seed, shape))
                for kind in OUTLIERS.values()}
    timings = {f"cold, {name}": run["seconds"] for name, run in runs.items()}
    timings |= {"warm, one image": warm(models, pixels[:1], repeats),
                f"warm, {MANY:,} images": warm(models, pixels, repeats)}
    result = {"cpu": describe_cpu(), "repeats": repeats, "methods": list(METHODS),
              "same_clusters_and_typicality_as_pipeline": True, "cold_peak_memory_mib": round(peak_mib),
              "seconds": {name: [round(s, 3) for s in seconds] for name, seconds in timings.items()},
              "threshold": models.calibration.threshold, "flagged": flagged}
    out = ROOT / "benchmarks/results/predict"
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    cpu = result["cpu"]
    lines = [f"`fashion-clustering predict`, all three methods (`benchmarks/predict_time.py`), on "
             f"{cpu['model']} ({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs; "
             f"{repeats} runs each.", "",
             f"The clusters of the first {MANY:,} test images, and of the first alone, are the "
             f"pipeline's (`data/assignments/`) for every method, and their typicality the typicality "
             f"stage's (`data/typicality.npz`). Peak memory of a cold run: "
             f"{result['cold_peak_memory_mib']} MiB.", "",
             "| run | median s | slowest s |", "|---|---|---|"]
    lines += [f"| {name} | {statistics.median(seconds):.3f} | {max(seconds):.3f} |"
              for name, seconds in timings.items()]
    lines += ["", f"Flagged as atypical by `predict` (typicality below {models.calibration.threshold}):", "",
              "| images | flagged |", "|---|---|"]
    lines += [f"| {name} | {100 * share:.1f} % |" for name, share in flagged.items()]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement")
    main(parser.parse_args().repeats)
