"""Benchmark runs made under other CPUs' numeric kernels, set beside a reference run of the
same seeds: which outputs are still the reference's bytes, and how far the scores move.

The runs come from ``seeds.py`` started with a variable that picks other kernels, which it
records (``TF_ENABLE_ONEDNN_OPTS=0``: TensorFlow without oneDNN, as on CPUs without AVX-512
VNNI or BF16; ``ONEDNN_MAX_CPU_ISA=AVX2``: oneDNN's AVX2 kernels; ``OPENBLAS_CORETYPE=Haswell`` or ``SkylakeX``:
NumPy's and SciPy's AVX2 or AVX-512 kernels):

    OPENBLAS_CORETYPE=SkylakeX python benchmarks/seeds.py --name cpu_openblas_skylakex --seeds 0
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/seeds.py --name cpu_onednn_off --seeds 0 1
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/seeds.py --name cpu_onednn_avx2 --seeds 0
    python benchmarks/compare_machines.py --reference default cpu_openblas_skylakex cpu_onednn_off cpu_onednn_avx2

(with no names: the committed ones; `make docs` rewrites the page so).

A variable the reference already ran with (the AMD EPYC that ran the committed benchmark set
``OPENBLAS_CORETYPE=Haswell`` in its environment) is inherited by the emulated runs.

Written: ``benchmarks/results/cpu_emulation.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = {"baseline_kmeans": "K-Means on pixels", "ae_kmeans": "AE + K-Means", "ae_gmm": "AE + GMM"}
MODEL = "data/models/autoencoder.keras"
EMULATED = ("cpu_openblas_skylakex", "cpu_onednn_off", "cpu_onednn_avx2")  # the committed emulations


def default_runs(name: str) -> dict[int, dict]:
    """The runs of the committed defaults in ``results/<name>.json``, by seed."""
    results = json.loads((RESULTS / f"{name}.json").read_text())
    return {run["seed"]: run for run in results["runs"] if run["variant"] == "default"}


def first_difference(reference: dict, run: dict) -> str:
    """The first output, in the pipeline's order, whose bytes differ from the reference's."""
    return next((f"`{path}`" for path, md5 in reference["outputs"].items() if run["outputs"].get(path) != md5),
                "none: every output is the same bytes")


def kernels(run: dict) -> str:
    return " ".join(f"`{k}={v}`" for k, v in run.get("kernel_variables", {}).items()) or "the CPU's own"


def scores(run: dict, reference: dict | None) -> list[str]:
    cells = []
    for method in METHODS:
        test = run["scores"][method]["test"]
        cell = f"{test['acc']:.3f} / {test['nmi']:.3f}"
        if reference is not None:
            cell += f" ({test['acc'] - reference['scores'][method]['test']['acc']:+.3f})"
        cells.append(cell)
    return cells


def page(reference_name: str, names: list[str]) -> str:
    """``cpu_emulation.md``: the runs of ``names`` beside the reference's."""
    reference = default_runs(reference_name)
    cpu = next(iter(reference.values()))["cpu"]
    lines = [f"Runs of the committed defaults under other numeric kernels, on {cpu['model']} "
             f"({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs, against the reference "
             f"`{reference_name}` (the same seeds with the reference runs' kernels). Each score cell is "
             f"held-out test ACC / NMI (ACC change against the reference).", "",
             "| kernels | seed | first output that differs | " + " | ".join(METHODS.values()) + " |",
             "|---|---|---|" + "---|" * len(METHODS)]
    changes: dict[str, list[float]] = {method: [] for method in METHODS}
    for name in names:
        for seed, run in sorted(default_runs(name).items()):
            lines.append(f"| {kernels(run)} | {seed} | {first_difference(reference[seed], run)} | "
                         + " | ".join(scores(run, reference[seed])) + " |")
            if run["outputs"][MODEL] != reference[seed]["outputs"][MODEL]:
                for method in METHODS:
                    changes[method].append(abs(run["scores"][method]["test"]["acc"]
                                               - reference[seed]["scores"][method]["test"]["acc"]))
    seeds = sorted({seed for name in names for seed in default_runs(name)})
    lines += [f"| reference | {seed} | | " + " | ".join(scores(reference[seed], None)) + " |" for seed in seeds]
    if changes["ae_gmm"]:
        lines += ["", "Mean absolute change of test ACC over the runs that trained another model: " + ", ".join(
            f"{label} {statistics.fmean(changes[m]):.3f}" for m, label in METHODS.items()) + "."]
    return "\n".join(lines) + "\n"


def main(reference_name: str, names: list[str]) -> None:
    text = page(reference_name, names)
    (RESULTS / "cpu_emulation.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="default", help="results name of the reference runs")
    parser.add_argument("names", nargs="*", default=list(EMULATED),
                        help="results names of the runs under other kernels (default: the committed ones)")
    args = parser.parse_args()
    main(args.reference, args.names)
