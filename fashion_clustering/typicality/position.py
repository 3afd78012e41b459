"""Where an image's subject (its non-blank pixels) lies in its frame, for images of any
height, width and channels. Fashion-MNIST put every garment's bounding box in the middle of
the frame (its longer side spans the frame), so the blank rows above and below it, and the
blank columns left and right of it, differ by at most a pixel or two;
an image moved by a few pixels has blank bands of very different widths (measured in
``benchmarks/results/exploration.md``, issue 26). Blank means no pixel above zero.

Integer counts and index arithmetic only: a row's answer does not depend on the rows beside
it or on the CPU.
"""

from __future__ import annotations

import numpy as np



def images_of(pixels: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Rows of images of ``image_shape`` (height, width, channels) as N × height × width ×
    channels images (a view: no copy)."""
    return pixels.reshape(-1, *image_shape)


def _blank_bands(lit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows of booleans (N × lines: is this line lit), the count of unlit lines before the
    first lit one and after the last (all the lines each for an image with none lit)."""
    any_lit, lines = lit.any(axis=1), lit.shape[1]
    return (np.where(any_lit, lit.argmax(axis=1), lines), np.where(any_lit, lit[:, ::-1].argmax(axis=1), lines))


def blank_margins(pixels: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Each image's blank margins, N × 4 integers: rows above and below, columns left and
    right (a pixel is lit if any of its channels is)."""
    lit = (images_of(pixels, image_shape) > 0).any(axis=3)
    above, below = _blank_bands(lit.any(axis=2))
    left, right = _blank_bands(lit.any(axis=1))
    return np.stack([above, below, left, right], axis=1)


def off_centre(pixels: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """How far each image's subject is from the middle of its frame: the larger difference,
    vertical or horizontal, between the blank margins on either side, in pixels (float64)."""
    margins = blank_margins(pixels, image_shape)
    return np.maximum(np.abs(margins[:, 0] - margins[:, 1]), np.abs(margins[:, 2] - margins[:, 3])).astype(np.float64)


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """An image (height × width, channels after them if any) moved ``dy`` pixels down and
    ``dx`` right: what leaves the frame is lost, what enters it is black (all of it, for a
    move as large as the frame)."""
    out = np.zeros_like(image)
    height, width = image.shape[:2]
    if abs(dy) >= height or abs(dx) >= width:
        return out
    out[max(0, dy):height + min(0, dy), max(0, dx):width + min(0, dx)] = \
        image[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    return out


def _half_towards_zero(differences: np.ndarray) -> np.ndarray:
    """Half of each integer, rounded towards zero: a difference of one pixel moves nothing."""
    return np.sign(differences) * (np.abs(differences) // 2)


def centred(pixels: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Rows of images of ``image_shape`` with each subject moved, whole, so that its blank margins on either
    side differ by at most one pixel, as Fashion-MNIST's do; an image already so placed (every
    one of Fashion-MNIST's but a few), or a blank image, is left as it is. Nothing is scaled:
    what an image lost at the frame's edge stays lost."""
    images = images_of(pixels, image_shape)
    margins = blank_margins(pixels, image_shape)
    down, right = (_half_towards_zero(margins[:, 1] - margins[:, 0]), _half_towards_zero(margins[:, 3] - margins[:, 2]))
    moved = np.zeros_like(images)
    for i, (dy, dx) in enumerate(zip(down.tolist(), right.tolist())):
        moved[i] = shifted(images[i], dy, dx)
    return moved.reshape(pixels.shape)
