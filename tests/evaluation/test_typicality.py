"""Typicality: its ranking against the calibration images, a row's scores independent of the
rows beside it, the made-up images it is measured on, and, on the committed run's models,
what it flags: held-out garments at the threshold's rate, the made-up kinds nearly always."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import PROJECT_ROOT
from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.errors import PipelineError
from fashion_clustering.evaluation.outliers import OUTLIERS
from fashion_clustering.evaluation.typicality import (
    SCORES, atypical, calibrate, load_calibration, read_threshold, save_calibration, turned, typicality,
    typicality_scores,
)
from fashion_clustering.files import load_arrays
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_decoder import load_exact_decoder
from fashion_clustering.representation.exact_encoder import load_exact_encoder

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def test_typicality_is_the_share_of_calibration_images_whose_worst_rank_is_worse():
    # Five calibration images; each column ranks them differently.
    calibration = calibrate(np.array([[1.0, 50, 0.1], [2, 40, 0.2], [3, 30, 0.3], [4, 20, 0.4], [5, 10, 0.5]]))
    # Worst ranks (counts of calibration scores at or below): 5, 4, 3, 4, 5.
    assert calibration.standings.tolist() == [3, 4, 4, 5, 5]
    rows = np.array([
        [0.0, 0.0, 0.0],    # below every calibration score: more typical than all
        [3.5, 35, 0.35],    # worst rank 3: four calibration images are worse (4, 4, 5, 5)
        [2.5, 25, 9.0],     # typical by two scores, beyond all by the third
        [6.0, 60, 0.6],     # beyond all by every score
    ])
    assert typicality(calibration, rows).tolist() == [1.0, 0.8, 0.0, 0.0]


def test_calibration_images_are_flagged_at_the_thresholds_rate():
    scores = np.random.default_rng(0).lognormal(size=(4000, len(SCORES)))
    calibration = calibrate(scores)
    for threshold in (0.005, 0.01, 0.05):
        flagged = atypical(typicality(calibration, scores), threshold).mean()
        assert abs(flagged - threshold) <= 0.002  # ties of worst ranks aside
    fresh = np.random.default_rng(1).lognormal(size=(4000, len(SCORES)))
    assert abs(atypical(typicality(calibration, fresh), 0.05).mean() - 0.05) < 0.015


def test_calibration_needs_images():
    with pytest.raises(PipelineError, match="no validation images to calibrate typicality on"):
        calibrate(np.empty((0, len(SCORES))))


def test_calibration_round_trip_and_missing_file(tmp_path):
    calibration = calibrate(np.random.default_rng(0).random((50, len(SCORES))))
    save_calibration(tmp_path / "typicality.npz", calibration)
    loaded = load_calibration(tmp_path / "typicality.npz")
    np.testing.assert_array_equal(loaded.scores, calibration.scores)
    np.testing.assert_array_equal(loaded.standings, calibration.standings)
    with pytest.raises(PipelineError, match=r"^.*missing\.npz: not found; run `dvc repro` to make it$"):
        load_calibration(tmp_path / "missing.npz")


@pytest.mark.parametrize("value, expected", [
    (1.5, "a number in (0, 1), got 1.5"), (0, "a number in (0, 1), got 0"), ("low", "a number in (0, 1), got 'low'"),
])
def test_a_bad_threshold_is_named_in_one_line(value, expected):
    with pytest.raises(PipelineError) as info:
        read_threshold(Section({"threshold": value}, "typicality"))
    assert str(info.value) == f"params.yaml: typicality.threshold must be {expected}"


def test_a_quarter_turn_is_anticlockwise_and_four_are_none():
    image = np.zeros((1, 784), np.float32)
    image[0, 27] = 1.0  # the top right corner
    once = turned(image)
    assert once.reshape(28, 28)[0, 0] == 1.0 and once.sum() == 1.0  # now the top left
    np.testing.assert_array_equal(turned(turned(turned(once))), image)


def test_a_rows_scores_do_not_depend_on_the_rows_beside_it(saved, rows):
    _, path = saved
    encoder, decoder = load_exact_encoder(str(path)), load_exact_decoder(str(path))
    together = typicality_scores(encoder, decoder, rows, batch_size=64)
    assert together.shape == (len(rows), len(SCORES)) and np.isfinite(together).all()
    alone = np.concatenate([typicality_scores(encoder, decoder, rows[i:i + 1], batch_size=64) for i in range(4)])
    np.testing.assert_array_equal(alone, together[:4])
    np.testing.assert_array_equal(typicality_scores(encoder, decoder, rows, batch_size=5), together)
    blank = typicality_scores(encoder, decoder, np.zeros((1, 784), np.float32), batch_size=1)
    assert blank[0, SCORES.index("relative_error")] == np.inf  # no ink at all: unlike any garment
    assert typicality(calibrate(together), blank).tolist() == [0.0]


@pytest.mark.parametrize("name", OUTLIERS)
def test_made_up_images_are_seeded_light_on_dark_pixel_rows(name):
    make = OUTLIERS[name].make
    images = make(12, 3)
    assert images.shape == (12, 784) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1 and images.std(axis=1).min() > 0
    np.testing.assert_array_equal(make(12, 3), images)
    assert not np.array_equal(make(12, 4), images)


@pytest.mark.parametrize("name", ["text", "digits"])
def test_text_and_digits_are_drawn_light_on_black(name):
    images = OUTLIERS[name].make(20, 0).reshape(20, 28, 28)
    assert np.median(images) == 0.0 and (images.max(axis=(1, 2)) > 0.5).all()


# The committed run's models and outputs, when the workspace has them (`dvc pull` or `dvc repro`).
RUN_FILES = ("data/models/autoencoder.keras", "data/models/typicality.npz", "data/typicality.npz",
             "data/prepared/test.npz", "metrics/typicality.json")
# What the issue asks of the default threshold: the floors.
FLOORS = {"uniform_noise": 1.0, "checkerboards": 1.0, "text": 1.0, "digits": 0.8}
MADE_UP = 100  # images of each kind, of another seed than the stage's


@pytest.fixture(scope="module")
def committed_run():
    missing = [name for name in RUN_FILES if not (PROJECT_ROOT / name).is_file()]
    if missing:
        pytest.skip(f"the run's outputs are not in the workspace ({', '.join(missing)}): dvc pull or dvc repro")
    path = str(PROJECT_ROOT / "data/models/autoencoder.keras")
    p = Section.load("typicality", PROJECT_ROOT / "params.yaml")
    return (load_exact_encoder(path), load_exact_decoder(path), load_calibration(PROJECT_ROOT / "data/models/typicality.npz"),
            read_threshold(p), p.integer("batch_size", minimum=1), p.integer("seed", minimum=0))


@pytest.mark.slow
def test_the_runs_flags_catch_made_up_images_at_the_floor_rates(committed_run):
    encoder, decoder, calibration, threshold, batch_size, seed = committed_run
    for name, floor in FLOORS.items():
        images = OUTLIERS[name].make(MADE_UP, seed + 1)
        flagged = atypical(typicality(calibration, typicality_scores(encoder, decoder, images, batch_size)), threshold)
        assert flagged.mean() >= floor, name


@pytest.mark.slow
def test_the_runs_garments_are_flagged_at_about_the_thresholds_rate(committed_run):
    encoder, decoder, calibration, threshold, batch_size, _ = committed_run
    shares = load_arrays(PROJECT_ROOT / "data/typicality.npz", SPLITS)
    flagged = {split: atypical(shares[split], threshold).mean() for split in SPLITS}
    assert abs(flagged["val"] - threshold) <= 0.001  # the calibration itself, ties of worst ranks aside
    assert flagged["test"] <= 0.02  # held out: the floor
    assert threshold / 3 <= flagged["train"] <= threshold  # fitted by the autoencoder: a little fewer
    metrics = json.loads((PROJECT_ROOT / "metrics/typicality.json").read_text())
    assert {split: metrics["flagged"][split] for split in SPLITS} == flagged
    # The stored test typicalities are what scoring the images again gives, alone or among others.
    x_test = load_split(PROJECT_ROOT / "data/prepared", "test")[0][:200]
    again = typicality(calibration, typicality_scores(encoder, decoder, x_test, batch_size))
    np.testing.assert_array_equal(again, shares["test"][:200])
    alone = typicality(calibration, typicality_scores(encoder, decoder, x_test[7:8], batch_size))
    assert alone.tolist() == [shares["test"][7]]

