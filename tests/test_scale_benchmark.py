"""benchmarks/scale.py's collections and slopes: the sizes above Fashion-MNIST's are its
images moved by one pixel, and a slope is the log-log growth between two sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from test_docs import ROOT, load

scale = load(ROOT / "benchmarks" / "scale.py")


def test_an_image_moved_one_pixel_keeps_its_pixels_and_blackens_the_edge():
    image = np.arange(1, 17, dtype=np.uint8).reshape(1, 4, 4)
    right = scale.moved(image, 0, 1)[0]
    np.testing.assert_array_equal(right[:, 1:], image[0, :, :-1])
    assert (right[:, 0] == 0).all()
    up = scale.moved(image, -1, 0)[0]
    np.testing.assert_array_equal(up[:-1], image[0, 1:])
    assert (up[-1] == 0).all()


@pytest.fixture
def small_fashion_mnist(monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (70, 28, 28), dtype=np.uint8)
    labels = np.arange(70, dtype=np.uint8) % 10
    monkeypatch.setattr(scale, "fashion_mnist", lambda: (images, labels))
    return images, labels


def test_above_the_data_set_the_copies_are_its_images_moved_in_turn(small_fashion_mnist):
    images, labels = small_fashion_mnist
    x, y = scale.collection(250)
    assert x.shape == (250, 28, 28) and y.shape == (250,)
    np.testing.assert_array_equal(x[:70], images)
    np.testing.assert_array_equal(x[70:140], scale.moved(images, 0, 1))
    np.testing.assert_array_equal(x[140:210], scale.moved(images, 1, 0))
    np.testing.assert_array_equal(x[210:], scale.moved(images[:40], 0, -1))
    np.testing.assert_array_equal(y, np.tile(labels, 4)[:250])


def test_below_the_data_set_a_seeded_sample_of_distinct_images(small_fashion_mnist):
    images, _ = small_fashion_mnist
    x, _ = scale.collection(30)
    assert len({row.tobytes() for row in x}) == 30
    assert all(any((row == image).all() for image in images) for row in x)
    np.testing.assert_array_equal(x, scale.collection(30)[0])


def test_a_slope_is_the_log_log_growth_between_two_sizes():
    runs = [{"images": 1000, "t": 2.0}, {"images": 4000, "t": 32.0}, {"images": 2000, "t": 3.0}]
    assert scale.slope(runs, 1000, 4000, lambda r: r["t"]) == pytest.approx(2.0)
    assert scale.slope(runs, 1000, 2000, lambda r: r["t"]) == pytest.approx(math.log2(1.5))
