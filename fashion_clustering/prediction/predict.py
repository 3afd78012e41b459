"""Cluster new images with the models a run trained, exactly as the pipeline clusters
the test split: pixels for the baseline; encoder, then the fitted manifold step (if any),
for the others. Each image also gets its typicality, ranked against the validation images
as the typicality stage ranks the test split (:mod:`..typicality.scores`), a flag when it is
below the threshold the stage calibrated with, and the score that set it.

Inputs are read by their content, not their name:

- ``.npy`` arrays of N×28×28 or N×784 pixels, uint8 or floats in [0, 1], used as they are;
- IDX image files (Fashion-MNIST's own format, gzip-compressed or not), N×28×28 uint8;
- pictures (PNG, JPEG, BMP) of any size and colour, converted to Fashion-MNIST's
  convention by :func:`picture_to_pixels`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.dataset import scale_pixels
from ..data.fetch import gunzip
from ..data.idx import N_PIXELS, SIDE, parse_idx
from ..errors import RUN_PIPELINE, PipelineError
from ..evaluation.cluster_classes import UNMATCHED
from ..files import read_json, read_pickle
from ..methods import ON_FEATURES
from ..representation.exact_decoder import ExactDecoder, load_exact_decoder
from ..representation.exact_encoder import ExactEncoder, exact_encode, load_exact_encoder
from ..representation.manifold import NeighbourEmbedding, embed_codes, load_manifold
from ..typicality.position import centred
from ..typicality.scores import Calibration, atypical, load_calibration, reasons, typicality, typicality_scores

NPY_MAGIC = b"\x93NUMPY"
GZIP_MAGIC = b"\x1f\x8b"
IDX_IMAGES_MAGIC = b"\x00\x00\x08\x03"
PICTURE_FORMATS = ("PNG", "JPEG", "BMP")
# A picture's background is the median of its border pixels; a light one (above mid-grey)
# is inverted so that the garment is light on dark, as in Fashion-MNIST.
MID_GREY = 127.5
# Pixels brighter than the background by more than this (of 255) belong to the object.
OBJECT_THRESHOLD = 25

HOW_PICTURES_ARE_CONVERTED = (
    "A picture (PNG, JPEG, BMP, any size and colour) is converted to Fashion-MNIST's "
    "convention, a light garment on a dark background: transparent parts become white, "
    "colours become grey; if the border is light (median above mid-grey) the picture is "
    f"inverted; the background level is subtracted; the object (pixels more than "
    f"{OBJECT_THRESHOLD}/255 above it) is cropped, centred on a square and resized to "
    f"{SIDE}x{SIDE}. NPY and IDX arrays are taken as they are, or with --centre each garment is "
    "moved, whole and unscaled, to the middle of its frame, as Fashion-MNIST's are (its blank "
    "margins on either side then differ by at most a pixel)."
)


def picture_to_pixels(picture) -> np.ndarray:
    """A Pillow image as a 28×28 uint8 Fashion-MNIST-style image (see
    :data:`HOW_PICTURES_ARE_CONVERTED`)."""
    from PIL import Image

    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, "white")
        picture = Image.alpha_composite(white, rgba)
    grey = np.asarray(picture.convert("L"), dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > MID_GREY:
        grey, border = 255 - grey, 255 - border
    grey = np.clip(grey - np.median(border), 0, 255)
    rows, cols = np.nonzero(grey > OBJECT_THRESHOLD)
    if not len(rows):
        raise PipelineError("no object found: the picture is blank")
    crop = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    side = max(crop.shape)
    square = np.zeros((side, side), np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    resized = Image.fromarray(square.astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8)


def _npy_pixels(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        raise PipelineError(f"not a readable .npy array ({error})") from error
    if array.ndim not in (2, 3) or array.shape[1:] not in ((SIDE, SIDE), (N_PIXELS,)):
        raise PipelineError(f"unsupported shape {array.shape}: expected N×{SIDE}×{SIDE} or N×{N_PIXELS}")
    array = array.reshape(len(array), N_PIXELS)
    if array.dtype == np.uint8:
        return scale_pixels(array)
    if array.dtype.kind != "f" or not (np.isfinite(array).all() and 0 <= array.min() and array.max() <= 1):
        raise PipelineError(f"unsupported values: expected uint8 or floats in [0, 1], got {array.dtype}")
    return array.astype(np.float32)


def _idx_pixels(data: bytes, source: str) -> np.ndarray:
    images = parse_idx(data, 3, source)
    if images.shape[1:] != (SIDE, SIDE):
        raise PipelineError(f"unsupported shape {images.shape}: expected N×{SIDE}×{SIDE} images")
    return scale_pixels(images)


def read_pixels(path: str | Path, centre_arrays: bool = False) -> np.ndarray:
    """The images in one input file as float32 rows of 784 pixels in [0, 1]; arrays' garments
    centred if ``centre_arrays`` (pictures' always are).

    Raises :class:`PipelineError` naming the file if it cannot be read or is unsupported.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from error
    try:
        if data.startswith(GZIP_MAGIC):
            data = gunzip(data, str(path))
        if data.startswith(NPY_MAGIC) or data.startswith(IDX_IMAGES_MAGIC):
            pixels = _npy_pixels(data) if data.startswith(NPY_MAGIC) else _idx_pixels(data, str(path))
            return centred(pixels) if centre_arrays else pixels
        try:
            with Image.open(io.BytesIO(data), formats=PICTURE_FORMATS) as picture:
                return scale_pixels(picture_to_pixels(picture)[None])
        except (UnidentifiedImageError, OSError) as error:
            raise PipelineError("not a readable PNG, JPEG or BMP picture, .npy array or IDX image file") from error
    except PipelineError as error:
        message = str(error)
        raise PipelineError(message if message.startswith(str(path)) else f"{path}: {message}") from error


@dataclass(frozen=True)
class Models:
    """What a run trained: the clusterers by method, the encoder and manifold step in
    front of the feature-based ones, each cluster's class matched on training data, and
    the autoencoder and calibration that say how typical an image is."""

    clusterers: Mapping[str, Any]
    encoder: ExactEncoder
    decoder: ExactDecoder
    manifold: NeighbourEmbedding | None
    calibration: Calibration  # with the threshold below which an image is flagged
    encode_batch_size: int
    class_names: Mapping[str, Mapping[str, str]]


def load_models(models_dir: str | Path, classes_file: str | Path, encode_batch_size: int,
                methods: tuple[str, ...]) -> Models:
    """Load the models ``methods`` need, and the autoencoder and calibration that typicality
    needs whatever the methods; a missing file fails naming it and how to make it."""
    models_dir = Path(models_dir)
    clusterers = {method: read_pickle(models_dir / f"{method}.pkl", RUN_PIPELINE) for method in methods}
    model = models_dir / "autoencoder.keras"
    if not model.is_file():
        raise PipelineError(f"{model}: not found; {RUN_PIPELINE}")
    manifold = (load_manifold(str(models_dir / "manifold.pkl")) if any(method in ON_FEATURES for method in methods)
                else None)
    return Models(clusterers, load_exact_encoder(str(model)), load_exact_decoder(str(model)), manifold,
                  load_calibration(models_dir / "typicality.npz"), encode_batch_size, read_json(classes_file, RUN_PIPELINE))


@dataclass(frozen=True)
class Assignment:
    """An image's cluster under one method, the class that cluster is matched to, and the mixture's probability (``None`` for K-Means)."""

    cluster: int
    class_name: str
    probability: float | None


def features_of(models: Models, pixels: np.ndarray) -> np.ndarray:
    """What the feature-based clusterers see: the encode stage's path for new rows."""
    codes = exact_encode(models.encoder, pixels, models.encode_batch_size)
    return codes if models.manifold is None else embed_codes(models.manifold, codes)


def assign(models: Models, pixels: np.ndarray) -> dict[str, list[Assignment]]:
    """Each method's cluster for each row of ``pixels`` (float32, N×784, in [0, 1])."""
    needs_features = any(method in ON_FEATURES for method in models.clusterers)
    features = features_of(models, pixels) if needs_features else None
    result = {}
    for method, model in models.clusterers.items():
        x = features if method in ON_FEATURES else pixels
        clusters = model.predict(x)
        proba = model.predict_proba(x).max(axis=1) if hasattr(model, "predict_proba") else None
        names = models.class_names.get(method, {})
        result[method] = [
            Assignment(int(c), names.get(str(int(c)), UNMATCHED), None if proba is None else float(proba[i]))
            for i, c in enumerate(clusters)
        ]
    return result


@dataclass(frozen=True)
class Typicality:
    """How typical an image is of the training images, and whether it is flagged, and why."""

    share: float  # of validation images less typical than the image
    atypical: bool  # share below the threshold
    why: str | None  # if atypical, the score that set the share (one of ..typicality.scores.SCORES)


def how_typical(models: Models, pixels: np.ndarray) -> list[Typicality]:
    """Each row's typicality, flag, and if flagged why."""
    scores = typicality_scores(models.encoder, models.decoder, pixels, models.encode_batch_size)
    shares = typicality(models.calibration, scores)
    flags = atypical(shares, models.calibration.threshold)
    return [Typicality(float(share), bool(flag), why if flag else None)
            for share, flag, why in zip(shares, flags, reasons(models.calibration, scores))]
