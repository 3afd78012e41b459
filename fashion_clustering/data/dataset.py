"""The prepared arrays every later stage reads: their splits, their settings, how a split is
read (written by :mod:`.prepare`; their layout: :mod:`.description`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import load_arrays
from ..params import PARAMS_FILE, Section, Settings, setting

SPLITS = ("train", "val", "test")
OFFICIAL_KIND = "fashion-mnist"  # fetch.source.kind of the official files, checked by their SHA-256

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class PreprocessConfig(Settings):
    """The settings in the preprocess section."""

    val_fraction: float = setting("number", minimum=0, maximum=1, exclusive=True)
    test_fraction: float = setting("number", minimum=0, maximum=1, exclusive=True)
    seed: int = setting("integer", minimum=0)
    max_train_images: int | None = setting("integer", minimum=20, optional=True)
    max_test_images: int | None = setting("integer", minimum=10, optional=True)


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """``(n, h, w[, c])`` uint8 images as ``(n, h * w * c)`` float32 rows in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def load_split(prepared_dir: str | Path, name: str) -> Split:
    """``(x, y)`` of one prepared split."""
    arrays = load_arrays(Path(prepared_dir) / f"{name}.npz", ("x", "y"))
    return arrays["x"], arrays["y"]


def per_class_sample(labels: np.ndarray, per_class: int, seed: int, n_classes: int) -> list[np.ndarray]:
    """For each of the ``n_classes`` classes, ``per_class`` row indices of that class (all if
    fewer), sorted, drawn with ``seed``: the images a picture shows of each class."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(np.flatnonzero(labels == c), size=min(per_class, int((labels == c).sum())),
                               replace=False)) for c in range(n_classes)]


def classes_known_balanced(path: str | Path = PARAMS_FILE) -> bool:
    """Whether the source that ``fetch.source.kind`` of the params file at ``path`` names is
    known to hold as many images of each class: Fashion-MNIST's official files do (6,000
    training and 1,000 test images each); a user's own images are not known to, whatever their
    labels say, since labels never shape a fit (docs/equal_sizes.md)."""
    return Section.load("fetch", path).section("source").value("kind") == OFFICIAL_KIND
