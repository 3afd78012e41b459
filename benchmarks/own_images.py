"""Benchmark: the pipeline on one's own images with its defaults, over several seeds.

The images are scikit-learn's 1,797 handwritten digits (8×8, no download), written as a
folder of pictures with one subfolder per class; the only params set are ``fetch.source``
(``kind: folder``) and, for each seed, every ``seed`` key of params.yaml (the split too).
Each seed runs in a scratch copy of the project (:mod:`fashion_clustering.scratch`) the stages
up to ``cluster_gmm``, one at a time (``dvc repro -s``), and this script scores the test
split's assignments itself (:func:`fashion_clustering.evaluation.metrics.clustering_scores`):
the ``evaluate``, ``report`` and ``explore`` stages are generalised to other images
separately, so they are not run here. Written: ``benchmarks/results/<name>.json`` (every run:
its params, stage times, test scores; mean ± std per method; the CPU) and ``<name>.md``.

    python benchmarks/own_images.py --seeds 0 1 2 3 4
    python benchmarks/own_images.py --name own_images_free --seeds 0 1 \\
        --variant "free:cluster_kmeans.cluster_sizes=free;cluster_gmm.cluster_sizes=free"

``--collection unbalanced`` runs the same on the digits with some classes cut (``--cut-classes``,
default 5-9) to a share of their images (``--cut-to``, default a tenth), drawn at random with
``--cut-seed``: a collection whose classes are not balanced (issue 33). With several
collections the results have ``by_collection`` (collection, then variant, then method) instead
of ``by_variant``:

    python benchmarks/own_images.py --name unbalanced --seeds 0 1 2 \\
        --collection balanced --collection unbalanced \\
        --variant "equal:cluster_kmeans.cluster_sizes=equal;cluster_gmm.cluster_sizes=equal" \\
        --variant "free:cluster_kmeans.cluster_sizes=free;cluster_gmm.cluster_sizes=free"

``--collection fashion`` is another small collection: ``--fashion-images`` (7,000) of
Fashion-MNIST's images, a random draw with ``--sample-seed`` (read from the project's
``data/raw``, which its ``fetch`` stage writes), as a folder of pictures:

    python benchmarks/own_images.py --name small_collection --seeds 0 1 2 \\
        --collection balanced --collection fashion --variant default \\
        --variant "no_noise:train_autoencoder.small_collection.input_noise=0.0"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.scratch import digits, git_commit, scratch_project, write_pictures
from scale import collection as fashion_sample
from seeds import METHODS, ROOT, SCORES, commit, parse_variant, run_stage, set_key, summary

# The stages that make the three methods' assignments, in order.
STAGES = ("fetch", "preprocess", "baseline_kmeans", "train_autoencoder", "encode", "cluster_kmeans", "cluster_gmm")
SOURCE = {"kind": "folder"}  # fetch.source's settings beside its committed path
SEED_KEY = "seed"


def seed_everything_in(params: dict, seed: int) -> None:
    """Set every ``seed`` key of ``params``, at any depth, to ``seed``."""
    for key, value in params.items():
        if key == SEED_KEY:
            params[key] = seed
        elif isinstance(value, dict):
            seed_everything_in(value, seed)


def cut_classes(images: np.ndarray, labels: np.ndarray, classes: list[int], share: float,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The images with each of ``classes`` cut to ``share`` of its images (rounded, at least
    one), drawn at random with ``seed``; the other classes whole, the order kept."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(labels), dtype=bool)
    for cls in classes:
        members = np.flatnonzero(labels == cls)
        kept = rng.choice(members, size=max(1, round(share * len(members))), replace=False)
        keep[np.setdiff1d(members, kept)] = False
    return images[keep], labels[keep]


def collection(name: str, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict]:
    """The images and labels of a collection, and its description for the results."""
    if name == "fashion":
        images, labels = fashion_sample(args.fashion_images, args.sample_seed)
    else:
        images, labels = digits()
    if name == "unbalanced":
        images, labels = cut_classes(images, labels, args.cut_classes, args.cut_to, args.cut_seed)
    counts = {str(c): int(n) for c, n in zip(*np.unique(labels, return_counts=True))}
    about = {"images": int(len(labels)), "class_counts": counts}
    if name == "unbalanced":
        about.update(cut_classes=args.cut_classes, cut_to=args.cut_to, cut_seed=args.cut_seed)
    if name == "fashion":
        about.update(sample_of="Fashion-MNIST's 70,000 images", sample_seed=args.sample_seed)
    return images, labels, about


def scores_of_run(project: Path) -> dict[str, dict[str, float]]:
    """Each method's ACC, NMI and ARI on the run's test split."""
    y_test = load_arrays(project / "data/prepared/test.npz", ("y",))["y"]
    return {method: {score: value for score, value in clustering_scores(
                y_test, load_arrays(project / f"data/assignments/{method}.npz", ("test",))["test"]).items()
                if score in SCORES}
            for method in METHODS}


def run_seed(project: Path, params: dict, env: dict) -> dict:
    """The stages of one run, timed, and its test scores."""
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stages = {stage: run_stage(project, stage, env) for stage in STAGES}
    return {"stages": stages, "scores": scores_of_run(project)}


def markdown(results: dict) -> str:
    """The results as a page: the mean ± std of each method's test scores, per variant."""
    cpu = results["cpu"]
    what = "each collection below" if "collections" in results else "scikit-learn's digits"
    lines = [f"{what[0].upper()}{what[1:]} as a folder of pictures with a subfolder per class; params: the "
             f"committed ones, `fetch.source.kind: folder`, every `seed` key set to the seed; seeds "
             f"{', '.join(map(str, results['seeds']))}. Test split: the "
             f"{results['test_images'] if 'test_images' in results else ' and '.join(str(c['test_images']) for c in results['collections'].values())} "
             f"images held out by `preprocess.test_fraction`. Measured at `{results['commit']}` on {cpu['model']}, "
             f"{cpu['cpus']} CPUs.", ""]
    overrides = {run["variant"]: run["overrides"] for run in results["runs"]}
    lines += [f"- `{variant}`: " + (", ".join(f"`{k}={json.dumps(v)}`" for k, v in changed.items())
                                   or "the committed defaults") for variant, changed in overrides.items()]
    if "by_collection" not in results:
        lines += ["", "| variant | method | test ACC | test NMI | test ARI |", "|---|---|---|---|---|"]
        for variant, summaries in results["by_variant"].items():
            lines += [f"| {variant} | {row}" for row in method_rows(summaries)]
        return "\n".join(lines) + "\n"
    lines += [""]
    for name, about in results["collections"].items():
        counts = ", ".join(f"{c}: {n}" for c, n in about["class_counts"].items())
        cut = (f"; classes {', '.join(map(str, about['cut_classes']))} cut to {about['cut_to']:g} of their "
               f"images, a random draw with seed {about['cut_seed']} (numpy's `default_rng`)"
               if "cut_classes" in about else
               f" of {about['sample_of']}, a random draw with seed {about['sample_seed']} (numpy's `default_rng`)"
               if "sample_of" in about else "")
        lines.append(f"- collection `{name}`: {about['images']} images{cut}; per class {counts}")
    lines += ["", "| collection | variant | method | test ACC | test NMI | test ARI |", "|---|---|---|---|---|---|"]
    for name, by_variant in results["by_collection"].items():
        for variant, summaries in by_variant.items():
            lines += [f"| {name} | {variant} | {row}" for row in method_rows(summaries)]
    return "\n".join(lines) + "\n"


def method_rows(summaries: dict) -> list[str]:
    """A table's cells from the method on: mean ± std of each score."""
    return [f"{method} | " + " | ".join(f"{summaries[method][s]['mean']:.3f} ± {summaries[method][s]['std']:.3f}"
                                        for s in SCORES) + " |" for method in METHODS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="own_images", help="results file name (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variant", action="append", default=None,
                        help="name:key=value;... params overrides (default: the committed params)")
    parser.add_argument("--collection", action="append", choices=("balanced", "unbalanced", "fashion"), default=None,
                        help="balanced: all the digits (the default); unbalanced: --cut-classes cut to --cut-to; "
                             "fashion: --fashion-images of Fashion-MNIST's, a random draw with --sample-seed")
    parser.add_argument("--fashion-images", type=int, default=7000)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--cut-classes", type=int, nargs="+", default=[5, 6, 7, 8, 9])
    parser.add_argument("--cut-to", type=float, default=0.1, help="share of a cut class's images kept")
    parser.add_argument("--cut-seed", type=int, default=0, help="seed of the draw of the images kept")
    args = parser.parse_args()
    variants = dict(map(parse_variant, args.variant or ["default"]))
    names = list(dict.fromkeys(args.collection or ["balanced"]))
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    runs, collections, test_images = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="own-images-bench-") as scratch:
        projects = {}
        for name in names:  # a project per collection: its variants share the stages before clustering
            images, labels, collections[name] = collection(name, args)
            projects[name] = scratch_project(Path(scratch) / name)
            write_pictures(projects[name] / base["fetch"]["source"]["path"], images, labels)
            git_commit(projects[name], f"the collection {name} as a folder of pictures")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        for seed in args.seeds:
            for name, project in projects.items():
                for variant, overrides in variants.items():
                    params = json.loads(json.dumps(base))
                    params["fetch"]["source"].update(SOURCE)
                    seed_everything_in(params, seed)
                    for key, value in overrides.items():
                        set_key(params, key, value)
                    print(f"== seed {seed}, collection {name}, variant {variant} ==", file=sys.stderr, flush=True)
                    runs.append({"seed": seed, "collection": name, "variant": variant, "overrides": overrides,
                                 "params": params, **run_seed(project, params, env)})
                    test_images[name] = int(len(load_arrays(project / "data/prepared/test.npz", ("y",))["y"]))
                    # after every run: a long benchmark can be stopped
                    write_results(args.name, runs, test_images, collections if args.collection else None)


def by_variant(runs: list[dict]) -> dict:
    """Variant, method, score: the mean ± std over the runs."""
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    return {variant: {method: {score: summary([r["scores"][method][score] for r in runs
                                               if r["variant"] == variant]) for score in SCORES}
                      for method in METHODS} for variant in variants}


def write_results(name: str, runs: list[dict], test_images: dict[str, int], collections: dict | None = None) -> None:
    """``benchmarks/results/<name>.json`` and ``.md`` from the runs so far; with ``collections``
    (the ``--collection`` option given), per collection."""
    results = {"commit": commit(), "cpu": describe_cpu(), "seeds": sorted({r["seed"] for r in runs})}
    if collections is None:
        results["test_images"] = test_images["balanced"]
        # Not "variants": seeds.py renders the results files that have its keys.
        results["by_variant"] = by_variant(runs)
    else:
        results["collections"] = {c: {**about, "test_images": test_images[c]}
                                  for c, about in collections.items() if c in test_images}
        results["by_collection"] = {c: by_variant([r for r in runs if r["collection"] == c])
                                    for c in results["collections"]}
    results["runs"] = runs
    out = ROOT / "benchmarks" / "results"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
