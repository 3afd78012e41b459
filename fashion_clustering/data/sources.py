"""Where the images come from: ``fetch.source`` in params.yaml.

``fashion-mnist`` (the default) is the four official files, found and verified by
:mod:`.fetch` and written to ``data/raw`` as they are. The others are the user's own images,
read here and written to ``data/raw`` in one layout, whatever the source:

- ``idx``: IDX files as MNIST, KMNIST and EMNIST are distributed (gzip-compressed or not),
  images and optionally labels, for training and optionally test; SHA-256 checked if given;
- ``folder``: pictures, laid out as :mod:`.pictures` describes;
- ``arrays``: an ``.npz`` with ``x`` (N×H×W or N×H×W×C; uint8, or floats in [0, 1]) and
  optionally ``y`` (integers) and ``class_names``.

That layout is :mod:`.raw`'s: every image at one size and with ``fetch.source.channels``
channels (:mod:`.pictures`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ..errors import PipelineError
from ..params import Section, Settings, setting
from . import pictures
from .dataset import OFFICIAL_KIND
from .fetch import FetchConfig, fetch_dataset, gunzip, verify_sha256
from .idx import check_labels, parse_idx
from .pictures import SOURCE
from .raw import SourceImages, write_raw

KINDS = (OFFICIAL_KIND, "idx", "folder", "arrays")
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IdxFiles(Settings):
    """``fetch.source.idx``: the IDX files in the source's directory; None: not there."""

    train_images: str = setting("text")
    train_labels: str | None = setting("text", optional=True)
    test_images: str | None = setting("text", optional=True)
    test_labels: str | None = setting("text", optional=True)
    sha256: Mapping[str, str] = setting("texts")  # file name: SHA-256 of its decompressed bytes


@dataclass(frozen=True)
class SourceConfig(Settings):
    """``fetch.source``: which images, and how they are made one array."""

    kind: str = setting("choice", options=KINDS)
    path: str = setting("text")
    name: str | None = setting("text", optional=True)
    channels: int | None = setting("integer", optional=True, options=(pictures.GREY, pictures.COLOUR))
    image_size: list[int] | None = setting("integers", minimum=pictures.MIN_SIDE, length=2, optional=True)
    class_names: list[str] | None = setting("names", optional=True)
    skip_unreadable: bool = setting("boolean")
    idx: IdxFiles | None = None

    @classmethod
    def from_source_section(cls, section: Section) -> "SourceConfig":
        """The settings, with the ``idx`` files read only when the kind is ``idx``."""
        config = cls.from_params(section)
        if config.kind != "idx":
            section.unused("idx")
            return config
        return replace(config, idx=IdxFiles.from_params(section.section("idx")))


def _numbered_classes(labels: list[np.ndarray], names: list[str] | None, source: str) -> tuple[str, ...]:
    """The class names: ``names`` if given, else the labels' numbers; every label must name one."""
    values = np.concatenate(labels)
    if values.size and values.min() < 0:
        raise PipelineError(f"{source}: negative labels; expected class numbers from 0")
    largest = int(values.max()) if values.size else -1
    if names is None:
        return tuple(str(i) for i in range(largest + 1))
    if largest >= len(names):
        raise PipelineError(f"{source}: label {largest} is outside {SOURCE}.class_names, which names "
                            f"{len(names)} classes (labels 0..{len(names) - 1})")
    return tuple(names)


def _finish(config: SourceConfig, default_name: str, splits: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
            class_names: tuple[str, ...] | None, name_of: Callable[[str, int], str],
            skipped: tuple[str, ...] = ()) -> SourceImages:
    """Every source's last step: one size, one number of channels, one name; ``name_of(split, i)``
    names an image in errors."""
    for split, (x, _) in splits.items():
        if not len(x):
            raise PipelineError(f"{config.path}: no {split} images; expected at least one")
    sizes = {split: x.shape[1:3] for split, (x, _) in splits.items()}
    if len(set(sizes.values())) > 1:
        raise PipelineError(f"{config.path}: the splits' images are {sizes}; set {SOURCE}.image_size: "
                            "[height, width] to fit them into one")
    for split, (x, _) in splits.items():
        pictures.check_size(*x.shape[1:3], name_of(split, 0))
    fitted = {split: pictures.fit_all(x, config.image_size) for split, (x, _) in splits.items()}
    images = pictures.to_channels(fitted, config.channels, name_of)
    return SourceImages(config.name or default_name, class_names,
                        {split: (images[split], y) for split, (_, y) in splits.items()}, skipped)


def read_folder(config: SourceConfig) -> SourceImages:
    """The pictures of the folder ``config.path``."""
    root = Path(config.path)
    listings = pictures.list_folder(root)
    decoded = {split: pictures.decode_all(listing.paths, config.image_size, config.skip_unreadable)
               for split, listing in listings.items()}
    class_names = None if listings["train"].classes is None else tuple(sorted(set(listings["train"].classes)))
    index = {name: i for i, name in enumerate(class_names or ())}
    splits = {}
    for split, listing in listings.items():
        y = None
        if class_names is not None:
            kept = [listing.classes[i] for i in decoded[split].kept]
            strange = sorted(set(kept) - set(index))
            if strange:
                raise PipelineError(f"{root / split / strange[0]}: a class the training pictures do not have; "
                                    f"expected one of {', '.join(class_names)}")
            y = np.array([index[name] for name in kept])
        splits[split] = (decoded[split].images, y)
    skipped = tuple(f"{path}: {why}" for d in decoded.values() for path, why in d.unreadable)
    return _finish(config, root.resolve().name, splits, class_names,
                   lambda split, i: str(listings[split].paths[decoded[split].kept[i]]), skipped)


def as_bytes(x: np.ndarray, source: str) -> np.ndarray:
    """Images as uint8: uint8 as they are, floats in [0, 1] rounded to the nearest of 256 levels."""
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating) and x.size and np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1:
        return np.rint(x * np.float64(255)).astype(np.uint8)
    kind = f"floats in [{x.min():g}, {x.max():g}]" if np.issubdtype(x.dtype, np.floating) and x.size else x.dtype
    raise PipelineError(f"{source}: x is {kind}, expected uint8 or floats in [0, 1]")


def read_arrays(config: SourceConfig) -> SourceImages:
    """The images of the ``.npz`` file ``config.path``."""
    path = config.path
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in ("x", "y", "class_names") if name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise PipelineError(f"{path}: not a readable .npz archive ({error})") from error
    if "x" not in arrays:
        raise PipelineError(f"{path}: no array 'x'; expected images N×H×W or N×H×W×C")
    x = arrays["x"]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (pictures.GREY, pictures.COLOUR) or not len(x):
        raise PipelineError(f"{path}: x is {x.shape}, expected images N×H×W or N×H×W×C with C 1 or 3, N > 0")
    y, class_names = arrays.get("y"), None
    if y is not None:
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise PipelineError(f"{path}: y is {y.dtype} {y.shape}, expected one integer per image ({len(x)},)")
        names = config.class_names
        if names is None and "class_names" in arrays:
            names = [str(n) for n in arrays["class_names"]]
        class_names = _numbered_classes([y], names, path)
    return _finish(config, Path(path).stem, {"train": (as_bytes(x, path), y)}, class_names,
                   lambda _, i: f"{path}: image {i}")


def read_idx_file(path: Path, expected_sha256: str | None) -> bytes:
    """The decompressed bytes of an IDX file (gzip-compressed or not), checked if a SHA-256 is given."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from error
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data, str(path))
    if expected_sha256 is not None:
        verify_sha256(data, expected_sha256, str(path))
    return data


def read_idx_source(config: SourceConfig) -> SourceImages:
    """The IDX files ``config.idx`` names in the directory ``config.path``."""
    files, directory = config.idx, Path(config.path)
    named = {"train": (files.train_images, files.train_labels), "test": (files.test_images, files.test_labels)}
    unknown = sorted(set(files.sha256) - {name for pair in named.values() for name in pair})
    if unknown:
        raise PipelineError(f"params.yaml: {SOURCE}.idx.sha256 names {unknown[0]}, which is not one of its files")
    if (files.test_labels is not None) != (files.train_labels is not None and files.test_images is not None):
        raise PipelineError(f"params.yaml: {SOURCE}.idx.test_labels must be set exactly when "
                            "train_labels and test_images are")

    def read(name: str, ndim: int) -> np.ndarray:
        return parse_idx(read_idx_file(directory / name, files.sha256.get(name)), ndim, str(directory / name))

    splits = {}
    for split, (images, labels) in named.items():
        if images is not None:
            x = read(images, 3)
            y = None if labels is None else check_labels(x, read(labels, 1), directory / images, directory / labels)
            splits[split] = (x[..., None], y)
    class_names = None if files.train_labels is None else _numbered_classes(
        [y for _, y in splits.values()], config.class_names, str(directory / files.train_labels))
    return _finish(config, directory.resolve().name, splits, class_names,
                   lambda split, i: f"{directory / named[split][0]}: image {i}")


READERS = {"idx": read_idx_source, "folder": read_folder, "arrays": read_arrays}


def fetch_source(out_dir: str | Path, fashion_mnist: FetchConfig, source: SourceConfig) -> tuple[str, ...]:
    """Write ``data/raw`` from ``source`` (Fashion-MNIST: where ``fashion_mnist`` says);
    return the files left out as unreadable."""
    if source.kind == OFFICIAL_KIND:
        fetch_dataset(out_dir, fashion_mnist.source_dirs, fashion_mnist.base_url, timeout=fashion_mnist.timeout)
        return ()
    images = READERS[source.kind](source)
    write_raw(out_dir, images)
    return images.skipped
