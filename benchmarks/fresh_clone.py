"""`make repro` as a new user meets it: a fresh clone of the committed project, set-up from
nothing (a new venv, uv and pip without their caches), then every stage of the pipeline, one at a time.

    python benchmarks/fresh_clone.py [--name fresh_clone]

Records the set-up's wall time, then each stage's wall time and peak memory (as
`benchmarks/seeds.py` measures them, with each stage's code hashes and params, so that
`docs/figures.py` can tell when today's code differs), the slowest stage and the CPU, in
``benchmarks/results/<name>.json`` (and ``.md``). Debian's Fashion-MNIST package must be
installed already (`make dataset`); set-up still downloads every pinned package, so its time
depends on the network as well as the CPU. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from fashion_clustering.machine import describe_cpu
from seeds import ROOT, commit, measured, output_hashes, run_stage, stage_code


def fresh_clone(target: Path) -> Path:
    """A clone of the committed project (HEAD) in ``target``, as `git clone` gives it."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    return target


def set_up(clone: Path) -> dict[str, float]:
    """`make setup` in the clone from nothing, the installers' caches unused: its wall time."""
    env = dict(os.environ, PIP_NO_CACHE_DIR="1", UV_NO_CACHE="1")
    env.pop("VIRTUAL_ENV", None)
    _, seconds, _ = measured(["make", "setup"], clone, env)
    return {"seconds": seconds}


def run_pipeline(clone: Path) -> dict[str, dict]:
    """Every stage of the clone's dvc.yaml, in order, with the clone's venv first on PATH."""
    env = dict(os.environ, PATH=f"{clone / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env.pop("VIRTUAL_ENV", None)
    stages = list(yaml.safe_load((clone / "dvc.yaml").read_text())["stages"])
    runs = {stage: run_stage(clone, stage, env) for stage in stages}
    for stage, code in stage_code(clone).items():
        runs[stage].update(code)
    return runs


def markdown(results: dict) -> str:
    """The results as a page: set-up, each stage, the total and the slowest."""
    run = results["runs"][0]
    cpu = run["cpu"]
    lines = [f"# `make repro` from a fresh clone ({results['name']})", "",
             f"Commit `{run['commit']}`; {cpu['model']} ({', '.join(cpu['vector_extensions'])}), "
             f"{cpu['cpus']} CPUs. Set-up: a new venv, uv and pip without their caches.", "",
             "| step | wall time | peak memory |", "|---|---|---|",
             f"| set-up (`make setup`) | {results['setup']['seconds']:.0f} s | – |"]
    lines += [f"| `{stage}` | {m['seconds']:.0f} s | {m['peak_mib']} MiB |" if m["ran"] else
              f"| `{stage}` | up to date: its inputs came out as committed, its outputs are in git | – |"
              for stage, m in run["stages"].items()]
    lines += [f"| the stages together | {results['stages_seconds']:.0f} s | {results['peak_mib']} MiB |",
              f"| set-up and stages | {results['total_seconds']:.0f} s | |", "",
              f"The slowest stage: `{results['slowest']}`.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="fresh_clone", help="results file name")
    parser.add_argument("--render", action="store_true", help="run nothing: rewrite <name>.md from <name>.json")
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "results"
    if args.render:
        (out / f"{args.name}.md").write_text(markdown(json.loads((out / f"{args.name}.json").read_text())))
        return
    with tempfile.TemporaryDirectory(prefix="fashion-clone-") as scratch:
        clone = fresh_clone(Path(scratch) / "project")
        setup = set_up(clone)
        stages = run_pipeline(clone)
        params = yaml.safe_load((clone / "params.yaml").read_text())
        run = {"seed": params["train_autoencoder"]["seed"], "variant": "default", "overrides": {},
               "params": params, "commit": commit(), "cpu": describe_cpu(), "stages": stages,
               "outputs": output_hashes(clone)}
    stages_seconds = sum(m["seconds"] for m in stages.values())
    results = {"name": args.name, "setup": setup, "stages_seconds": round(stages_seconds, 1),
               "total_seconds": round(setup["seconds"] + stages_seconds, 1),
               "peak_mib": max(m["peak_mib"] for m in stages.values()),
               "slowest": max(stages, key=lambda stage: stages[stage]["seconds"]), "runs": [run]}
    (out / f"{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"{args.name}.md").write_text(markdown(results))
    print(f"set-up {setup['seconds']:.0f} s, stages {stages_seconds:.0f} s; wrote {out / args.name}.json",
          file=sys.stderr)


if __name__ == "__main__":
    main()
