"""The IDX file format of (Fashion-)MNIST: parse, validate, write.

An IDX file is a big-endian header (two zero bytes, a type code, the number of
dimensions, one uint32 size per dimension) followed by the values.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from ..errors import PipelineError

UBYTE = 0x08
SIDE = 28
IMAGE_SHAPE = (SIDE, SIDE)
N_PIXELS = SIDE * SIDE  # an image as a row
N_CLASSES = 10
FASHION_MNIST = "Fashion-MNIST"  # the default data set's name
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def parse_idx(data: bytes, ndim: int, source: str) -> np.ndarray:
    """Decode an unsigned-byte IDX file of ``ndim`` dimensions; ``source`` names it in errors."""
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != UBYTE or data[3] != ndim:
        found = f"0x{data[:4].hex()}" if data else "an empty file"
        raise PipelineError(
            f"{source}: bad IDX magic number {found}, expected 0x0000{UBYTE:02x}{ndim:02x} "
            f"(unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''})"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise PipelineError(f"{source}: IDX header truncated, expected {header} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise PipelineError(
            f"{source}: IDX dimensions {shape} need {expected} bytes, file has {len(data)}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path: str | os.PathLike[str], ndim: int) -> np.ndarray:
    """Read and decode an uncompressed IDX file."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from error
    return parse_idx(data, ndim, str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of an unsigned-byte array (the inverse of :func:`parse_idx`)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def load_images_and_labels(
    images_path: str | os.PathLike[str], labels_path: str | os.PathLike[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Read one split: ``(n, 28, 28)`` uint8 images and ``(n,)`` labels in 0..9."""
    images = read_idx(images_path, ndim=3)
    labels = check_labels(images, read_idx(labels_path, ndim=1), images_path, labels_path)
    if images.shape[1:] != IMAGE_SHAPE:
        raise PipelineError(f"{images_path}: images are {images.shape[1:]}, expected {IMAGE_SHAPE}")
    if labels.size and labels.max() >= N_CLASSES:
        raise PipelineError(
            f"{labels_path}: label {int(labels.max())} out of range, expected 0..{N_CLASSES - 1}"
        )
    return images, labels


def check_labels(images: np.ndarray, labels: np.ndarray, images_path: str | os.PathLike[str],
                 labels_path: str | os.PathLike[str]) -> np.ndarray:
    """``labels``, if there is one for each of ``images``."""
    if len(images) != len(labels):
        raise PipelineError(
            f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path}, "
            "expected one label per image"
        )
    return labels
