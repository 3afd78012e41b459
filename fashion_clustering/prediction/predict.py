"""Cluster new images with the models a run trained, exactly as the pipeline clusters
the test split: pixels for the baseline; encoder, then the fitted manifold step (if any),
for the others. Each image also gets its typicality, ranked against the validation images
as the typicality stage ranks the test split (:mod:`..typicality.scores`), a flag when it is
below the threshold the stage calibrated with, and the score that set it.

Inputs are read by their content, not their name, at the run's image shape (its data set's
description, ``data/dataset.json``: height H, width W, channels C):

- ``.npy`` arrays of N×H×W (grey), N×H×W×C or N rows of H·W·C values, uint8 or floats in
  [0, 1], used as they are;
- IDX image files (gzip-compressed or not), N×H×W uint8 grey images;
- pictures (PNG, JPEG, BMP) of any size and colour: for a run of the default source,
  converted to its garments' convention by :func:`picture_to_pixels`; for a run of one's own
  images, prepared as the folder source prepares a picture (:func:`picture_as_folder`).
A grey image is made colour (the same level in each channel) for a colour run; a colour one
is refused by a grey run, as the sources refuse it.

A run without labels names clusters, not classes: its ``metrics/cluster_classes.json`` has
null for each cluster, and the answer's class is ``cluster <k>``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.dataset import scale_pixels
from ..data.fetch import gunzip
from ..data.description import DatasetDescription, read_description
from ..data.idx import parse_idx
from ..data.pictures import decode, to_channels
from ..data.sources import KINDS
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
    "A picture (PNG, JPEG, BMP, any size and colour) is, for a run of the default source, "
    "converted to its garments' convention, a light garment on a dark background: transparent "
    "parts become white, colours become grey; if the border is light (median above mid-grey) "
    f"the picture is inverted; the background level is subtracted; the object (pixels more than "
    f"{OBJECT_THRESHOLD}/255 above it) is cropped, centred on a square and resized to the run's "
    "image size. For a run of one's own images (fetch.source.kind not the default) a picture is "
    "prepared as the folder source prepares one: fitted into the run's image size, aspect kept, "
    "with the run's channels. NPY and IDX arrays (of the run's image shape) are taken as they "
    "are, or with --centre each object is moved, whole and unscaled, to the middle of its frame "
    "(its blank margins on either side then differ by at most a pixel)."
)
# The default source (the first kind), whose pictures are garments to convert
# (:func:`picture_to_pixels`); every other source's pictures are prepared as its folder
# source would (:func:`picture_as_folder`).
DEFAULT_SOURCE = KINDS[0]
# The message of a run without labels for an image's cluster, in the class column.
UNNAMED_CLUSTER = "cluster {}"


def picture_to_pixels(picture, size: tuple[int, int]) -> np.ndarray:
    """A Pillow image as a ``size`` (height, width) uint8 grey image of a garment, light on
    dark (see :data:`HOW_PICTURES_ARE_CONVERTED`)."""
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
    height, width = size
    resized = Image.fromarray(square.astype(np.uint8)).resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8)


def picture_as_folder(path: str | Path, description: DatasetDescription) -> np.ndarray:
    """The picture at ``path`` as a ``(1, height, width, channels)`` uint8 image of the run's
    shape, prepared as the folder source prepares one (:mod:`..data.pictures`): fitted into
    the run's size, aspect kept; grey made colour for a colour run; colour refused by a grey one."""
    image = decode(Path(path), (description.height, description.width))[None]
    return to_channels({"picture": image}, description.channels, lambda split, i: str(path))["picture"]


def _with_channels(images: np.ndarray, description: DatasetDescription) -> np.ndarray:
    """N×H×W grey images as rows of the run's channels (grey made colour, level for level)."""
    return np.broadcast_to(images[..., None], (*images.shape, description.channels)).reshape(len(images), -1)


def _npy_pixels(data: bytes, description: DatasetDescription) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        raise PipelineError(f"not a readable .npy array ({error})") from error
    height, width, channels = description.image_shape
    if array.ndim == 3 and array.shape[1:] == (height, width):
        array = _with_channels(array, description)
    if array.shape[1:] not in ((height, width, channels), (description.row_length,)):
        raise PipelineError(f"unsupported shape {array.shape}: expected N×{height}×{width}"
                            + (f"×{channels}" if channels > 1 else "") + f" or N×{description.row_length}")
    array = array.reshape(len(array), description.row_length)
    if array.dtype == np.uint8:
        return scale_pixels(array)
    if array.dtype.kind != "f" or not (np.isfinite(array).all() and 0 <= array.min() and array.max() <= 1):
        raise PipelineError(f"unsupported values: expected uint8 or floats in [0, 1], got {array.dtype}")
    return array.astype(np.float32)


def _idx_pixels(data: bytes, source: str, description: DatasetDescription) -> np.ndarray:
    images = parse_idx(data, 3, source)
    if images.shape[1:] != (description.height, description.width):
        raise PipelineError(f"unsupported shape {images.shape}: expected N×{description.height}×{description.width} images")
    return scale_pixels(_with_channels(images, description))


def read_pixels(path: str | Path, description: DatasetDescription, garments: bool = False,
                centre_arrays: bool = False) -> np.ndarray:
    """The images in one input file as float32 rows in [0, 1] of the run's image shape (its
    ``description``); pictures converted as garments if ``garments``
    (:func:`picture_to_pixels`, which centres them), else as the folder source prepares them;
    arrays' objects centred if ``centre_arrays``.

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
            pixels = (_npy_pixels(data, description) if data.startswith(NPY_MAGIC)
                      else _idx_pixels(data, str(path), description))
            return centred(pixels, description.image_shape) if centre_arrays else pixels
        try:
            with Image.open(io.BytesIO(data), formats=PICTURE_FORMATS) as picture:
                if garments:
                    grey = picture_to_pixels(picture, (description.height, description.width))
                    return scale_pixels(_with_channels(grey[None], description))
            return scale_pixels(picture_as_folder(path, description))
        except (UnidentifiedImageError, OSError) as error:
            raise PipelineError("not a readable PNG, JPEG or BMP picture, .npy array or IDX image file") from error
    except PipelineError as error:
        message = str(error)
        raise PipelineError(message if message.startswith(str(path)) else f"{path}: {message}") from error


@dataclass(frozen=True)
class Models:
    """What a run trained: the clusterers by method, the encoder and manifold step in
    front of the feature-based ones, each cluster's class matched on training data, and
    the autoencoder and calibration that say how typical an image is, and the images' shape."""

    clusterers: Mapping[str, Any]
    encoder: ExactEncoder
    decoder: ExactDecoder
    manifold: NeighbourEmbedding | None
    calibration: Calibration  # with the threshold below which an image is flagged
    encode_batch_size: int
    class_names: Mapping[str, Mapping[str, str | None]]  # None: the run has no labels
    description: DatasetDescription  # the images' shape


def load_models(models_dir: str | Path, classes_file: str | Path, encode_batch_size: int,
                methods: tuple[str, ...], description_file: str | Path) -> Models:
    """Load the models ``methods`` need, and the autoencoder and calibration that typicality
    needs whatever the methods, and the data set's description (``data/dataset.json``); a
    missing file fails naming it and how to make it."""
    models_dir = Path(models_dir)
    clusterers = {method: read_pickle(models_dir / f"{method}.pkl", RUN_PIPELINE) for method in methods}
    model = models_dir / "autoencoder.keras"
    if not model.is_file():
        raise PipelineError(f"{model}: not found; {RUN_PIPELINE}")
    manifold = (load_manifold(str(models_dir / "manifold.pkl")) if any(method in ON_FEATURES for method in methods)
                else None)
    return Models(clusterers, load_exact_encoder(str(model)), load_exact_decoder(str(model)), manifold,
                  load_calibration(models_dir / "typicality.npz"), encode_batch_size, read_json(classes_file, RUN_PIPELINE),
                  read_description(description_file))


@dataclass(frozen=True)
class Assignment:
    """An image's cluster under one method, the class that cluster is matched to (``cluster
    <k>`` in a run without labels), and the mixture's probability (``None`` for K-Means)."""

    cluster: int
    class_name: str
    probability: float | None


def features_of(models: Models, pixels: np.ndarray) -> np.ndarray:
    """What the feature-based clusterers see: the encode stage's path for new rows."""
    codes = exact_encode(models.encoder, pixels, models.encode_batch_size)
    return codes if models.manifold is None else embed_codes(models.manifold, codes)


def assign(models: Models, pixels: np.ndarray) -> dict[str, list[Assignment]]:
    """Each method's cluster for each row of ``pixels`` (float32 rows of the run's images, in [0, 1])."""
    needs_features = any(method in ON_FEATURES for method in models.clusterers)
    features = features_of(models, pixels) if needs_features else None
    result = {}
    for method, model in models.clusterers.items():
        x = features if method in ON_FEATURES else pixels
        clusters = model.predict(x)
        proba = model.predict_proba(x).max(axis=1) if hasattr(model, "predict_proba") else None
        names = models.class_names.get(method, {})
        result[method] = [
            Assignment(int(c), _class_name(names, int(c)), None if proba is None else float(proba[i]))
            for i, c in enumerate(clusters)
        ]
    return result


def _class_name(names: Mapping[str, str | None], cluster: int) -> str:
    """The class cluster ``cluster`` is matched to; ``cluster <k>`` if the run has no labels
    (null), :data:`UNMATCHED` if the run matched it to none."""
    name = names.get(str(cluster), UNMATCHED)
    return UNNAMED_CLUSTER.format(cluster) if name is None else name


@dataclass(frozen=True)
class Typicality:
    """How typical an image is of the training images, and whether it is flagged, and why."""

    share: float  # of validation images less typical than the image
    atypical: bool  # share below the threshold
    why: str | None  # if atypical, the score that set the share (one of ..typicality.scores.SCORES)


def how_typical(models: Models, pixels: np.ndarray) -> list[Typicality]:
    """Each row's typicality, flag, and if flagged why."""
    scores = typicality_scores(models.encoder, models.decoder, pixels, models.encode_batch_size,
                               models.description.image_shape)
    shares = typicality(models.calibration, scores)
    flags = atypical(shares, models.calibration.threshold)
    return [Typicality(float(share), bool(flag), why if flag else None)
            for share, flag, why in zip(shares, flags, reasons(models.calibration, scores))]
