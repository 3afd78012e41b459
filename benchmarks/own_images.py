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
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.scratch import digits, git_commit, scratch_project, write_pictures
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
    lines = [f"scikit-learn's digits as a folder of pictures with a subfolder per class; params: the "
             f"committed ones, `fetch.source.kind: folder`, every `seed` key set to the seed; seeds "
             f"{', '.join(map(str, results['seeds']))}. Test split: the {results['test_images']} images held out "
             f"by `preprocess.test_fraction`. Measured at `{results['commit']}` on {cpu['model']}, "
             f"{cpu['cpus']} CPUs.", ""]
    overrides = {run["variant"]: run["overrides"] for run in results["runs"]}
    lines += [f"- `{variant}`: " + (", ".join(f"`{k}={json.dumps(v)}`" for k, v in changed.items())
                                   or "the committed defaults") for variant, changed in overrides.items()]
    lines += ["", "| variant | method | test ACC | test NMI | test ARI |", "|---|---|---|---|---|"]
    for variant, summaries in results["by_variant"].items():
        for method in METHODS:
            cells = [f"{summaries[method][s]['mean']:.3f} ± {summaries[method][s]['std']:.3f}" for s in SCORES]
            lines.append(f"| {variant} | {method} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="own_images", help="results file name (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variant", action="append", default=None,
                        help="name:key=value;... params overrides (default: the committed params)")
    args = parser.parse_args()
    variants = dict(map(parse_variant, args.variant or ["default"]))
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    images, labels = digits()
    runs = []
    with tempfile.TemporaryDirectory(prefix="own-images-bench-") as scratch:
        project = scratch_project(Path(scratch))
        write_pictures(project / base["fetch"]["source"]["path"], images, labels)
        git_commit(project, "the digits as a folder of pictures")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        for seed in args.seeds:
            for variant, overrides in variants.items():
                params = json.loads(json.dumps(base))
                params["fetch"]["source"].update(SOURCE)
                seed_everything_in(params, seed)
                for key, value in overrides.items():
                    set_key(params, key, value)
                print(f"== seed {seed}, variant {variant} ==", file=sys.stderr, flush=True)
                runs.append({"seed": seed, "variant": variant, "overrides": overrides, "params": params,
                             **run_seed(project, params, env)})
                test_images = int(len(load_arrays(project / "data/prepared/test.npz", ("y",))["y"]))
                write_results(args.name, runs, test_images)  # after every run: a long benchmark can be stopped


def write_results(name: str, runs: list[dict], test_images: int) -> None:
    """``benchmarks/results/<name>.json`` and ``.md`` from the runs so far."""
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    results = {
        "commit": commit(), "cpu": describe_cpu(), "seeds": sorted({r["seed"] for r in runs}),
        "test_images": test_images,
        # Not "variants": seeds.py renders the results files that have its keys.
        "by_variant": {variant: {method: {score: summary([r["scores"][method][score] for r in runs
                                                         if r["variant"] == variant]) for score in SCORES}
                               for method in METHODS} for variant in variants},
        "runs": runs,
    }
    out = ROOT / "benchmarks" / "results"
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(results))


if __name__ == "__main__":
    main()
