"""The one description of the data set that the data stages write and every later stage reads:
its name, the shape of an image, its class names (or none) and the images in each split.

A prepared split (``data/prepared/<split>.npz``) holds ``x``, float32 rows in [0, 1] of
``height * width * channels`` values each, an image's pixels row by row with its channels
last (Keras' layout), and ``y``: each row's class, an index into ``class_names``, as the
smallest unsigned integer type that holds it (``uint8`` up to 256 classes, as in the IDX
files). A data set without labels has ``class_names`` null and ``y`` equal to
:data:`UNLABELLED` in every row (``int8``): the arrays keep one layout, and a later stage
asks :attr:`DatasetDescription.labelled`, not the values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import PipelineError
from ..files import read_json, write_json

# y of every row of a data set without labels.
UNLABELLED = -1

HOW_TO_MAKE = "run `dvc repro preprocess` to make it"


def label_array(labels: np.ndarray | None, n_rows: int, n_classes: int | None) -> np.ndarray:
    """``y`` as the prepared arrays store it: ``labels`` as the smallest unsigned type that
    holds ``n_classes`` classes, or :data:`UNLABELLED` in each of ``n_rows`` rows if none."""
    if labels is None:
        return np.full(n_rows, UNLABELLED, dtype=np.min_scalar_type(UNLABELLED))
    return np.asarray(labels).astype(np.min_scalar_type(max(n_classes - 1, 0)))


@dataclass(frozen=True)
class DatasetDescription:
    """What a later stage needs to know of the images, without reading them."""

    name: str
    height: int
    width: int
    channels: int  # 1: grey, 3: red, green, blue
    class_names: tuple[str, ...] | None  # None: the images have no labels
    counts: Mapping[str, int]  # images per split: train, val, test

    @property
    def labelled(self) -> bool:
        """Whether the images have classes (labels to score and name clusters by)."""
        return self.class_names is not None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)``: a prepared row reshaped into an image."""
        return self.height, self.width, self.channels

    @property
    def row_length(self) -> int:
        """The values of one prepared row."""
        return self.height * self.width * self.channels


def write_description(path: str | Path, description: DatasetDescription) -> None:
    """Write ``description`` as the JSON that :func:`read_description` reads."""
    data = asdict(description)
    data["class_names"] = None if description.class_names is None else list(description.class_names)
    data["counts"] = dict(description.counts)
    write_json(path, data)


def _field(data: Mapping[str, Any], key: str, kind: type, path: str | Path) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PipelineError(f"{path}: expected '{key}' to be {kind.__name__}, got {value!r}; {HOW_TO_MAKE}")
    return value


def read_description(path: str | Path) -> DatasetDescription:
    """The description ``preprocess`` wrote at ``path`` (``data/dataset.json``).

    ``class_names`` None means the data set has no labels: then every prepared ``y`` is
    :data:`UNLABELLED` (-1) and the splits were drawn at random, not stratified by class.
    """
    data = read_json(path, HOW_TO_MAKE)
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: expected a JSON object describing the data set; {HOW_TO_MAKE}")
    names = data.get("class_names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise PipelineError(f"{path}: expected 'class_names' to be a list of names or null, got {names!r}")
    counts = _field(data, "counts", dict, path)
    return DatasetDescription(
        name=_field(data, "name", str, path), height=_field(data, "height", int, path),
        width=_field(data, "width", int, path), channels=_field(data, "channels", int, path),
        class_names=None if names is None else tuple(names),
        counts={split: int(n) for split, n in counts.items()},
    )
