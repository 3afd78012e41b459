"""Benchmark: how the pipeline's time and memory grow with the number of images.

Runs the whole pipeline, stage by stage (``dvc repro -s``), on collections of Fashion-MNIST
images of each ``--sizes``: below 70,000 a seeded sample of its 70,000 images; above, all of
them and then copies moved by one pixel (right, down, left, up in turn: within the data
set's own placement). Every collection goes in through the ``arrays`` source (an ``.npz``
with the labels and class names), so that every size takes the same path; a seventh of it is
held out as test images, as Fashion-MNIST's 10,000 of 70,000 are. Each size runs in its own
scratch project under ``--workdir``, kept: run again, the script reruns only the stages whose
code or params changed and keeps the other records.

For each size and stage it records the wall time and the peak memory (RSS of the stage's
processes), with each stage's code hashes and params (for docs/figures.py's stale check); for
each stage the log-log slope of both from ``--slope-from`` to the largest size; at each size
the explorer page's bytes and its time to the first map (headless Chromium, offline, as
``benchmarks/explorer.py`` measures it), and ``fashion-clustering predict`` on one image,
cold (a new process, the run's models). Written: ``benchmarks/results/<name>.{json,md}`` and
the plot ``docs/scale/scale.png``. Run it with nothing else on the machine.

    python benchmarks/scale.py                     # 8,750 ... 280,000 images
    python benchmarks/scale.py --sizes 8750 17500  # a quick look
    python benchmarks/scale.py --render            # the page and plot from the .json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from explorer import CANVAS_PROBE, MARK, measure
from fashion_clustering.data.idx import CLASS_NAMES, read_idx
from fashion_clustering.machine import describe_cpu
from fashion_clustering.scratch import copy_pipeline, git_commit, scratch_project
from fashion_clustering.typicality.position import shifted
from seeds import ROOT, commit, run_stage, set_key, stage_code

RESULTS = ROOT / "benchmarks" / "results"
PLOT = ROOT / "docs" / "scale" / "scale.png"
SIZES = (8750, 17500, 35000, 70000, 140000, 280000)
IMAGES = "data/scale_images.npz"
RAW = ROOT / "data" / "raw"
# Fashion-MNIST's split: 10,000 test images of 70,000.
TEST_FRACTION = 1 / 7
# One-pixel moves of the copies above 70,000 images, (rows, columns), in turn.
MOVES = ((0, 1), (1, 0), (0, -1), (-1, 0))
PREDICT_REPEATS = 5
BROWSER_LOADS = 3


def fashion_mnist() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's 70,000 images (uint8, 28 × 28) and labels, training images first, as
    the project's fetch stage wrote them."""
    images = [read_idx(RAW / f"{split}-images-idx3-ubyte", 3) for split in ("train", "t10k")]
    labels = [read_idx(RAW / f"{split}-labels-idx1-ubyte", 1) for split in ("train", "t10k")]
    return np.concatenate(images), np.concatenate(labels)


def moved(images: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """The images (N × H × W) moved by whole pixels, the uncovered edge black: typicality's
    :func:`shifted`, with the images as the channels of one."""
    return np.moveaxis(shifted(np.moveaxis(images, 0, -1), rows, columns), -1, 0)


def collection(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``size`` images and their labels: a seeded sample of Fashion-MNIST's, or all of them
    and moved copies (the last copy cut to fit)."""
    images, labels = fashion_mnist()
    if size <= len(images):
        keep = np.sort(np.random.default_rng(seed).choice(len(images), size, replace=False))
        return images[keep], labels[keep]
    copies = [images] + [moved(images, *MOVES[i % len(MOVES)]) for i in range(math.ceil(size / len(images)) - 1)]
    return np.concatenate(copies)[:size], np.tile(labels, len(copies))[:size]


def overrides(size: int) -> dict[str, object]:
    """The params that differ from params.yaml's in the project of ``size`` images; the
    clusters keep the equal sizes Fashion-MNIST's run gets (``auto`` would free them for an
    ``arrays`` source), so that every size measures that run's stages."""
    return {"fetch.source.kind": "arrays", "fetch.source.path": IMAGES, "fetch.source.name": f"fashion-mnist-{size}",
            "preprocess.test_fraction": TEST_FRACTION,
            "cluster_kmeans.cluster_sizes": "equal", "cluster_gmm.cluster_sizes": "equal"}


def project_for(size: int, workdir: Path) -> Path:
    """The scratch project of ``size`` images: made the first time, then given today's code
    and params (DVC reruns what they change)."""
    project = workdir / f"images_{size}"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for key, value in overrides(size).items():
        set_key(params, key, value)
    if (project / "dvc.yaml").exists():
        copy_pipeline(project, params)
        git_commit(project, "today's pipeline")
        return project
    scratch_project(project, params)
    images, labels = collection(size)  # not in the project's git: a DVC dependency needs no commit
    np.savez(project / IMAGES, x=images, y=labels, class_names=np.array(CLASS_NAMES))
    return project


def predict_seconds(project: Path, env: dict) -> list[float]:
    """Wall seconds of ``fashion-clustering predict`` on one test image, each a new process."""
    with np.load(project / IMAGES) as archive:
        image = archive["x"][-1:]  # one image, N × H × W
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.npy"
        np.save(path, image)
        seconds = []
        for _ in range(PREDICT_REPEATS):
            start = time.perf_counter()
            subprocess.run(["fashion-clustering", "predict", str(path)], cwd=project, env=env, check=True,
                           capture_output=True)
            seconds.append(round(time.perf_counter() - start, 2))
    return seconds


def explorer_page(project: Path) -> dict:
    """The explorer page's bytes (every file, and those a first view loads) and its time to
    the first map in headless Chromium, offline."""
    page = project / "explorer"
    probe = page / "bench.html"
    probe.write_text((page / "index.html").read_text().replace(
        "</body>", CANVAS_PROBE.replace("HOVERS", "5").replace("MARK", MARK) + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timings = measure(probe, BROWSER_LOADS, Path(tmp))
    finally:
        probe.unlink()
    return {"first_map_ms": timings["first_map_ms"], "first_map_median_ms": timings["first_map_median_ms"],
            "hover_median_ms": timings["hover_median_ms"], "page_bytes": timings["page_bytes"],
            "opening_bytes": sum((page / name).stat().st_size for name in ("index.html", "data.js"))}


def run_size(size: int, workdir: Path, stages: list[str], previous: dict | None) -> dict:
    """Every stage of ``size`` images (those up to date keep their earlier records)."""
    project = project_for(size, workdir)
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    records = dict(previous["stages"]) if previous else {}
    for stage in stages:
        measured = run_stage(project, stage, env)
        if measured["ran"] or stage not in records:
            records[stage] = measured
    for stage, code in stage_code(project).items():
        records.setdefault(stage, {}).update(code)
    run = {"images": size, "commit": commit(), "cpu": describe_cpu(), "overrides": overrides(size),
           "params": yaml.safe_load((project / "params.yaml").read_text()), "stages": records}
    if "cluster_gmm" in stages or "typicality" in stages or not previous:
        run["predict_seconds"] = predict_seconds(project, env)
    if "explore" in stages:
        run["explorer"] = explorer_page(project)
    return ({k: v for k, v in previous.items() if k in ("predict_seconds", "explorer")} if previous else {}) | run


def memory_gib() -> float:
    """The machine's memory (``MemTotal``), in GiB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2 ** 20, 1)
    raise RuntimeError("/proc/meminfo has no MemTotal")


def slope(runs: list[dict], start: int, end: int, value) -> float:
    """The log-log slope of ``value(run)`` between the runs of ``start`` and ``end`` images."""
    by_size = {run["images"]: value(run) for run in runs}
    return math.log(by_size[end] / by_size[start]) / math.log(end / start)


def summarise(runs: list[dict], start: int) -> dict:
    """Per stage, the slopes of time and peak memory from ``start`` images to the most."""
    end = max(run["images"] for run in runs)
    stages = list(runs[-1]["stages"])
    return {"from": start, "to": end, "stages": {
        stage: {"time": round(slope(runs, start, end, lambda r: r["stages"][stage]["seconds"]), 2),
                "memory": round(slope(runs, start, end, lambda r: r["stages"][stage]["peak_mib"]), 2)}
        for stage in stages}}


def markdown(results: dict) -> str:
    runs = results["runs"]
    cpu = runs[-1]["cpu"]
    sizes = [run["images"] for run in runs]
    lines = [f"# Time and memory against the number of images ({results['name']})", "",
             f"{cpu['model']} ({', '.join(cpu['vector_extensions'])}), {cpu['cpus']} CPUs; commit "
             f"`{runs[-1]['commit']}`. Each size is Fashion-MNIST through the arrays source (above 70,000, "
             "its images moved by one pixel) with Fashion-MNIST's clusters of equal size, one stage at a time.", "",
             "## Wall time (s) of each stage", "",
             "| stage | " + " | ".join(f"{n:,}" for n in sizes) + " | slope |",
             "|---|" + "---|" * (len(sizes) + 1)]
    slopes = results["slopes"]
    for stage in runs[-1]["stages"]:
        lines.append(f"| `{stage}` | " + " | ".join(f"{run['stages'][stage]['seconds']:.0f}" for run in runs)
                     + f" | {slopes['stages'][stage]['time']:.2f} |")
    lines.append("| all stages | " + " | ".join(f"{run['seconds']:.0f}" for run in runs) + f" | {slopes['total']:.2f} |")
    lines += ["", "## Peak memory (MiB) of each stage", "",
              "| stage | " + " | ".join(f"{n:,}" for n in sizes) + " | slope |",
              "|---|" + "---|" * (len(sizes) + 1)]
    for stage in runs[-1]["stages"]:
        lines.append(f"| `{stage}` | " + " | ".join(str(run["stages"][stage]["peak_mib"]) for run in runs)
                     + f" | {slopes['stages'][stage]['memory']:.2f} |")
    lines.append("| the most | " + " | ".join(str(run["peak_mib"]) for run in runs) + " | |")
    lines += ["", f"Slopes: log-log, from {slopes['from']:,} to {slopes['to']:,} images.", "",
              "## The explorer and predict", "",
              "| images | page, all files | opened first (index.html, data.js) | first map (median) | "
              "`predict`, one image, cold (median) |", "|---|---|---|---|---|"]
    for run in runs:
        page = run.get("explorer")
        if page is None:
            continue
        lines.append(f"| {run['images']:,} | {page['page_bytes'] / 1e6:.1f} MB | {page['opening_bytes'] / 1e6:.1f} MB "
                     f"| {page['first_map_median_ms']:,.0f} ms | {statistics.median(run['predict_seconds']):.2f} s |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    """Time and peak memory of each stage against the images, log-log, one legend beside."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    sizes = [run["images"] for run in runs]
    stages = list(runs[-1]["stages"])
    colours = plt.get_cmap("tab20").colors
    figure, (times, memory) = plt.subplots(1, 2, figsize=(13, 5.2), dpi=100)
    for i, stage in enumerate(stages):
        slopes = results["slopes"]["stages"][stage]
        style = {"color": colours[(2 * i) % 20 + (2 * i) // 20], "marker": "os^Dv<>ph*XP"[i % 12], "markersize": 5}
        times.plot(sizes, [run["stages"][stage]["seconds"] for run in runs], **style,
                   label=f"{stage} ({slopes['time']:.2f}, {slopes['memory']:.2f})")
        memory.plot(sizes, [run["stages"][stage]["peak_mib"] / 1024 for run in runs], **style)
    times.plot(sizes, [run["seconds"] for run in runs], color="black", linewidth=2.5,
               label=f"all stages ({results['slopes']['total']:.2f})")
    gib = [2.0 ** k for k in range(-4, 5)]
    for axes, title, unit in ((times, "Wall time of each stage", "seconds"),
                              (memory, "Peak memory of each stage", "GiB")):
        axes.set(xscale="log", yscale="log", xlabel="images", ylabel=unit, title=title)
        axes.set_xticks(sizes, [f"{n / 1000:g}k" for n in sizes])
        axes.minorticks_off()
        axes.grid(True, which="major", alpha=0.3)
    low, high = memory.get_ylim()
    memory.set_yticks([g for g in gib if low <= g <= high], [f"{g:g}" for g in gib if low <= g <= high])
    figure.legend(loc="center right", fontsize=8, title=f"stage (slope of time, of memory,\n"
                  f"{results['slopes']['from']:,} → {results['slopes']['to']:,} images)", title_fontsize=8)
    figure.tight_layout(rect=(0, 0, 0.8, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def write(results: dict, name: str) -> None:
    runs = results["runs"]
    for run in runs:
        run["seconds"] = round(sum(m["seconds"] for m in run["stages"].values()), 1)
        run["peak_mib"] = max(m["peak_mib"] for m in run["stages"].values())
    start = results["slopes_from"]
    results["slopes"] = summarise(runs, start)
    results["slopes"]["total"] = round(slope(runs, start, results["slopes"]["to"], lambda r: r["seconds"]), 2)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(results))
    plot(results, PLOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="scale", help="results file name")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--slope-from", type=int, default=70000, help="the size the slopes start from")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fashion-scale",
                        help="where each size's project is kept")
    parser.add_argument("--stages", nargs="+", help="run only these stages (default: every stage)")
    parser.add_argument("--render", action="store_true", help="run nothing: the page and plot from <name>.json")
    args = parser.parse_args()
    path = RESULTS / f"{args.name}.json"
    results = json.loads(path.read_text()) if path.exists() else {"name": args.name, "runs": []}
    if not args.render:
        stages = args.stages or list(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
        by_size = {run["images"]: run for run in results["runs"]}
        for size in sorted(args.sizes):
            by_size[size] = run_size(size, args.workdir, stages, by_size.get(size))
            results["runs"] = [by_size[n] for n in sorted(by_size)]
            results["slopes_from"] = args.slope_from
            results["memory_gib"] = memory_gib()
            path.write_text(json.dumps(results, indent=2) + "\n")  # kept whatever follows
            print(f"{size:,} images: " + ", ".join(f"{s} {m['seconds']:.0f} s" for s, m in by_size[size]["stages"].items()), file=sys.stderr)
    if max(run["images"] for run in results["runs"]) > results["slopes_from"]:
        write(results, args.name)


if __name__ == "__main__":
    main()
