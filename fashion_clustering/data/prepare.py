"""From what ``fetch`` wrote to the arrays every later stage reads, and their description.

Images become float32 rows in [0, 1] (:mod:`.description`); the training images are split
into train and validation, stratified by class when there are labels, at random when there
are none; the test images stay untouched (unless a tiny configuration asks for a subsample
of them). A source without test images has ``preprocess.test_fraction`` of its images
held out as test images, drawn in the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..errors import PipelineError
from ..files import save_arrays
from ..params import PARAMS_FILE
from .dataset import Split, scale_pixels
from .description import DatasetDescription, label_array
from .idx import CLASS_NAMES
from .raw import read_raw


def _split(y: np.ndarray, seed: int, param: str, stratify: bool, **size: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row ids of the two parts of a seeded split of ``y`` (``size`` as ``train_size=``
    or ``test_size=``), keeping the class proportions if ``stratify``; ``param`` is the key
    that asked for it, named in the error when the classes are too small to stratify."""
    try:
        first, second = train_test_split(np.arange(len(y)), stratify=y if stratify else None,
                                         random_state=seed, **size)
    except ValueError as error:
        value = next(iter(size.values()))
        what = f"cannot keep the class proportions of {len(y)} images with class counts {np.bincount(y).tolist()}" \
            if stratify else f"cannot split {len(y)} images"
        raise PipelineError(f"{PARAMS_FILE}: {param} = {value:g} {what} ({error})") from error
    return np.sort(first), np.sort(second)


def subsample(x: np.ndarray, y: np.ndarray, size: int | None, seed: int, param: str,
              stratify: bool = True) -> Split:
    """At most ``size`` rows, keeping the class proportions if ``stratify``; all rows if
    ``size`` is None.

    ``param`` is the key ``size`` comes from, for the error message.
    """
    if size is None or size >= len(y):
        return x, y
    keep, _ = _split(y, seed, param, stratify, train_size=size)
    return x[keep], y[keep]


def split_train_val(x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int,
                    stratify: bool = True) -> tuple[Split, Split]:
    """Seeded split into ``(train, val)``, stratified if ``stratify``; row order within each is preserved."""
    train, val = _split(y, seed, "preprocess.val_fraction", stratify, test_size=val_fraction)
    return (x[train], y[train]), (x[val], y[val])


def class_counts(labels: np.ndarray, class_names: tuple[str, ...] | None = CLASS_NAMES) -> dict[str, int]:
    """Images per class, keyed by class name; none without labels."""
    if class_names is None:
        return {}
    counts = np.bincount(labels, minlength=len(class_names))
    return {name: int(count) for name, count in zip(class_names, counts)}


def prepare(
    raw_dir: Path, val_fraction: float, test_fraction: float, seed: int,
    max_train_images: int | None = None, max_test_images: int | None = None,
) -> tuple[dict[str, Split], DatasetDescription]:
    """Read what fetch wrote and return scaled ``{split: (x, y)}`` for train, val, test, and
    the data set's description."""
    raw = read_raw(raw_dir)
    labelled = raw.class_names is not None
    n_classes = len(raw.class_names) if labelled else None
    loaded = {split: (x, label_array(y, len(x), n_classes)) for split, (x, y) in raw.splits.items()}
    if "test" not in loaded:
        x, y = loaded["train"]
        train, test = _split(y, seed, "preprocess.test_fraction", labelled, test_size=test_fraction)
        loaded = {"train": (x[train], y[train]), "test": (x[test], y[test])}
    x_full, y_full = subsample(*loaded["train"], max_train_images, seed, "preprocess.max_train_images", labelled)
    train, val = split_train_val(scale_pixels(x_full), y_full, val_fraction, seed, labelled)
    x_test, y_test = subsample(*loaded["test"], max_test_images, seed, "preprocess.max_test_images", labelled)
    splits = {"train": train, "val": val, "test": (scale_pixels(x_test), y_test)}
    height, width, channels = raw.splits["train"][0].shape[1:]
    description = DatasetDescription(raw.name, height, width, channels, raw.class_names,
                                     {name: len(y) for name, (_, y) in splits.items()})
    return splits, description


def save_splits(out_dir: Path, splits: dict[str, Split]) -> None:
    """Write each split's ``x`` and ``y`` as ``<split>.npz`` in ``out_dir``."""
    for name, (x, y) in splits.items():
        save_arrays(out_dir / f"{name}.npz", {"x": x, "y": y})
