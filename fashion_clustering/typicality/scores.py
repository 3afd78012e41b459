"""How typical an image is of the images the models learned from, so that ``predict`` can
say when an image is unlike all of them instead of forcing it into a cluster, and why.

Five scores, each catching what the others miss (measured by ``benchmarks/
typicality_measures.py``; ``benchmarks/results/exploration.md``, issues 21 and 26). Three
from how the autoencoder reconstructs the image, ranked:

- ``error``: the mean squared reconstruction error. The decoder can only draw what it
  learned from (garments, on Fashion-MNIST), so noise and checkerboards come back far off.
- ``relative_error``: the absolute errors summed over the image, over its summed
  brightness. A thin digit or a line of text is mostly black, so its error is small in
  absolute terms, but its reconstruction is a faint image of the data set's kind that
  misses most of its strokes.
- ``turn_gain``: how much lower the error is for the image turned by a quarter, a half or
  three quarters of a turn. An image of the data set turned on its side is reconstructed
  better upright. Only a square image turns by a quarter into its own frame; an image of
  another shape is turned by a half only (:func:`turns`).

Each is ranked among the validation images' scores (images the autoencoder and the
clusterers were not fitted on, so that held-out images rank like them); an image's
standing is its worst rank of the three. Its typicality is the share of validation images
whose standing is worse: 0 for an image beyond all of them, about 0.5 for a middling one.
An image whose typicality is below the threshold is flagged, as that share of validation
images is.

Two from the pixels alone, limits rather than ranks (:data:`LIMITS`): an image beyond every
validation image on one of them has typicality 0, else they do not count. As ranks they would
take their share of the threshold from the three above (turned images or drawn digits
flagged less); as limits they flag no image like the validation ones, and what they catch
lies far beyond them:

- ``smoothness``: minus the image's total variation (the absolute differences of
  neighbouring pixels, summed) over its brightness. An object has edges against a plain
  background; smooth shading, a gradient or a flat grey fill, has next to none, and the
  decoder draws it too well for the error scores to see it.
- ``off_centre``: how far the image's subject is from the middle of the frame
  (:func:`..position.off_centre`), where Fashion-MNIST put every garment.

Everything is computed with the exact encoder and decoder, integer counts and sums taken
column by column, so a row's typicality does not depend on the rows beside it, the batch
size or the CPU.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RUN_PIPELINE, PipelineError
from ..files import load_arrays, package_versions, save_arrays, warn_if_made_elsewhere
from ..fixed_order import row_sums
from ..params import Settings, setting
from ..representation.exact_decoder import ExactDecoder, exact_decode
from ..representation.exact_encoder import ExactEncoder, exact_encode
from .position import images_of, off_centre

RANKED = ("error", "relative_error", "turn_gain")
LIMITS = ("smoothness", "off_centre")
SCORES = RANKED + LIMITS
# The calibration file's arrays beside one per score: the validation images' standings, and
# the threshold the run flags with (read once, by the stage, and kept with what it calibrated),
# and the package versions that made it.
STANDINGS, THRESHOLD, VERSIONS = "standings", "threshold", "versions"


@dataclass(frozen=True)
class TypicalityConfig(Settings):
    """The typicality section of params.yaml (``threshold`` first, so a bad one is named first)."""

    threshold: float = setting("number", minimum=0, maximum=1, exclusive=True)
    batch_size: int = setting("integer", minimum=1)
    outliers_per_kind: int = setting("integer", minimum=1)
    seed: int = setting("integer", minimum=0)
    moved_images: int = setting("integer", minimum=1)
    moved_shifts: list[int] = setting("integers")


# Quarter turns an image is turned by for turn_gain: a square one by a quarter, a half and
# three quarters; another (whose quarter turn would not fit its frame), by a half.
SQUARE_TURNS, OTHER_TURNS = (1, 2, 3), (2,)


def turns(image_shape: tuple[int, int, int]) -> tuple[int, ...]:
    """The quarter turns of an image of ``image_shape`` that keep it in its frame."""
    height, width, _ = image_shape
    return SQUARE_TURNS if height == width else OTHER_TURNS


def turned(pixels: np.ndarray, image_shape: tuple[int, int, int], quarters: int = 1) -> np.ndarray:
    """Rows of images of ``image_shape`` turned ``quarters`` quarter turns anticlockwise (one:
    a trouser lying down; only a square image, or a half turn, keeps its frame)."""
    if quarters not in turns(image_shape):
        raise PipelineError(f"a {image_shape[0]}×{image_shape[1]} image cannot be turned by {quarters} "
                            "quarter turns into its own frame")
    return np.rot90(images_of(pixels, image_shape), quarters, axes=(1, 2)).reshape(pixels.shape).copy()


def _reconstruction_errors(encoder: ExactEncoder, decoder: ExactDecoder, pixels: np.ndarray,
                           batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mean squared reconstruction error, and its absolute errors summed."""
    difference = pixels.astype(np.float64) - exact_decode(decoder, exact_encode(encoder, pixels, batch_size), batch_size)
    return row_sums(np.square(difference)) / pixels.shape[1], row_sums(np.abs(difference))


def smoothness(pixels: np.ndarray, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Minus each row's total variation (across and down, in each channel) over its
    brightness (the higher, the smoother; +inf for a blank image)."""
    images = images_of(pixels, image_shape).astype(np.float64)
    across = np.abs(np.diff(images, axis=2)).reshape(len(images), -1)
    down = np.abs(np.diff(images, axis=1)).reshape(len(images), -1)
    variation, brightness = row_sums(np.concatenate([across, down], axis=1)), row_sums(images.reshape(len(images), -1))
    return np.divide(-variation, brightness, out=np.full_like(brightness, np.inf), where=brightness > 0)


def typicality_scores(encoder: ExactEncoder, decoder: ExactDecoder, pixels: np.ndarray, batch_size: int,
                      image_shape: tuple[int, int, int]) -> np.ndarray:
    """The :data:`SCORES` of rows of images of ``image_shape`` in [0, 1], as an N × 5 float64
    array; ``batch_size`` rows at a time (memory only)."""
    chunks = [np.empty((0, len(SCORES)))]
    for start in range(0, len(pixels), batch_size):
        rows = pixels[start:start + batch_size]
        error, absolute_error = _reconstruction_errors(encoder, decoder, rows, batch_size)
        brightness = row_sums(rows.astype(np.float64))
        relative = np.divide(absolute_error, brightness, out=np.full_like(brightness, np.inf), where=brightness > 0)
        turned_errors = [_reconstruction_errors(encoder, decoder, turned(rows, image_shape, quarters), batch_size)[0]
                         for quarters in turns(image_shape)]
        chunks.append(np.stack([error, relative, error - np.minimum.reduce(turned_errors),
                                smoothness(rows, image_shape), off_centre(rows, image_shape)], axis=1))
    return np.concatenate(chunks)


@dataclass(frozen=True)
class Calibration:
    """The validation images' scores, their standings (worst rank over the ranked scores),
    sorted, and the threshold below which a typicality is flagged."""

    scores: np.ndarray  # N × scores, each column sorted; the last ``limits`` are limits
    standings: np.ndarray  # N integers, sorted
    threshold: float
    limits: int = len(LIMITS)


def _ranks(scores: np.ndarray, sorted_scores: np.ndarray) -> np.ndarray:
    """Rows × scores: each score's count of calibration scores at or below it. Integers, so
    comparisons of ranks and standings are exact."""
    return np.stack([np.searchsorted(sorted_scores[:, j], scores[:, j], side="right")
                     for j in range(scores.shape[1])], axis=1).astype(np.int64)


def _standings(scores: np.ndarray, sorted_scores: np.ndarray) -> np.ndarray:
    """Each row's worst rank over its scores."""
    return _ranks(scores, sorted_scores).max(axis=1, initial=0)


def calibrate(scores: np.ndarray, threshold: float, limits: int = len(LIMITS)) -> Calibration:
    """The calibration from the validation images' :func:`typicality_scores` (or any
    columns of scores, each the higher the less typical, the last ``limits`` of them limits)."""
    if not len(scores):
        raise PipelineError("no validation images to calibrate typicality on: preprocess.val_fraction "
                            "leaves none")
    sorted_scores = np.sort(scores, axis=0)
    ranked = scores.shape[1] - limits
    return Calibration(sorted_scores, np.sort(_standings(scores[:, :ranked], sorted_scores[:, :ranked])), threshold,
                       limits)


def _beyond_limits(calibration: Calibration, scores: np.ndarray) -> np.ndarray:
    """Rows × limits: whether each row's limit score is beyond every calibration image's."""
    limits = scores.shape[1] - calibration.limits
    return scores[:, limits:] > calibration.scores[-1, limits:]


def typicality(calibration: Calibration, scores: np.ndarray) -> np.ndarray:
    """The share of calibration images whose standing is worse than each row's, in [0, 1];
    0 for a row beyond a limit."""
    ranked = scores.shape[1] - calibration.limits
    standings = _standings(scores[:, :ranked], calibration.scores[:, :ranked])
    worse = len(calibration.standings) - np.searchsorted(calibration.standings, standings, side="right")
    return np.where(_beyond_limits(calibration, scores).any(axis=1), 0.0, worse / len(calibration.standings))


def reasons(calibration: Calibration, scores: np.ndarray, names: tuple[str, ...] = SCORES) -> list[str]:
    """Which score sets each row's typicality: the first limit it is beyond, else the ranked
    score of its worst rank (the first of equal ones)."""
    ranked = scores.shape[1] - calibration.limits
    ranks = _ranks(scores[:, :ranked], calibration.scores[:, :ranked])
    beyond = _beyond_limits(calibration, scores)
    return [names[ranked + int(b.argmax())] if b.any() else names[int(r.argmax())] for r, b in zip(ranks, beyond)]


def atypical(typicalities: np.ndarray, threshold: float) -> np.ndarray:
    """Which typicalities are flagged: those below ``threshold``."""
    return np.asarray(typicalities) < threshold


def save_calibration(path: str | Path, calibration: Calibration) -> None:
    """Write the calibration, with the package versions that made it (as JSON text)."""
    save_arrays(path, {**{name: calibration.scores[:, j] for j, name in enumerate(SCORES)},
                       STANDINGS: calibration.standings, THRESHOLD: np.float64(calibration.threshold),
                       VERSIONS: np.array(json.dumps(package_versions()))})


def load_calibration(path: str | Path) -> Calibration:
    """What :func:`save_calibration` wrote; a missing file says how to make it."""
    if not Path(path).is_file():
        raise PipelineError(f"{path}: not found; {RUN_PIPELINE}")
    arrays = load_arrays(path, (*SCORES, STANDINGS, THRESHOLD, VERSIONS))
    warn_if_made_elsewhere(path, json.loads(str(arrays[VERSIONS])))
    return Calibration(np.stack([arrays[name] for name in SCORES], axis=1), arrays[STANDINGS],
                       float(arrays[THRESHOLD]))
