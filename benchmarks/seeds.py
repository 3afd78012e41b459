"""Benchmark: the real pipeline over several seeds, and variants of its params.

For each seed, every variant runs the whole `dvc repro`, stage by stage, in one scratch
copy of the project. Variants that share a stage's params reuse it from DVC's run cache, so
an ablation of, say, the clusterer does not retrain the autoencoder. Written:
``benchmarks/results/<name>.json`` (every run, plus mean ± std of ACC/NMI/ARI per method
and split, and wall time / peak memory per stage, with each stage's code hashes and params
from the run's dvc.lock, and the commit measured) and ``<name>.md`` (the tables). With
``--all-images``, the named variants are also scored as the papers score: all 70k images
clustered together. Every run records its full effective params.

    python benchmarks/seeds.py --name default --seeds 0 1 2 3 4 --all-images default
    python benchmarks/seeds.py --name ablation --seeds 0 --variant default \
        --variant "no_umap:encode.manifold=none" \
        --variant "course_report_20_epochs:@course_report;train_autoencoder.epochs=20"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from fashion_clustering.machine import describe_cpu
from fashion_clustering.scratch import scratch_project
from preset import load_preset

ROOT = Path(__file__).resolve().parents[1]
SEED_KEYS = ("baseline_kmeans.seed", "train_autoencoder.seed", "encode.umap.seed",
             "cluster_kmeans.seed", "cluster_gmm.seed")
METHODS = ("baseline_kmeans", "ae_kmeans", "ae_gmm")
# Variables that change which numeric kernels run (so the benchmark can emulate other CPUs:
# `TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/seeds.py ...`); the runs record those set.
KERNEL_VARIABLES = ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OPENBLAS_CORETYPE")
SCORES = ("acc", "nmi", "ari")


def set_key(params: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    node = params
    for key in parents:
        node = node[key]
    if last not in node:
        raise SystemExit(f"error: params.yaml has no key {dotted}")
    node[last] = value


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    """``name:key=value;key=value`` (or just ``default``); ``@preset`` adds a named preset."""
    name, _, spec = text.partition(":")
    overrides: dict[str, object] = {}
    for item in filter(None, spec.split(";")):
        if item.startswith("@"):
            overrides.update(load_preset(item[1:]))
        else:
            key, _, value = item.partition("=")
            overrides[key] = yaml.safe_load(value)
    return name, overrides


def measured(cmd: list[str], cwd: Path, env: dict) -> tuple[list[str], float, int]:
    """Run ``cmd``, echoing its output: the output lines, wall seconds and peak RSS in MiB.

    Only children measure their own memory: the benchmark process stays small, because a
    forked child's peak RSS starts from its parent's.
    """
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = []
    for line in process.stdout:
        output.append(line)
        sys.stderr.write(line)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed")
    return output, round(time.perf_counter() - start, 1), round(usage.ru_maxrss / 1024)


def run_stage(project: Path, stage: str, env: dict) -> dict[str, object]:
    """Run one stage with `dvc repro -s`: wall seconds, peak RSS in MiB, and whether it ran
    (rather than being up to date or restored from DVC's run cache)."""
    output, seconds, peak_mib = measured(["dvc", "repro", "-s", stage], project, env)
    return {"seconds": seconds, "peak_mib": peak_mib, "ran": not any("skipping" in line for line in output)}


def all_images(project: Path, env: dict) -> dict[str, object]:
    """The run's scores under the papers' protocol (``all_images.py``), seconds and peak MiB."""
    out = project / "all_images.json"
    _, seconds, peak_mib = measured([sys.executable, str(ROOT / "benchmarks/all_images.py"), str(project), str(out)],
                                    project, dict(env, PYTHONPATH=str(project)))
    return {"scores": json.loads(out.read_text()), "seconds": seconds, "peak_mib": peak_mib}


def output_hashes(project: Path) -> dict[str, str]:
    """The MD5 of every stage output in the run's dvc.lock: which exact models and features it
    had (and where to find them in DVC's cache)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


def stage_code(project: Path) -> dict[str, dict[str, object]]:
    """Per stage, from the run's dvc.lock: the MD5 of each file it reads that no stage writes
    (its code) and its params, so that a page quoting the run can tell when today's differ
    (docs/figures.py's `stale_stages`)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    written = {out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])}
    return {name: {"deps": {dep["path"]: dep["md5"] for dep in stage.get("deps", []) if dep["path"] not in written},
                   "params": stage.get("params", {}).get("params.yaml", {})}
            for name, stage in lock["stages"].items()}


def commit() -> str:
    """The commit of the code measured; `+modified` when the work tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    modified = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    return (head or "unknown") + ("+modified" if modified else "")


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", help="results file name")
    parser.add_argument("--render", action="store_true",
                        help="run nothing: rewrite every benchmark page (<name>.md) from its <name>.json")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variant", action="append", default=None,
                        help="name:key=value,... params overrides (default: the committed params)")
    parser.add_argument("--cache", type=Path, metavar="DIR",
                        help="a DVC cache directory kept across invocations, so that a later "
                             "benchmark restores from DVC's run cache the stages an earlier one "
                             "ran with the same code, params and data (their times then show as "
                             "shared); only stages whose outputs are all cached: encode and the "
                             "clusterers, not train_autoencoder, whose loss curves git keeps")
    parser.add_argument("--all-images", nargs="+", default=[], metavar="VARIANT",
                        help="for these variants, also score the papers' protocol: all 70k images "
                             "clustered together (a few minutes per run)")
    args = parser.parse_args()
    if args.render:
        render_pages()
        return
    if not args.name:
        parser.error("--name is required to run a benchmark")
    variants = dict(map(parse_variant, args.variant or ["default"]))
    stages = list(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    runs = []
    with tempfile.TemporaryDirectory(prefix="fashion-bench-") as scratch:
        project = scratch_project(Path(scratch))
        # Its stages, run as `python -m stages.<name>`, import the copy's package.
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        if args.cache:
            subprocess.run(["dvc", "cache", "dir", str(args.cache.resolve())], cwd=project, env=env, check=True)
        cpu = describe_cpu()
        kernels = {name: os.environ[name] for name in KERNEL_VARIABLES if name in os.environ}
        for seed in args.seeds:
            for variant, overrides in variants.items():
                params = json.loads(json.dumps(base))
                for key in SEED_KEYS:
                    set_key(params, key, seed)
                for key, value in overrides.items():
                    set_key(params, key, value)
                (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
                print(f"== seed {seed}, variant {variant} ==", file=sys.stderr, flush=True)
                stage_runs = {stage: run_stage(project, stage, env) for stage in stages}
                for stage, code in stage_code(project).items():
                    stage_runs[stage].update(code)
                scores = json.loads((project / "metrics/evaluate.json").read_text())
                runs.append({"seed": seed, "variant": variant, "overrides": overrides,
                             "params": params, "commit": commit(), "cpu": cpu, "kernel_variables": kernels,
                             "scores": scores, "stages": stage_runs,
                             "outputs": output_hashes(project)})
                if variant in args.all_images:
                    runs[-1]["all_images"] = all_images(project, env)
                write_results(args.name, variants, runs)  # after every run: a long benchmark can be stopped


def peak(measurements: list[dict]) -> int | None:
    """The highest peak RSS of the measurements (None: there are none)."""
    return max((m["peak_mib"] for m in measurements), default=None)


def aggregate(runs: list[dict]) -> dict:
    first = runs[0]["scores"]
    scored_together = [r["all_images"]["scores"] for r in runs if "all_images" in r]
    return {
        "scores": {m: {split: {s: summary([r["scores"][m][split][s] for r in runs]) for s in SCORES}
                       for split in first[m]} for m in METHODS},
        "all_images": {m: {s: summary([scores[m][s] for scores in scored_together]) for s in SCORES}
                       for m in METHODS} if scored_together else None,
        "all_images_seconds": summary([r["all_images"]["seconds"] for r in runs if "all_images" in r])
                              if scored_together else None,
        # Only stages that really ran count; a variant may reuse another's stage from the cache.
        "seconds": {stage: summary(ran) if (ran := [r["stages"][stage]["seconds"] for r in runs
                                                    if r["stages"][stage]["ran"]]) else None
                    for stage in runs[0]["stages"]},
        "peak_mib": {stage: peak([r["stages"][stage] for r in runs if r["stages"][stage]["ran"]])
                     for stage in runs[0]["stages"]},
        "all_images_peak_mib": peak([r["all_images"] for r in runs if "all_images" in r]),
    }


def write_results(name: str, variants: dict, runs: list[dict]) -> None:
    results = {
        "variants": {v: {"overrides": o, **aggregate(done)}
                     for v, o in variants.items() if (done := [r for r in runs if r["variant"] == v])},
        "seeds": sorted({r["seed"] for r in runs}),
        "runs": runs,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(results))


def benchmark_results(folder: Path = ROOT / "benchmarks" / "results") -> list[Path]:
    """The results files this script wrote: the pages `render_pages` keeps up to date."""
    return [path for path in sorted(folder.glob("*.json"))
            if {"variants", "seeds", "runs"} <= set(json.loads(path.read_text()))]


def render_pages() -> None:
    for path in benchmark_results():
        path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))


def time_and_memory(seconds: dict, peak_mib: int) -> str:
    return f"{seconds['mean']:.0f} s, {peak_mib} MiB"


def markdown(results: dict) -> str:
    seeds = ", ".join(map(str, results["seeds"]))
    lines = ["Variants (overrides of the committed params.yaml):", ""]
    lines += [f"- `{variant}`: " + (", ".join(f"`{k}={json.dumps(v)}`" for k, v in result["overrides"].items())
                                   or "the committed defaults")
              for variant, result in results["variants"].items()]
    machines = {json.dumps(run["cpu"], sort_keys=True): run["cpu"] for run in results["runs"] if "cpu" in run}
    if machines:
        lines += ["", "Measured on: " + "; ".join(
            f"{cpu['model']} ({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs"
            for cpu in machines.values()) + "."]
    commits = sorted({run["commit"] for run in results["runs"] if "commit" in run})
    if commits:
        lines += ["", "Measured at commit " + ", ".join(f"`{c}`" for c in commits) + "."]
    kernels = {json.dumps(run.get("kernel_variables", {}), sort_keys=True) for run in results["runs"]}
    if kernels != {"{}"}:
        lines += ["", "Kernel variables in the benchmark's environment (they choose which numeric kernels "
                  "run; set by the machine or, to emulate another CPU, by hand; see docs/reproducibility.md): "
                  + "; ".join(" ".join(f"`{k}={v}`" for k, v in json.loads(setting).items()) or "none"
                              for setting in sorted(kernels)) + "."]
    lines += ["", f"Mean ± std over seeds {seeds}. *val*: the 12,000 validation images, held out of "
              "the training split; *test*: the 10,000 test images (models fitted on the other 48,000 "
              "training images, labels read only to score); *70k*, where measured: all 70k images "
              "clustered together (the papers' protocol; the autoencoder is the same, UMAP and the "
              "clusterers are refitted on every image).", "",
              "| variant | method | val ACC | val NMI | test ACC | test NMI | test ARI | 70k ACC | 70k NMI | 70k ARI |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    pair = lambda v: f"{v['mean']:.3f} ± {v['std']:.3f}"
    for variant, result in results["variants"].items():
        for method in METHODS:
            splits, together = result["scores"][method], result.get("all_images")
            cells = [pair(splits["val"][s]) if "val" in splits else "–" for s in ("acc", "nmi")]
            cells += [pair(splits["test"][s]) for s in SCORES]
            cells += [pair(together[method][s]) if together else "–" for s in SCORES]
            lines.append(f"| {variant} | {method} | {' | '.join(cells)} |")
    lines += ["", "Wall time (mean over the runs where the stage ran) and peak memory (most; – where "
              "not measured) per stage; `shared` marks a stage this variant took from another's run "
              "(DVC's run cache), \"(1 of 5 runs)\" one that the other runs restored from it.", ""]
    stages = list(next(iter(results["variants"].values()))["seconds"])
    lines += ["| variant | " + " | ".join(stages) + " | total | 70k protocol (not in the pipeline) |",
              "|---" * (len(stages) + 3) + "|"]
    for variant, result in results["variants"].items():
        cells, total = [], 0.0
        runs = [run for run in results["runs"] if run["variant"] == variant]
        for stage in stages:
            seconds = result["seconds"][stage]
            if seconds is None:
                cells.append("shared")
            else:
                total += seconds["mean"]
                ran = sum(run["stages"][stage]["ran"] for run in runs)
                cells.append(time_and_memory(seconds, result["peak_mib"][stage])
                             + (f" ({ran} of {len(runs)} runs)" if ran < len(runs) else ""))
        together = result.get("all_images_seconds")
        lines.append(f"| {variant} | {' | '.join(cells)} | {total / 60:.1f} min | "
                     + (time_and_memory(together, result["all_images_peak_mib"]) if together else "–")
                     + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
