"""Pictures into arrays: a folder laid out as Keras' ``image_dataset_from_directory`` reads it,
and what every source's images go through (their channels, their size).

A folder holds pictures directly (no labels) or one subfolder of pictures per class (the
classes sorted by name); ``train/`` and ``test/`` subfolders, each laid out so, are the two
splits. A picture is a file with an extension of a format Pillow opens; other files, and
hidden ones, are left out (a README, ``Thumbs.db``), as Keras and torchvision do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from ..errors import PipelineError

log = logging.getLogger(__name__)

SPLIT_FOLDERS = ("train", "test")
SOURCE = "fetch.source"  # the params of the source, named in errors
# The smallest side of a picture: one row or one column of pixels has no shape to cluster.
MIN_SIDE = 2
GREY, COLOUR = 1, 3
# Pillow's modes whose pixels are one grey value (with or without alpha); of them, those of 16
# bits (a 16-bit PNG opens as one), which Pillow would clip to 8 bits rather than scale.
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
EIGHT_BITS_PER_SIXTEEN = (2**16 - 1) / (2**8 - 1)  # full scale to full scale


def picture_extensions() -> frozenset[str]:
    """The file extensions of the formats Pillow can open (not those it only writes)."""
    Image.init()
    return frozenset(ext for ext, name in Image.registered_extensions().items() if name in Image.OPEN)


def _visible(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


@dataclass(frozen=True)
class Listing:
    """The pictures of one split: their paths and, with class subfolders, their class names."""

    paths: list[Path]
    classes: list[str] | None  # the class of each picture; None: no labels
    ignored: int  # files that are not pictures by their extension


def list_split(directory: Path, extensions: frozenset[str]) -> Listing:
    """The pictures of ``directory``: directly in it, or in one subfolder per class (any depth)."""
    entries = _visible(directory)
    folders = [p for p in entries if p.is_dir()]
    files = [p for p in entries if not p.is_dir()]
    if folders and any(p.suffix.lower() in extensions for p in files):
        raise PipelineError(f"{directory}: has both pictures and subfolders; expected pictures "
                            "(no labels) or one subfolder of pictures per class")
    if not folders:
        pictures = [p for p in files if p.suffix.lower() in extensions]
        return Listing(pictures, None, len(files) - len(pictures))
    paths, classes, ignored = [], [], len(files)
    for folder in folders:
        inside = [p for p in sorted(folder.rglob("*"))
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
        pictures = [p for p in inside if p.suffix.lower() in extensions]
        if not pictures:
            raise PipelineError(f"{folder}: a class folder without pictures; expected at least one "
                                f"file Pillow opens ({', '.join(sorted(extensions)[:6])}, ...)")
        paths += pictures
        classes += [folder.name] * len(pictures)
        ignored += len(inside) - len(pictures)
    return Listing(paths, classes, ignored)


def list_folder(root: Path) -> dict[str, Listing]:
    """``{split: listing}``: ``train`` and ``test`` if the folder has those subfolders (and no
    other), else ``train`` alone."""
    if not root.is_dir():
        raise PipelineError(f"{root}: not a directory; expected a folder of pictures")
    extensions = picture_extensions()
    names = [p.name for p in _visible(root) if p.is_dir()]
    splits = [s for s in SPLIT_FOLDERS if s in names] if "train" in names and set(names) <= set(SPLIT_FOLDERS) \
        else []
    listings = ({split: list_split(root / split, extensions) for split in splits} if splits
                else {"train": list_split(root, extensions)})
    for split, listing in listings.items():
        if not listing.paths:
            folder = root / split if splits else root
            raise PipelineError(f"{folder}: no pictures; expected files Pillow opens "
                                f"({', '.join(sorted(extensions)[:6])}, ...), directly or in one subfolder per class")
    if len({listing.classes is None for listing in listings.values()}) > 1:
        raise PipelineError(f"{root}: train/ and test/ are laid out differently; expected both with "
                            "class subfolders or both without")
    ignored = sum(listing.ignored for listing in listings.values())
    if ignored:
        log.info("%s: left out %d files that are not pictures by their extension", root, ignored)
    return listings


def has_colour(images: np.ndarray) -> np.ndarray:
    """For each of ``(n, height, width, channels)`` images, whether its channels differ anywhere."""
    if images.shape[-1] == GREY:
        return np.zeros(len(images), dtype=bool)
    differs = (images[..., 0] != images[..., 1]) | (images[..., 1] != images[..., 2])
    return differs.reshape(len(images), -1).any(axis=1)


def to_channels(splits: Mapping[str, np.ndarray], channels: int | None,
                name_of: Callable[[str, int], str]) -> dict[str, np.ndarray]:
    """Each split's ``(n, h, w, 1 or 3)`` images with ``channels`` channels; None: 3 if any
    image of any split has colour, else 1. Grey images become colour losslessly; a colour
    image made grey would lose its colour, so that is an error naming the first
    (``name_of(split, i)``) and the count."""
    colour = {split: has_colour(images) for split, images in splits.items()}
    target = channels or (COLOUR if any(c.any() for c in colour.values()) else GREY)
    coloured = [(split, int(c.argmax())) for split, c in colour.items() if c.any()]
    if target == GREY and coloured:
        count, total = sum(int(c.sum()) for c in colour.values()), sum(map(len, splits.values()))
        raise PipelineError(f"{name_of(*coloured[0])}: a colour picture ({count} of {total} are), expected "
                            f"grey by {SOURCE}.channels = {channels}; set it to 3 or null to keep the colour")
    return {split: images[..., :GREY] if target == GREY
            else np.ascontiguousarray(np.broadcast_to(images, (*images.shape[:3], COLOUR)))
            for split, images in splits.items()}


def check_size(height: int, width: int, name: str) -> None:
    """A picture of at least :data:`MIN_SIDE` pixels each way."""
    if min(height, width) < MIN_SIDE:
        raise PipelineError(f"{name}: a {width}×{height} picture, expected at least {MIN_SIDE} pixels each way")


def fit(picture: Image.Image, size: Sequence[int]) -> Image.Image:
    """``picture`` fitted into ``size`` (height, width) with its aspect kept, centred on a
    canvas of the median colour of its border, so that the padding continues its background."""
    height, width = size
    if picture.size == (width, height):
        return picture
    scale = min(width / picture.width, height / picture.height)
    inner = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    pixels = np.asarray(picture)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0).round().astype(np.uint8)
    canvas = Image.new(picture.mode, (width, height), background.item() if background.ndim == 0
                       else tuple(background.tolist()))
    canvas.paste(picture.resize(inner, Image.Resampling.LANCZOS),
                 ((width - inner[0]) // 2, (height - inner[1]) // 2))
    return canvas


def fit_all(images: np.ndarray, size: Sequence[int] | None) -> np.ndarray:
    """``(n, h, w, c)`` images each fitted into ``size``; unchanged if None or already that size."""
    if size is None or images.shape[1:3] == tuple(size):
        return images
    mode = "L" if images.shape[-1] == GREY else "RGB"
    fitted = [np.asarray(fit(Image.fromarray(image.squeeze(-1) if mode == "L" else image, mode), size))
              for image in images]
    return np.stack(fitted).reshape(len(images), *size, images.shape[-1])


def decode(path: Path, size: Sequence[int] | None) -> np.ndarray:
    """One picture as ``(h, w, 1)`` grey or ``(h, w, 3)`` colour uint8 pixels, fitted into
    ``size`` if given; alpha is dropped. Raises what Pillow raises on an unreadable file."""
    with Image.open(path) as picture:
        picture.load()
        check_size(picture.height, picture.width, str(path))
        if picture.mode in SIXTEEN_BIT_MODES:
            scaled = np.rint(np.asarray(picture) / EIGHT_BITS_PER_SIXTEEN)
            picture = Image.fromarray(scaled.clip(0, np.iinfo(np.uint8).max).astype(np.uint8))
        picture = picture.convert("L" if picture.mode in GREY_MODES else "RGB")
    if size is not None:
        picture = fit(picture, size)
    pixels = np.asarray(picture)
    return pixels[..., None] if pixels.ndim == 2 else pixels


# What Pillow raises on a file it cannot read: not an image, truncated, too large.
UNREADABLE = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


@dataclass(frozen=True)
class Decoded:
    """The readable pictures of a split, and those left out as unreadable."""

    images: np.ndarray  # (n, h, w, c) uint8
    kept: list[int]  # the listing's indices of the pictures in ``images``
    unreadable: list[tuple[Path, str]]


def decode_all(paths: Sequence[Path], size: Sequence[int] | None, skip_unreadable: bool) -> Decoded:
    """Every picture decoded, at one size, grey if all are grey (else each as colour).

    An unreadable picture is an error naming it and how many there are, unless
    ``skip_unreadable``; pictures of different sizes are an error when ``size`` is None.
    """
    pixels, kept, unreadable = [], [], []
    for i, path in enumerate(paths):
        try:
            pixels.append(decode(path, size))
            kept.append(i)
        except UNREADABLE as error:
            unreadable.append((path, " ".join(str(error).split()) or type(error).__name__))
    if unreadable and not skip_unreadable and pixels:
        path, why = unreadable[0]
        raise PipelineError(f"{path}: not a picture Pillow reads ({why}); {len(unreadable)} of {len(paths)} "
                            f"pictures are not (set {SOURCE}.skip_unreadable: true to skip them)")
    if not pixels:
        path, why = unreadable[0]
        raise PipelineError(f"{path.parent}: no readable picture; none of {len(paths)} is "
                            f"(the first, {path.name}: {why})")
    sizes = [p.shape[:2] for p in pixels]
    other = next((i for i, shape in enumerate(sizes) if shape != sizes[0]), None)
    if other is not None:
        (h0, w0), (h1, w1) = sizes[0], sizes[other]
        raise PipelineError(f"{paths[kept[other]]}: {w1}×{h1} pixels, but {paths[kept[0]]} is {w0}×{h0}; "
                            f"set {SOURCE}.image_size: [height, width] to fit pictures of "
                            f"{len(set(sizes))} sizes into one")
    depth = max(p.shape[-1] for p in pixels)
    return Decoded(np.stack([np.broadcast_to(p, (*p.shape[:2], depth)) for p in pixels]), kept, unreadable)
