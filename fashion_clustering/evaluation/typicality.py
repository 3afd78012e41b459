"""How typical an image is of the images the models learned from, so that ``predict`` can
say when an image is unlike all of them instead of forcing it into a cluster.

Three scores, all from how the autoencoder reconstructs the image, each catching what the
others miss (measured by ``benchmarks/typicality_measures.py``; ``benchmarks/results/
exploration.md``, issue 21):

- ``error``: the mean squared reconstruction error. The decoder can only draw garments, so
  noise and checkerboards come back far off.
- ``relative_error``: the absolute errors summed over the image, over its summed
  brightness. A thin digit or a line of text is mostly black, so its error is small in
  absolute terms, but its reconstruction is a faint garment that misses most of its strokes.
- ``turn_gain``: how much lower the error is for the image turned by a quarter, a half or
  three quarters of a turn. A garment lying on its side is reconstructed better upright.

Each score is ranked among the validation images' scores (images the autoencoder and the
clusterers were not fitted on, so that held-out images rank like them); an image's
standing is its worst rank of the three. Its typicality is the share of validation images
whose standing is worse: 0 for an image beyond all of them, about 0.5 for a middling one.
An image whose typicality is below ``typicality.threshold`` is flagged, as that share of
validation images is.

Everything is computed with the exact encoder and decoder and sums taken column by column,
so a row's typicality does not depend on the rows beside it, the batch size or the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..clustering.rowwise import row_sums
from ..data.idx import N_PIXELS, SIDE
from ..errors import RUN_PIPELINE, PipelineError
from ..files import load_arrays, save_arrays
from ..params import Section
from ..representation.exact_decoder import ExactDecoder, exact_decode
from ..representation.exact_encoder import ExactEncoder, exact_encode

SCORES = ("error", "relative_error", "turn_gain")
# The calibration file's array of the validation images' standings, beside one per score.
STANDINGS = "standings"


@dataclass(frozen=True)
class TypicalityConfig:
    threshold: float
    batch_size: int
    outliers_per_kind: int
    seed: int

    @classmethod
    def from_params(cls, p: Section) -> "TypicalityConfig":
        """The typicality section of params.yaml, validated."""
        return cls(threshold=read_threshold(p), batch_size=p.integer("batch_size", minimum=1),
                   outliers_per_kind=p.integer("outliers_per_kind", minimum=1), seed=p.integer("seed", minimum=0))


def read_threshold(p: Section) -> float:
    """``typicality.threshold``: the typicality below which an image is flagged."""
    return p.number("threshold", minimum=0, maximum=1, exclusive=True)


def turned(pixels: np.ndarray) -> np.ndarray:
    """Rows of 784 pixels turned a quarter turn anticlockwise (a trouser lying down)."""
    return np.rot90(pixels.reshape(-1, SIDE, SIDE), axes=(1, 2)).reshape(len(pixels), N_PIXELS).copy()


def _reconstruction_errors(encoder: ExactEncoder, decoder: ExactDecoder, pixels: np.ndarray,
                           batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mean squared reconstruction error, and its absolute errors summed."""
    difference = pixels.astype(np.float64) - exact_decode(decoder, exact_encode(encoder, pixels, batch_size), batch_size)
    return row_sums(np.square(difference)) / N_PIXELS, row_sums(np.abs(difference))


def typicality_scores(encoder: ExactEncoder, decoder: ExactDecoder, pixels: np.ndarray, batch_size: int) -> np.ndarray:
    """The :data:`SCORES` of rows of 784 pixels in [0, 1], as an N × 3 float64 array;
    ``batch_size`` rows at a time (memory only)."""
    chunks = [np.empty((0, len(SCORES)))]
    for start in range(0, len(pixels), batch_size):
        rows = pixels[start:start + batch_size]
        error, absolute_error = _reconstruction_errors(encoder, decoder, rows, batch_size)
        brightness = row_sums(rows.astype(np.float64))
        relative = np.divide(absolute_error, brightness, out=np.full_like(brightness, np.inf), where=brightness > 0)
        turned_errors = []
        for _ in range(3):  # a quarter, a half, three quarters of a turn
            rows = turned(rows)
            turned_errors.append(_reconstruction_errors(encoder, decoder, rows, batch_size)[0])
        chunks.append(np.stack([error, relative, error - np.minimum.reduce(turned_errors)], axis=1))
    return np.concatenate(chunks)


@dataclass(frozen=True)
class Calibration:
    """The validation images' scores, and their standings (worst rank over the scores), sorted."""

    scores: np.ndarray  # N × scores, each column sorted
    standings: np.ndarray  # N integers, sorted


def _standings(scores: np.ndarray, sorted_scores: np.ndarray) -> np.ndarray:
    """Each row's worst rank: of its scores, the largest count of calibration scores at or
    below it. Integers, so comparisons of standings are exact."""
    ranks = [np.searchsorted(sorted_scores[:, j], scores[:, j], side="right") for j in range(scores.shape[1])]
    return np.maximum.reduce(ranks).astype(np.int64)


def calibrate(scores: np.ndarray) -> Calibration:
    """The calibration from the validation images' :func:`typicality_scores` (or any
    columns of scores, each the higher the less typical)."""
    if not len(scores):
        raise PipelineError("no validation images to calibrate typicality on: preprocess.val_fraction "
                            "leaves none")
    sorted_scores = np.sort(scores, axis=0)
    return Calibration(sorted_scores, np.sort(_standings(scores, sorted_scores)))


def typicality(calibration: Calibration, scores: np.ndarray) -> np.ndarray:
    """The share of calibration images whose standing is worse than each row's, in [0, 1]."""
    standings = _standings(scores, calibration.scores)
    worse = len(calibration.standings) - np.searchsorted(calibration.standings, standings, side="right")
    return worse / len(calibration.standings)


def atypical(typicalities: np.ndarray, threshold: float) -> np.ndarray:
    """Which typicalities are flagged: those below ``threshold``."""
    return np.asarray(typicalities) < threshold


def save_calibration(path: str | Path, calibration: Calibration) -> None:
    save_arrays(path, {**{name: calibration.scores[:, j] for j, name in enumerate(SCORES)},
                       STANDINGS: calibration.standings})


def load_calibration(path: str | Path) -> Calibration:
    """What :func:`save_calibration` wrote; a missing file says how to make it."""
    if not Path(path).is_file():
        raise PipelineError(f"{path}: not found; {RUN_PIPELINE}")
    arrays = load_arrays(path, (*SCORES, STANDINGS))
    return Calibration(np.stack([arrays[name] for name in SCORES], axis=1), arrays[STANDINGS])
