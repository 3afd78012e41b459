"""From raw IDX files to scaled, split arrays."""

import numpy as np
import pytest

from fashion_clustering.data.dataset import SPLITS, load_split, scale_pixels
from fashion_clustering.data.prepare import class_counts, prepare, save_splits, split_train_val, subsample
from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.errors import PipelineError

from helpers import (
    TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, tiny_arrays, tiny_idx_bytes, write_files,
)


def uneven_labels():
    """Row ids and labels with unequal class sizes: class c has 10 + 3c rows, shuffled."""
    labels = np.repeat(np.arange(10), [10 + 3 * c for c in range(10)]).astype(np.uint8)
    labels = np.random.default_rng(0).permutation(labels)
    return np.arange(len(labels)), labels


def test_scale_pixels():
    images = np.array([[[0, 255], [51, 102]]] * 3, dtype=np.uint8)  # 3 images of 2x2
    scaled = scale_pixels(images)
    assert scaled.dtype == np.float32
    assert scaled.shape == (3, 4)
    np.testing.assert_allclose(scaled[0], [0.0, 1.0, 0.2, 0.4], rtol=1e-6)


def test_scale_pixels_full_images():
    images = tiny_arrays(n_train=20)[TRAIN_IMAGES]
    scaled = scale_pixels(images)
    assert scaled.shape == (20, 784) and scaled.dtype == np.float32
    assert scaled.min() >= 0.0 and scaled.max() <= 1.0
    np.testing.assert_array_equal(np.rint(scaled * 255).astype(np.uint8), images.reshape(20, -1))


def test_split_is_stratified():
    ids, labels = uneven_labels()
    (x_train, y_train), (x_val, y_val) = split_train_val(ids, labels, 0.2, seed=0)
    total = np.bincount(labels, minlength=10)
    val = np.bincount(y_val, minlength=10)
    train = np.bincount(y_train, minlength=10)
    np.testing.assert_array_equal(train + val, total)
    assert np.all(np.abs(val - 0.2 * total) <= 1), (val, total)
    assert len(y_val) == int(np.ceil(0.2 * len(labels)))


def test_split_is_disjoint_complete_and_keeps_row_order():
    ids, labels = uneven_labels()
    (x_train, y_train), (x_val, y_val) = split_train_val(ids, labels, 0.25, seed=3)
    assert set(x_train).isdisjoint(x_val)
    np.testing.assert_array_equal(np.sort(np.concatenate([x_train, x_val])), ids)
    assert np.all(np.diff(x_train) > 0) and np.all(np.diff(x_val) > 0)
    np.testing.assert_array_equal(y_train, labels[x_train])
    np.testing.assert_array_equal(y_val, labels[x_val])


def test_split_is_seeded():
    ids, labels = uneven_labels()
    first = split_train_val(ids, labels, 0.2, seed=0)
    again = split_train_val(ids, labels, 0.2, seed=0)
    other = split_train_val(ids, labels, 0.2, seed=1)
    np.testing.assert_array_equal(first[1][0], again[1][0])
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(first[1][0], other[1][0])


def test_split_too_small_is_pipeline_error():
    ids = np.arange(12)
    labels = np.arange(12) % 10  # classes 2..9 have a single image: cannot stratify
    with pytest.raises(PipelineError) as info:
        split_train_val(ids, labels, 0.5, seed=0)
    assert str(info.value).startswith(
        "params.yaml: preprocess.val_fraction = 0.5 cannot keep the class proportions of 12 images "
        "with class counts [2, 2, 1, 1, 1, 1, 1, 1, 1, 1] (")


def test_stratified_subsample():
    ids, labels = uneven_labels()
    x, y = subsample(ids, labels, 100, seed=0, param="p")
    assert len(x) == len(y) == 100
    np.testing.assert_array_equal(y, labels[x])
    assert np.all(np.diff(x) > 0)  # original order kept
    expected = 100 * np.bincount(labels, minlength=10) / len(labels)
    assert np.all(np.abs(np.bincount(y, minlength=10) - expected) <= 1)


@pytest.mark.parametrize("size", [None, 235, 1000])
def test_stratified_subsample_keeps_all(size):
    ids, labels = uneven_labels()
    assert len(labels) == 235
    x, y = subsample(ids, labels, size, seed=0, param="p")
    np.testing.assert_array_equal(x, ids)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("size, counts, cause", [
    (10, [19, 1], "only 1 member"),            # a class of one cannot be in both parts
    (25, [13, 13], "test_size = 1 should be"),  # one row left out cannot represent two classes
], ids=["singleton-class", "too-few-left-out"])
def test_stratified_subsample_error_names_the_key_and_class_counts(size, counts, cause):
    labels = np.repeat(np.arange(len(counts)), counts)
    with pytest.raises(PipelineError) as info:
        subsample(np.arange(len(labels)), labels, size, seed=0,
                             param="preprocess.max_train_images")
    message = str(info.value)
    assert message.startswith(f"params.yaml: preprocess.max_train_images = {size} cannot keep the "
                              f"class proportions of {len(labels)} images with class counts {counts} (")
    assert cause in message and "\n" not in message


def test_class_counts():
    counts = class_counts(np.array([0, 0, 9, 3], dtype=np.uint8))
    assert list(counts) == list(CLASS_NAMES)
    assert len(counts) == 10
    assert counts["T-shirt/top"] == 2 and counts["Ankle boot"] == 1 and counts["Dress"] == 1
    assert sum(counts.values()) == 4
    assert all(isinstance(v, int) for v in counts.values())


@pytest.fixture
def raw_dir(tmp_path):
    return write_files(tmp_path / "raw", tiny_idx_bytes(n_train=200, n_test=50))


def test_prepare_shapes_and_test_untouched(raw_dir):
    raw = tiny_arrays(n_train=200, n_test=50)
    splits = prepare(raw_dir, val_fraction=0.2, test_fraction=0.2, seed=0)[0]
    assert set(splits) == set(SPLITS)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (splits[s] for s in SPLITS)
    assert x_train.shape == (160, 784) and y_train.shape == (160,)
    assert x_val.shape == (40, 784) and y_val.shape == (40,)
    assert x_test.shape == (50, 784) and y_test.shape == (50,)
    assert {x.dtype for x in (x_train, x_val, x_test)} == {np.dtype(np.float32)}
    # 20 per class: exactly 16 train and 4 val per class.
    assert np.bincount(y_train).tolist() == [16] * 10
    assert np.bincount(y_val).tolist() == [4] * 10
    # Test rows: the scaled test images, all of them, in file order.
    np.testing.assert_array_equal(x_test, scale_pixels(raw[TEST_IMAGES]))
    np.testing.assert_array_equal(y_test, raw[TEST_LABELS])
    # Train + val: exactly the training images, each once, with its own label.
    all_train = scale_pixels(raw[TRAIN_IMAGES])
    rows = {row.tobytes(): label for row, label in zip(all_train, raw[TRAIN_LABELS])}
    got = [(row.tobytes(), label) for row, label in zip(np.vstack([x_train, x_val]),
                                                      np.concatenate([y_train, y_val]))]
    assert len({row for row, _ in got}) == 200
    assert all(rows[row] == label for row, label in got)


def test_prepare_with_subsamples(raw_dir):
    splits = prepare(raw_dir, val_fraction=0.2, test_fraction=0.2, seed=0, max_train_images=100,
                     max_test_images=20)[0]
    assert len(splits["train"][1]) == 80 and len(splits["val"][1]) == 20
    assert np.bincount(splits["test"][1]).tolist() == [2] * 10
    assert splits["test"][0].shape == (20, 784)


def test_prepare_is_seeded(raw_dir):
    first, again = prepare(raw_dir, 0.2, 0.2, seed=5)[0], prepare(raw_dir, 0.2, 0.2, seed=5)[0]
    for split in SPLITS:
        np.testing.assert_array_equal(first[split][0], again[split][0])
        np.testing.assert_array_equal(first[split][1], again[split][1])


def test_prepare_bad_raw_file(raw_dir):
    (raw_dir / TRAIN_LABELS).write_bytes((raw_dir / TRAIN_LABELS).read_bytes()[:-1])
    with pytest.raises(PipelineError, match=TRAIN_LABELS):
        prepare(raw_dir, 0.2, 0.2, seed=0)


def test_save_and_load_splits(tmp_path, raw_dir):
    splits = prepare(raw_dir, val_fraction=0.2, test_fraction=0.2, seed=0)[0]
    out = tmp_path / "prepared"
    out.mkdir()
    save_splits(out, splits)
    assert sorted(p.name for p in out.iterdir()) == ["test.npz", "train.npz", "val.npz"]
    for split in SPLITS:
        x, y = load_split(out, split)
        assert x.dtype == splits[split][0].dtype and y.dtype == splits[split][1].dtype
        np.testing.assert_array_equal(x, splits[split][0])
        np.testing.assert_array_equal(y, splits[split][1])


def test_load_split_missing_file(tmp_path):
    with pytest.raises(PipelineError, match="train.npz"):
        load_split(tmp_path, "train")
