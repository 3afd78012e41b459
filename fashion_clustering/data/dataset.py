"""From verified IDX files to the arrays every later stage reads.

Images become float32 rows of 784 pixels in [0, 1]; the 60k training images are split,
stratified by class, into train and validation; the 10k test images stay untouched
(unless a tiny configuration asks for a stratified subsample of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..errors import PipelineError
from ..files import load_arrays, save_arrays
from ..params import PARAMS_FILE, Settings, setting
from .idx import CLASS_NAMES, load_images_and_labels

SPLITS = ("train", "val", "test")
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class PreprocessConfig(Settings):
    """The settings in the preprocess section."""

    val_fraction: float = setting("number", minimum=0, maximum=1, exclusive=True)
    seed: int = setting("integer", minimum=0)
    max_train_images: int | None = setting("integer", minimum=20, optional=True)
    max_test_images: int | None = setting("integer", minimum=10, optional=True)


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """``(n, 28, 28)`` uint8 images as ``(n, 784)`` float32 in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


def _stratified_split(y: np.ndarray, seed: int, param: str, **size: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row ids of the two parts of a seeded split of ``y`` that keeps the class
    proportions (``size`` as ``train_size=`` or ``test_size=``); ``param`` is the key that
    asked for it, named in the error when the classes are too small to stratify."""
    try:
        first, second = train_test_split(np.arange(len(y)), stratify=y, random_state=seed, **size)
    except ValueError as error:
        value = next(iter(size.values()))
        raise PipelineError(
            f"{PARAMS_FILE}: {param} = {value:g} cannot keep the class proportions of {len(y)} "
            f"images with class counts {np.bincount(y).tolist()} ({error})"
        ) from error
    return np.sort(first), np.sort(second)


def stratified_subsample(x: np.ndarray, y: np.ndarray, size: int | None, seed: int, param: str) -> Split:
    """At most ``size`` rows, keeping the class proportions; all rows if ``size`` is None.

    ``param`` is the key ``size`` comes from, for the error message.
    """
    if size is None or size >= len(y):
        return x, y
    keep, _ = _stratified_split(y, seed, param, train_size=size)
    return x[keep], y[keep]


def split_train_val(x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """Stratified, seeded split into ``(train, val)``; row order within each is preserved."""
    train, val = _stratified_split(y, seed, "preprocess.val_fraction", test_size=val_fraction)
    return (x[train], y[train]), (x[val], y[val])


def class_counts(labels: np.ndarray) -> dict[str, int]:
    """Images per class, keyed by class name."""
    counts = np.bincount(labels, minlength=len(CLASS_NAMES))
    return {name: int(count) for name, count in zip(CLASS_NAMES, counts)}


def prepare(
    raw_dir: Path, val_fraction: float, seed: int,
    max_train_images: int | None = None, max_test_images: int | None = None,
) -> dict[str, Split]:
    """Read the raw IDX files and return scaled ``{split: (x, y)}`` for train, val, test."""
    loaded = {
        split: load_images_and_labels(raw_dir / images, raw_dir / labels)
        for split, (images, labels) in RAW_FILES.items()
    }
    x_full, y_full = stratified_subsample(*loaded["train"], max_train_images, seed,
                                          param="preprocess.max_train_images")
    train, val = split_train_val(scale_pixels(x_full), y_full, val_fraction, seed)
    x_test, y_test = stratified_subsample(*loaded["test"], max_test_images, seed,
                                          param="preprocess.max_test_images")
    return {"train": train, "val": val, "test": (scale_pixels(x_test), y_test)}


def save_splits(out_dir: Path, splits: dict[str, Split]) -> None:
    """Write each split's ``x`` and ``y`` as ``<split>.npz`` in ``out_dir``."""
    for name, (x, y) in splits.items():
        save_arrays(out_dir / f"{name}.npz", {"x": x, "y": y})


def load_split(prepared_dir: str | Path, name: str) -> Split:
    """``(x, y)`` of one prepared split."""
    arrays = load_arrays(Path(prepared_dir) / f"{name}.npz", ("x", "y"))
    return arrays["x"], arrays["y"]


def per_class_sample(labels: np.ndarray, per_class: int, seed: int) -> list[np.ndarray]:
    """For each class, ``per_class`` row indices of that class (all if fewer), sorted,
    drawn with ``seed``: the images a picture shows of each class."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(np.flatnonzero(labels == c), size=min(per_class, int((labels == c).sum())),
                               replace=False)) for c in range(len(CLASS_NAMES))]
