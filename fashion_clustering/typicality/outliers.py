"""Images unlike the data set's, made up to measure what the typicality flag catches, in the
data set's format (its height, width and channels; text and digits light on black, as
Fashion-MNIST's garments are), so that only what they show sets them apart.

Every kind is a seeded function of ``(n, seed, height, width)`` returning ``n`` uint8 grey
images, the same on every run (text: with the same Pillow, whose default font it uses);
:meth:`Kind.make` turns them into float32 rows in [0, 1] of the data set's channels (grey
images in colour: the same level in each channel). Sizes in pixels (fonts, strokes, squares)
stay in pixels at any frame size; what does not fit is clipped.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.dataset import scale_pixels
from .position import images_of, shifted

# Drawn at this many times the final size, then shrunk: anti-aliased strokes, as a scan has.
OVERSAMPLE = 4
# Digits are this share of the frame's side tall (MNIST's: 20 of 28 pixels), and this share
# of their height wide.
INK_BOX = 20 / 28
DIGIT_WIDTH = 0.75
# Widths of a digit's strokes, in final pixels (a thin pen to a marker).
STROKE_WIDTHS = (1.0, 1.5, 2.0, 3.0)
# A digit's slant (horizontal shift per height, either way) and its points' jitter (standard
# deviation), as shares of its box.
SLANT = 0.25
JITTER = 0.02
# Checkerboard squares, in pixels.
SQUARE_SIDES = (1, 2, 3, 4, 7)
# Characters of the made-up text, lines of text (at least, at most), characters a line, and
# the space between lines as a share of the font size.
TEXT_CHARACTERS = string.ascii_letters + string.digits
TEXT_LINES = (1, 3)
LINE_CHARACTERS = (2, 5)
LINE_SPACING = 0.25
# Font sizes of the text, in final pixels.
FONT_SIZES = (7, 9, 11, 14)
# Points per quarter turn along a digit's arcs.
ARC_POINTS = 8
# Directions an image is moved in, in turn (rows down, columns right): right, left, down, up.
MOVES = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _canvas(height: int, width: int):
    """A black Pillow ``L`` canvas :data:`OVERSAMPLE` times the frame."""
    from PIL import Image

    return Image.new("L", (width * OVERSAMPLE, height * OVERSAMPLE), 0)


def _shrink(canvases: list, height: int, width: int) -> np.ndarray:
    """Pillow ``L`` canvases of :func:`_canvas` as uint8 images of the frame."""
    from PIL import Image

    return np.stack([np.asarray(c.resize((width, height), Image.Resampling.BOX)) for c in canvases])


def uniform_noise(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """Every pixel an independent uniform grey level."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, height, width), dtype=np.uint8)


def checkerboards(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """Black and white squares of one of :data:`SQUARE_SIDES`, at a random offset."""
    rng = np.random.default_rng(seed)
    rows, columns = np.arange(height), np.arange(width)
    images = []
    for i in range(n):
        side = SQUARE_SIDES[i % len(SQUARE_SIDES)]
        dy, dx = rng.integers(0, 2 * side, 2)
        images.append((((rows[:, None] + dy) // side + (columns[None, :] + dx) // side) % 2) * 255)
    return np.asarray(images, np.uint8)


def text(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """White random letters and digits on black: :data:`TEXT_LINES` lines of
    :data:`LINE_CHARACTERS` characters in Pillow's default font, at one of :data:`FONT_SIZES`,
    at a random place where it fits in the frame."""
    from PIL import ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    canvases = []
    for i in range(n):
        size = FONT_SIZES[i % len(FONT_SIZES)] * OVERSAMPLE
        font = ImageFont.load_default(size=size)
        lines = ["".join(rng.choice(list(TEXT_CHARACTERS), rng.integers(LINE_CHARACTERS[0], LINE_CHARACTERS[1] + 1)))
                 for _ in range(rng.integers(TEXT_LINES[0], TEXT_LINES[1] + 1))]
        content, spacing = "\n".join(lines), int(size * LINE_SPACING)
        canvas = _canvas(height, width)
        draw = ImageDraw.Draw(canvas)
        x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), content, font=font, spacing=spacing)
        left, top = (int(rng.integers(0, max(room - extent, 0) + 1)) - start  # inside the frame if it fits
                     for start, extent, room in ((x0, x1 - x0, canvas.width), (y0, y1 - y0, canvas.height)))
        draw.multiline_text((left, top), content, fill=255, font=font, spacing=spacing)
        canvases.append(canvas)
    return _shrink(canvases, height, width)


def _grey_levels(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Grey levels drawn uniformly from the 255 lit ones of a uint8 image, in [0, 1]."""
    return rng.integers(1, 256, shape) / 255


def linear_gradients(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """Shading filling the frame, from one grey level at one side to another at the opposite
    side: left to right, right to left, top to bottom, bottom to top in turn."""
    rng = np.random.default_rng(seed)
    across, down = np.linspace(0, 1, width), np.linspace(0, 1, height)[:, None]
    images = []
    for i in range(n):
        start, end = _grey_levels(rng, 2)
        image = np.tile(start + (end - start) * across, (height, 1))
        vertical = np.tile(start + (end - start) * down, (1, width))
        images.append((image, image[:, ::-1], vertical, vertical[::-1])[i % 4])
    return np.rint(np.asarray(images) * 255).astype(np.uint8)


def radial_gradients(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """Shading filling the frame, from one grey level at a random point to another at the
    frame's farthest pixel from it."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width]
    images = []
    for _ in range(n):
        (row, column), (inner, outer) = rng.uniform(0, np.array([height - 1, width - 1])), _grey_levels(rng, 2)
        distance = np.hypot(rows - row, columns - column)
        images.append(inner + (outer - inner) * distance / distance.max())
    return np.rint(np.asarray(images) * 255).astype(np.uint8)


def flat_fills(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """The whole frame one grey level."""
    levels = np.rint(_grey_levels(np.random.default_rng(seed), n) * 255).astype(np.uint8)
    return np.broadcast_to(levels[:, None, None], (n, height, width))


def moved(pixels: np.ndarray, shift: int, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Rows of images of ``image_shape`` (the data set's own) moved ``shift`` pixels in each of
    :data:`MOVES` in turn, what leaves the frame lost and what enters it black, as a user's
    own crop may place its subject."""
    images = images_of(pixels, image_shape)
    out = np.zeros_like(images)
    for i in range(len(images)):
        dy, dx = (step * shift for step in MOVES[i % len(MOVES)])
        out[i] = shifted(images[i], dy, dx)
    return out.reshape(pixels.shape)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list[tuple[float, float]]:
    """Points along an ellipse's arc from ``start`` to ``end`` turns (0: right, 0.25: down)."""
    count = max(2, math.ceil(abs(end - start) * 4 * ARC_POINTS))
    return [(cx + rx * math.cos(2 * math.pi * t), cy + ry * math.sin(2 * math.pi * t))
            for t in np.linspace(start, end, count)]


# Each digit as pen strokes in a unit box (x right, y down): polylines through its points.
DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.32, 0.48, 0, 1)],
    1: [[(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)]],
    2: [_arc(0.5, 0.28, 0.3, 0.26, 0.55, 1.1) + [(0.15, 1.0), (0.85, 1.0)]],
    3: [_arc(0.48, 0.25, 0.3, 0.25, 0.6, 1.25), _arc(0.48, 0.73, 0.33, 0.27, 0.75, 1.4)],
    4: [[(0.7, 1.0), (0.7, 0.0), (0.1, 0.7), (0.9, 0.7)]],
    5: [[(0.8, 0.0), (0.28, 0.0), (0.22, 0.45)] + _arc(0.48, 0.68, 0.32, 0.3, 0.6, 1.35)],
    6: [_arc(0.55, 0.45, 0.38, 0.45, 0.75, 0.5) + _arc(0.5, 0.72, 0.3, 0.27, 0.5, 1.5)],
    7: [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)]],
    8: [_arc(0.5, 0.24, 0.26, 0.24, 0.25, 1.25), _arc(0.5, 0.73, 0.32, 0.27, -0.75, 0.25)],
    9: [_arc(0.5, 0.3, 0.3, 0.28, 0, 1) + [(0.8, 0.3), (0.72, 1.0)]],
}


def drawn_digits(n: int, seed: int, height: int, width: int) -> np.ndarray:
    """Handwritten-style digits, white on black as MNIST's: each of 0-9 in turn, its strokes
    jittered, slanted and drawn with one of :data:`STROKE_WIDTHS`, centred in a box of
    :data:`INK_BOX` of the frame."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    box = min(height, width) * OVERSAMPLE * INK_BOX
    canvases = []
    for i in range(n):
        slant = rng.uniform(-SLANT, SLANT)
        stroke_width = round(STROKE_WIDTHS[(i // 10) % len(STROKE_WIDTHS)] * OVERSAMPLE)
        canvas = _canvas(height, width)
        draw = ImageDraw.Draw(canvas)
        for stroke in DIGIT_STROKES[i % 10]:
            points = np.asarray(stroke) + rng.normal(0, JITTER, (len(stroke), 2))
            x = (points[:, 0] - 0.5 + slant * (0.5 - points[:, 1])) * box * DIGIT_WIDTH + canvas.width / 2
            y = (points[:, 1] - 0.5) * box + canvas.height / 2
            draw.line(list(zip(x.tolist(), y.tolist())), fill=255, width=stroke_width, joint="curve")
        canvases.append(canvas)
    return _shrink(canvases, height, width)


@dataclass(frozen=True)
class Kind:
    """A kind of made-up image: what to call it, and how to make ``n`` of them from a seed."""

    title: str
    draw: Callable[[int, int, int, int], np.ndarray]  # (n, seed, height, width) -> n uint8 grey images

    def make(self, n: int, seed: int, image_shape: tuple[int, int, int]) -> np.ndarray:
        """``n`` images of this kind from ``seed`` as float32 rows in [0, 1] of images of
        ``image_shape`` (height, width, channels)."""
        height, width, channels = image_shape
        grey = self.draw(n, seed, height, width)
        return scale_pixels(np.broadcast_to(grey[..., None], (n, height, width, channels)))


# The made-up kinds, by the name their files and metrics use (images turned on their side
# or moved need real images: see :func:`.scores.turned` and :func:`moved`).
OUTLIERS = {
    "uniform_noise": Kind("uniform noise", uniform_noise), "checkerboards": Kind("checkerboards", checkerboards),
    "text": Kind("white-on-black text", text), "digits": Kind("drawn digits", drawn_digits),
    "linear_gradients": Kind("linear gradients", linear_gradients),
    "radial_gradients": Kind("radial gradients", radial_gradients), "flat_fills": Kind("flat grey fills", flat_fills),
}
