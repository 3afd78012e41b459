"""``data/raw``, what ``fetch`` writes and ``preprocess`` reads.

For Fashion-MNIST, its four official IDX files as they are. For any other source,
``source.json`` (the data set's name and class names, or null) and one ``<split>.npz`` per
split the source has (``train``, and ``test`` if it has one) with ``x``, uint8
``(n, height, width, channels)``, and ``y`` if labelled (:func:`.description.label_array`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from ..files import atomic_path, load_arrays, read_json, save_arrays, write_json
from .description import label_array
from .idx import CLASS_NAMES, FASHION_MNIST, load_images_and_labels

SOURCE_FILE = "source.json"
SOURCE_SPLITS = ("train", "test")
# Fashion-MNIST's files in data/raw, as fetch writes them.
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
HOW_TO_MAKE = "run `dvc repro fetch` to make it"


@dataclass(frozen=True)
class SourceImages:
    """A source's images, one entry per split it has: ``(x, y)``, x uint8 ``(n, h, w, c)``,
    y the class indices or None."""

    name: str
    class_names: tuple[str, ...] | None
    splits: Mapping[str, tuple[np.ndarray, np.ndarray | None]]
    skipped: tuple[str, ...] = ()  # "<file>: <why>" of each unreadable file left out


def write_raw(out_dir: str | Path, images: SourceImages) -> None:
    """``data/raw`` in the layout of this module's docstring, all of it or nothing."""
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        labelled = images.class_names is not None
        write_json(tmp / SOURCE_FILE, {"name": images.name,
                                       "class_names": list(images.class_names) if labelled else None})
        n_classes = len(images.class_names) if labelled else None
        for split, (x, y) in images.splits.items():
            save_arrays(tmp / f"{split}.npz", {"x": x} if y is None else {"x": x, "y": label_array(y, len(x), n_classes)})


def read_raw(raw_dir: str | Path) -> SourceImages:
    """What ``fetch`` wrote: Fashion-MNIST's IDX files, or another source's layout (a
    ``source.json`` beside the arrays)."""
    raw = Path(raw_dir)
    if not (raw / SOURCE_FILE).exists():
        loaded = {split: load_images_and_labels(raw / images, raw / labels)
                  for split, (images, labels) in RAW_FILES.items()}
        return SourceImages(FASHION_MNIST, CLASS_NAMES, {split: (x[..., None], y) for split, (x, y) in loaded.items()})
    source = read_json(raw / SOURCE_FILE, HOW_TO_MAKE)
    class_names = None if source["class_names"] is None else tuple(source["class_names"])
    names = ("x",) if class_names is None else ("x", "y")
    splits = {}
    for split in SOURCE_SPLITS:
        if split == "train" or (raw / f"{split}.npz").exists():
            arrays = load_arrays(raw / f"{split}.npz", names)
            splits[split] = (arrays["x"], arrays.get("y"))
    return SourceImages(source["name"], class_names, splits)
