"""``fashion-clustering``: the project's command, installed with it.

``fashion-clustering predict FILE...`` assigns images to the clusters of the run in the
current workspace; ``fashion-clustering explore`` opens its explorer page.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import webbrowser
from typing import Sequence

from ..errors import PipelineError
from ..explorer.page import page_url
from ..methods import METHODS
from ..params import Section
from ..startup import start_program
from .predict import DEFAULT_SOURCE, HOW_PICTURES_ARE_CONVERTED, assign, how_typical, load_models, read_pixels

COLUMNS = ("source", "index", "method", "cluster", "class", "probability", "typicality", "atypical", "why", "error")
# What each score named in the ``why`` column says of a flagged image.
WHY = {
    "error": "the autoencoder reconstructs it badly (noise, patterns)",
    "relative_error": "its reconstruction misses much of its ink (a thin drawing, text)",
    "turn_gain": "it is reconstructed better turned (an object lying on its side)",
    "smoothness": "smoother than any training image (shading, a flat fill)",
    "off_centre": "not in the middle of its frame (--centre centres arrays)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashion-clustering", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser(
        "predict", help="assign images to the clusters of the current workspace's run",
        description="Assign images to the clusters of the run in the current workspace (its "
                    "models in data/models, its cluster names in metrics/cluster_classes.json). "
                    "One row per image and method: the source file and the image's index in it, "
                    "the cluster, the class the cluster was matched to on the training split "
                    "('cluster <k>' for a run without labels), "
                    "for the GMM the membership probability; then how typical the image is of "
                    "the training images (the share of validation images less typical than it, "
                    "by how the autoencoder reconstructs it, how smooth it is and where it lies in "
                    "its frame), whether that is below the threshold the run calibrated with "
                    "(atypical: unlike what the models were trained on, so its cluster says "
                    "little), and if so why: "
                    + "; ".join(f"{name}: {meaning}" for name, meaning in WHY.items()) + ". "
                    + HOW_PICTURES_ARE_CONVERTED
                    + " An unreadable file gets an error row and a non-zero exit status; the "
                    "other files are still answered.")
    predict.add_argument("files", nargs="+", metavar="FILE", help="PNG, JPEG, BMP, .npy or IDX files")
    predict.add_argument("--method", choices=("all", *METHODS), default="all",
                         help="which clustering to use (default: all three)")
    predict.add_argument("--format", choices=("table", "csv", "json"), default="table",
                         help="a readable table (default), CSV or JSON")
    predict.add_argument("--models", default="data/models", help="the trained models (default: %(default)s)")
    predict.add_argument("--classes", default="metrics/cluster_classes.json",
                         help="each cluster's matched class (default: %(default)s)")
    predict.add_argument("--params", default="params.yaml", help="the run's params (default: %(default)s)")
    predict.add_argument("--dataset", default="data/dataset.json",
                         help="the run's data set's description: its images' shape (default: %(default)s)")
    predict.add_argument("--centre", action="store_true",
                         help="move each object of .npy and IDX arrays to the middle of its frame, as "
                              "the default source's pictures are (default: arrays as they are)")
    explore = commands.add_parser(
        "explore", help="open the explorer page of the current workspace's run",
        description="Open the page the explore stage wrote (every image of the run on a 2-D map, "
                    "its clusters, confusions, disagreements and least typical images) in the "
                    "default browser, from the file system: it needs no server and no network.")
    explore.add_argument("--page", default="explorer", help="the page's directory (default: %(default)s)")
    explore.add_argument("--print-only", action="store_true", help="print its address, open nothing")
    return parser


def open_explorer(page_dir: str, print_only: bool) -> int:
    """Print the page's address and open it unless ``print_only``."""
    try:
        url = page_url(page_dir)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(url)
    if not print_only:
        webbrowser.open(url)
    return 0


def predict_rows(files: Sequence[str], models, centre_arrays: bool = False, garments: bool = False) -> list[dict]:
    """One row per image and method, or one error row per file that cannot be read; pictures
    converted as garments if ``garments`` (see :func:`.predict.read_pixels`)."""
    rows = []
    for path in files:
        try:
            pixels = read_pixels(path, models.description, garments, centre_arrays)
        except PipelineError as error:
            rows.append({column: None for column in COLUMNS} | {"source": path, "error": str(error)})
            continue
        typical = how_typical(models, pixels)
        for method, assignments in assign(models, pixels).items():
            rows += [{"source": path, "index": i, "method": method, "cluster": a.cluster,
                      "class": a.class_name, "probability": a.probability, "typicality": t.share,
                      "atypical": t.atypical, "why": t.why, "error": None}
                     for i, (a, t) in enumerate(zip(assignments, typical))]
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_rows(rows: list[dict], style: str) -> str:
    """``rows`` as an aligned table, CSV or JSON."""
    if style == "json":
        return json.dumps(rows, indent=2) + "\n"
    if style == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([[_text(row[c]) for c in COLUMNS] for row in rows])
        return buffer.getvalue()
    columns = [c for c in COLUMNS if any(row[c] is not None for row in rows)]
    cells = [[_text(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [[c for c in columns], ["-" * w for w in widths], *cells]
    return "".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() + "\n" for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``fashion-clustering`` command; returns its exit status."""
    start_program()
    args = _parser().parse_args(argv)
    if args.command == "explore":
        return open_explorer(args.page, args.print_only)
    methods = tuple(METHODS) if args.method == "all" else (args.method,)
    try:
        batch_size = Section.load("encode", args.params).integer("batch_size", minimum=1)
        models = load_models(args.models, args.classes, batch_size, methods, args.dataset)
        source = Section.load("fetch", args.params).section("source").text("kind")
        rows = predict_rows(args.files, models, args.centre, garments=source == DEFAULT_SOURCE)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(format_rows(rows, args.format))
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
