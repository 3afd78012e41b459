"""Benchmark: how long the folder source takes to read Fashion-MNIST's 70,000 images as PNG
files, and that it reads the same pixels as the IDX files.

Run in a project whose ``dvc repro fetch`` is done with the default source (``data/raw``
holds the official IDX files). Every image is written as a PNG file to a temporary folder,
in ``train/<class>/`` and ``test/<class>/`` (``--limit``: only the first images of each
split, to check the script); then the folder source reads them ``--repeats`` times, as the
fetch stage does (listing, decoding, checking sizes and channels), with the files in the
page cache since they were just written. The pixels and labels read must equal the IDX
files', in the folder's order (by class). Written: ``--out``
(``benchmarks/results/read_folder.json``), with the CPU it was measured on.

    python benchmarks/read_folder.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fashion_clustering.data.raw import read_raw
from fashion_clustering.data.sources import SourceConfig, read_folder
from fashion_clustering.files import write_json
from fashion_clustering.machine import describe_cpu

ROOT = Path(__file__).resolve().parents[1]


def write_pngs(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    """Each image as ``<split>/<label>/<index>.png``; return the seconds it took."""
    start = time.perf_counter()
    for split, (x, y) in splits.items():
        for label in np.unique(y):
            (folder / split / str(label)).mkdir(parents=True)
        for i, (image, label) in enumerate(zip(x, y)):
            Image.fromarray(image.squeeze(-1)).save(folder / split / str(label) / f"{i:05d}.png")
    return time.perf_counter() - start


def main(raw_dir: Path, out: Path, limit: int | None, repeats: int) -> None:
    raw = read_raw(raw_dir)
    splits = {split: (x[:limit], y[:limit]) for split, (x, y) in raw.splits.items()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "fashion-mnist"
        write_seconds = write_pngs(folder, splits)
        config = SourceConfig("folder", str(folder), name=None, channels=None, image_size=None,
                              class_names=None, skip_unreadable=False)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            images = read_folder(config)
            seconds.append(time.perf_counter() - start)
    for split, (x, y) in splits.items():
        order = np.argsort(y, kind="stable")
        read_x, read_y = images.splits[split]
        if not (np.array_equal(read_x, x[order]) and np.array_equal(read_y, y[order])):
            raise SystemExit(f"{split}: the PNG files' pixels or labels differ from the IDX files'")
    result = {"cpu": describe_cpu(), "images": {split: len(y) for split, (_, y) in splits.items()},
              "limit": limit, "write_seconds": round(write_seconds, 2),
              "read_seconds": [round(s, 2) for s in seconds], "same_pixels_as_idx": True}
    write_json(out, result)
    print(f"read {sum(result['images'].values()):,} PNG files in {min(seconds):.1f} s (best of {repeats}); "
          f"written to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=ROOT / "data/raw", help="the default fetch stage's output")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/read_folder.json")
    parser.add_argument("--limit", type=int, default=None, help="images per split (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    main(args.raw, args.out, args.limit, args.repeats)
