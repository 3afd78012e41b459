"""Images unlike Fashion-MNIST, made up to measure what the typicality flag catches, in
Fashion-MNIST's format (28×28 grey levels; text and digits light on black, as garments
are), so that only what they show sets them apart.

Every kind is a seeded function of ``(n, seed)`` returning ``n`` float32 rows of 784 pixels
in [0, 1], the same on every run (text: with the same Pillow, whose default font it uses).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.dataset import scale_pixels
from ..data.idx import SIDE
from .position import shifted

# Drawn at this many times the final size, then shrunk: anti-aliased strokes, as a scan has.
OVERSAMPLE = 4
CANVAS = SIDE * OVERSAMPLE
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
# Directions a garment is moved in, in turn (rows down, columns right): right, left, down, up.
MOVES = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _shrink(canvases: list) -> np.ndarray:
    """Pillow ``L`` canvases of ``CANVAS`` pixels as rows of 784 pixels in [0, 1]."""
    from PIL import Image

    return scale_pixels(np.stack([np.asarray(c.resize((SIDE, SIDE), Image.Resampling.BOX)) for c in canvases]))


def uniform_noise(n: int, seed: int) -> np.ndarray:
    """Every pixel an independent uniform grey level."""
    rng = np.random.default_rng(seed)
    return scale_pixels(rng.integers(0, 256, (n, SIDE, SIDE), dtype=np.uint8))


def checkerboards(n: int, seed: int) -> np.ndarray:
    """Black and white squares of one of :data:`SQUARE_SIDES`, at a random offset."""
    rng = np.random.default_rng(seed)
    grid = np.arange(SIDE)
    images = []
    for i in range(n):
        side = SQUARE_SIDES[i % len(SQUARE_SIDES)]
        dy, dx = rng.integers(0, 2 * side, 2)
        images.append((((grid[:, None] + dy) // side + (grid[None, :] + dx) // side) % 2) * 255)
    return scale_pixels(np.asarray(images, np.uint8))


def text(n: int, seed: int) -> np.ndarray:
    """White random letters and digits on black: :data:`TEXT_LINES` lines of
    :data:`LINE_CHARACTERS` characters in Pillow's default font, at one of :data:`FONT_SIZES`,
    at a random place where it fits in the frame."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    canvases = []
    for i in range(n):
        size = FONT_SIZES[i % len(FONT_SIZES)] * OVERSAMPLE
        font = ImageFont.load_default(size=size)
        lines = ["".join(rng.choice(list(TEXT_CHARACTERS), rng.integers(LINE_CHARACTERS[0], LINE_CHARACTERS[1] + 1)))
                 for _ in range(rng.integers(TEXT_LINES[0], TEXT_LINES[1] + 1))]
        content, spacing = "\n".join(lines), int(size * LINE_SPACING)
        canvas = Image.new("L", (CANVAS, CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), content, font=font, spacing=spacing)
        left, top = (int(rng.integers(0, max(CANVAS - extent, 0) + 1)) - start  # inside the frame if it fits
                     for start, extent in ((x0, x1 - x0), (y0, y1 - y0)))
        draw.multiline_text((left, top), content, fill=255, font=font, spacing=spacing)
        canvases.append(canvas)
    return _shrink(canvases)


def _grey_levels(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Grey levels drawn uniformly from the 255 lit ones of a uint8 image, in [0, 1]."""
    return rng.integers(1, 256, shape) / 255


def linear_gradients(n: int, seed: int) -> np.ndarray:
    """Shading filling the frame, from one grey level at one side to another at the opposite
    side: left to right, right to left, top to bottom, bottom to top in turn."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, SIDE)
    images = []
    for i in range(n):
        start, end = _grey_levels(rng, 2)
        image = np.tile(start + (end - start) * ramp, (SIDE, 1))
        images.append((image, image[:, ::-1], image.T, image.T[::-1])[i % 4])
    return scale_pixels(np.rint(np.asarray(images) * 255).astype(np.uint8))


def radial_gradients(n: int, seed: int) -> np.ndarray:
    """Shading filling the frame, from one grey level at a random point to another at the
    frame's farthest pixel from it."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:SIDE, 0:SIDE]
    images = []
    for _ in range(n):
        (row, column), (inner, outer) = rng.uniform(0, SIDE - 1, 2), _grey_levels(rng, 2)
        distance = np.hypot(rows - row, columns - column)
        images.append(inner + (outer - inner) * distance / distance.max())
    return scale_pixels(np.rint(np.asarray(images) * 255).astype(np.uint8))


def flat_fills(n: int, seed: int) -> np.ndarray:
    """The whole frame one grey level."""
    levels = np.rint(_grey_levels(np.random.default_rng(seed), n) * 255).astype(np.uint8)
    return scale_pixels(np.broadcast_to(levels[:, None, None], (n, SIDE, SIDE)))


def moved(pixels: np.ndarray, shift: int) -> np.ndarray:
    """Rows of 784 pixels (real garments) moved ``shift`` pixels in each of :data:`MOVES` in
    turn, what leaves the frame lost and what enters it black, as a user's own crop may
    place a garment."""
    images = pixels.reshape(-1, SIDE, SIDE)
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


def drawn_digits(n: int, seed: int) -> np.ndarray:
    """Handwritten-style digits, white on black as MNIST's: each of 0-9 in turn, its strokes
    jittered, slanted and drawn with one of :data:`STROKE_WIDTHS`, centred in a box of
    :data:`INK_BOX` of the frame."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    box = CANVAS * INK_BOX
    canvases = []
    for i in range(n):
        slant = rng.uniform(-SLANT, SLANT)
        width = round(STROKE_WIDTHS[(i // 10) % len(STROKE_WIDTHS)] * OVERSAMPLE)
        canvas = Image.new("L", (CANVAS, CANVAS), 0)
        draw = ImageDraw.Draw(canvas)
        for stroke in DIGIT_STROKES[i % 10]:
            points = np.asarray(stroke) + rng.normal(0, JITTER, (len(stroke), 2))
            x = (points[:, 0] - 0.5 + slant * (0.5 - points[:, 1])) * box * DIGIT_WIDTH + CANVAS / 2
            y = (points[:, 1] - 0.5) * box + CANVAS / 2
            draw.line(list(zip(x.tolist(), y.tolist())), fill=255, width=width, joint="curve")
        canvases.append(canvas)
    return _shrink(canvases)


@dataclass(frozen=True)
class Kind:
    """A kind of made-up image: what to call it, and how to make ``n`` of them from a seed."""

    title: str
    make: Callable[[int, int], np.ndarray]


# The made-up kinds, by the name their files and metrics use (garments turned on their side
# or moved need real images: see :func:`.scores.turned` and :func:`moved`).
OUTLIERS = {
    "uniform_noise": Kind("uniform noise", uniform_noise), "checkerboards": Kind("checkerboards", checkerboards),
    "text": Kind("white-on-black text", text), "digits": Kind("drawn digits", drawn_digits),
    "linear_gradients": Kind("linear gradients", linear_gradients),
    "radial_gradients": Kind("radial gradients", radial_gradients), "flat_fills": Kind("flat grey fills", flat_fills),
}
