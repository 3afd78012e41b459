"""The user's own images (fetch.source: idx, folder, arrays) on real pictures that need no
download: scikit-learn's 1,797 handwritten digits (8×8, 16 grey levels), written by each test
as a folder, an .npz or IDX files; and each bad input, as the fetch and preprocess stages
report it (one line, exit status 1, nothing written)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.data.description import UNLABELLED, read_description, write_description
from fashion_clustering.data.fetch import FetchConfig, sha256
from fashion_clustering.data.idx import encode_idx
from fashion_clustering.data.pictures import fit
from fashion_clustering.data.prepare import prepare
from fashion_clustering.data.sources import IdxFiles, SourceConfig, fetch_source
from fashion_clustering.scratch import digits as scratch_digits, write_pictures

from helpers import gzip_bytes, tinted, tree_snapshot

PROJECT_PARAMS = yaml.safe_load((Path(__file__).parents[2] / "params.yaml").read_text())
NO_FASHION_MNIST = FetchConfig((), None, 1.0)
N_DIGITS = 1797


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as uint8 ``(1797, 8, 8)`` pictures and their labels, ordered by class (as a
    folder of class subfolders lists them)."""
    return scratch_digits()


def source(kind: str, path: Path, **settings) -> SourceConfig:
    """A ``fetch.source`` with the committed params' settings, for ``kind`` at ``path``."""
    values = {key: value for key, value in PROJECT_PARAMS["fetch"]["source"].items() if key != "idx"}
    return SourceConfig(**{**values, "kind": kind, "path": str(path), **settings})


def prepared(tmp_path: Path, config: SourceConfig, **preprocess):
    """The prepared splits and description of the images ``config`` names, and what fetch skipped."""
    raw = tmp_path / f"raw-{len(list(tmp_path.iterdir()))}"
    skipped = fetch_source(raw, NO_FASHION_MNIST, config)
    settings = {**{k: v for k, v in PROJECT_PARAMS["preprocess"].items()}, **preprocess}
    return (*prepare(raw, **settings), skipped)


def assert_same_splits(first, second):
    for split in SPLITS:
        for a, b in zip(first[split], second[split]):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_folder_npz_and_idx_prepare_to_the_same_arrays(tmp_path, digits):
    images, labels = digits
    folder = write_pictures(tmp_path / "digits", images, labels)
    np.savez(tmp_path / "digits.npz", x=images, y=labels)
    idx_dir = tmp_path / "idx"
    idx_dir.mkdir()
    (idx_dir / "images.gz").write_bytes(gzip_bytes(encode_idx(images)))
    (idx_dir / "labels").write_bytes(encode_idx(labels))
    files = IdxFiles("images.gz", "labels", None, None, {"images.gz": sha256(encode_idx(images))})

    from_folder, described, _ = prepared(tmp_path, source("folder", folder))
    from_npz, _, _ = prepared(tmp_path, source("arrays", tmp_path / "digits.npz"))
    from_idx, _, _ = prepared(tmp_path, source("idx", idx_dir, idx=files))
    assert_same_splits(from_folder, from_npz)
    assert_same_splits(from_folder, from_idx)

    assert (described.name, described.image_shape) == ("digits", (8, 8, 1))
    assert described.class_names == tuple(str(c) for c in range(10))
    assert sum(described.counts.values()) == N_DIGITS
    x_train, y_train = from_folder["train"]
    assert x_train.dtype == np.float32 and x_train.shape == (described.counts["train"], 64)
    assert y_train.dtype == np.uint8
    # Held out by class: each class's share of the test images is its share of all of them.
    expected = np.bincount(labels) * described.counts["test"] / N_DIGITS
    assert np.abs(np.bincount(from_folder["test"][1]) - expected).max() <= 1
    # The pixels are the pictures': every prepared row is one of the digits.
    rows = {row.tobytes() for row in (images.reshape(N_DIGITS, -1) / np.float32(255)).astype(np.float32)}
    assert all(row.tobytes() in rows for split in SPLITS for row in from_folder[split][0])


def test_floats_in_an_npz_are_the_same_pictures(tmp_path, digits):
    images, labels = digits
    np.savez(tmp_path / "bytes.npz", x=images, y=labels, class_names=np.array(list("abcdefghij")))
    np.savez(tmp_path / "floats.npz", x=images / 255, y=labels.astype(np.int64))
    from_bytes, described, _ = prepared(tmp_path, source("arrays", tmp_path / "bytes.npz"))
    from_floats, _, _ = prepared(tmp_path, source("arrays", tmp_path / "floats.npz"))
    assert_same_splits(from_bytes, from_floats)
    assert described.class_names == tuple("abcdefghij")


def test_sixteen_bit_pictures_are_scaled_to_eight_bits(tmp_path, digits):
    images, labels = digits
    eight = write_pictures(tmp_path / "eight", images[:200])
    sixteen = tmp_path / "sixteen"
    sixteen.mkdir()
    for i, image in enumerate(images[:200]):
        Image.fromarray(image.astype(np.uint16) * 257).save(sixteen / f"{i:05d}.png")
    assert Image.open(sixteen / "00000.png").mode.startswith("I")
    assert_same_splits(prepared(tmp_path, source("folder", eight))[0], prepared(tmp_path, source("folder", sixteen))[0])


def test_flat_folder_has_no_labels_and_a_seeded_random_split(tmp_path, digits):
    images, _ = digits
    folder = write_pictures(tmp_path / "flat", images)
    splits, described, _ = prepared(tmp_path, source("folder", folder))
    assert described.class_names is None and not described.labelled
    assert described.counts == {"train": 1149, "val": 288, "test": 360}  # 20% of 1,797, then of 1,437, rounded up
    for split in SPLITS:
        assert splits[split][1].dtype == np.int8 and set(splits[split][1]) == {UNLABELLED}
    again, _, _ = prepared(tmp_path, source("folder", folder))
    other, _, _ = prepared(tmp_path, source("folder", folder), seed=1)
    assert_same_splits(splits, again)
    assert not np.array_equal(splits["test"][0], other["test"][0])


def test_train_and_test_subfolders_are_the_splits(tmp_path, digits):
    images, labels = digits
    test = np.arange(N_DIGITS) % 6 == 0
    write_pictures(tmp_path / "split/train", images[~test], labels[~test])
    write_pictures(tmp_path / "split/test", images[test], labels[test])
    splits, described, _ = prepared(tmp_path, source("folder", tmp_path / "split"))
    assert described.counts == {"train": 1197, "val": 300, "test": 300}
    np.testing.assert_array_equal(splits["test"][1], labels[test])
    np.testing.assert_array_equal(np.rint(splits["test"][0] * 255), images[test].reshape(-1, 64))


def test_tinted_digits_are_colour_rows(tmp_path, digits):
    images, labels = digits
    colour = tinted(images, labels)
    folder = write_pictures(tmp_path / "tinted", colour, labels)
    splits, described, _ = prepared(tmp_path, source("folder", folder, channels=3))
    assert described.image_shape == (8, 8, 3)
    assert splits["train"][0].shape[1] == 8 * 8 * 3
    rows = {row.tobytes() for row in (colour.reshape(N_DIGITS, -1) / np.float32(255)).astype(np.float32)}
    assert all(row.tobytes() in rows for split in SPLITS for row in splits[split][0])
    # channels null: colour, since the pictures have colour; the same arrays.
    same, _, _ = prepared(tmp_path, source("folder", folder, channels=None))
    assert_same_splits(splits, same)


def test_grey_pictures_become_colour_when_asked_and_stay_grey_otherwise(tmp_path, digits):
    images, labels = digits
    rgb_but_grey = np.repeat(images[..., None], 3, axis=-1)
    np.savez(tmp_path / "rgb.npz", x=rgb_but_grey, y=labels)
    np.savez(tmp_path / "grey.npz", x=images, y=labels)
    as_grey, described, _ = prepared(tmp_path, source("arrays", tmp_path / "rgb.npz", channels=None))
    assert described.channels == 1
    assert_same_splits(as_grey, prepared(tmp_path, source("arrays", tmp_path / "grey.npz"))[0])
    as_colour, described, _ = prepared(tmp_path, source("arrays", tmp_path / "grey.npz", channels=3))
    assert described.channels == 3
    x = as_colour["train"][0].reshape(-1, 8, 8, 3)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    np.testing.assert_array_equal(x[..., 0].reshape(len(x), -1), as_grey["train"][0])


def test_mixed_sizes_are_fitted_with_their_aspect_kept(tmp_path, digits):
    images, _ = digits
    folder = write_pictures(tmp_path / "mixed", images[:100])
    wide = np.zeros((8, 16), dtype=np.uint8)
    wide[2:6, :] = 255  # a white band across a black picture
    Image.fromarray(wide).save(folder / "wide.png")
    splits, described, _ = prepared(tmp_path, source("folder", folder, image_size=[8, 8]), val_fraction=0.5)
    assert described.image_shape == (8, 8, 1)
    # The wide picture is halved to 8×4 and centred on black: rows 2-5 of 8 become rows 3-4.
    band = np.zeros((8, 8), dtype=np.float32)
    band[3:5, :] = 1
    expected = np.asarray(fit(Image.fromarray(wide), (8, 8))) / np.float32(255)
    np.testing.assert_allclose(expected, band, atol=0.1)
    rows = np.vstack([splits[s][0] for s in SPLITS])
    assert any(np.array_equal(row, expected.reshape(-1).astype(np.float32)) for row in rows)


def test_fit_pads_with_the_border_colour():
    white = np.full((10, 20, 3), 255, dtype=np.uint8)
    white[4:6, 5:15] = [255, 0, 0]
    fitted = np.asarray(fit(Image.fromarray(white), (10, 10)))
    assert fitted.shape == (10, 10, 3)
    assert (fitted[0] == 255).all() and (fitted[-1] == 255).all()  # padding continues the white


def test_description_round_trip(tmp_path, digits):
    _, described, _ = prepared(tmp_path, source("folder", write_pictures(tmp_path / "d", *digits)))
    write_description(tmp_path / "dataset.json", described)
    assert read_description(tmp_path / "dataset.json") == described
    assert read_description(tmp_path / "dataset.json").row_length == 64


# --- the stages, on bad input: one line, exit status 1, nothing written -----------------------

@pytest.fixture
def stages(tmp_path, monkeypatch, run_script):
    """Run fetch, then preprocess, in ``tmp_path`` with ``fetch.source`` updated by the given
    settings; return (status, stderr) of the first that fails, or of preprocess."""
    monkeypatch.chdir(tmp_path)

    def run(**settings):
        params = yaml.safe_load(yaml.safe_dump(PROJECT_PARAMS))
        params["fetch"]["source"].update(settings)
        (tmp_path / "params.yaml").write_text(yaml.safe_dump({key: params[key] for key in ("fetch", "preprocess")}))
        for script, args in (("stages/fetch.py", ("out/raw", "out/fetch.json")),
                             ("stages/preprocess.py", ("out/raw", "out/prepared", "out/dataset.json",
                                                       "out/class_counts.json"))):
            before = tree_snapshot(tmp_path / "out") if (tmp_path / "out").exists() else {}
            status, stderr = run_script(script, *args)
            if status:
                assert len(stderr.splitlines()) == 1 and stderr.startswith("error: "), stderr
                assert (tree_snapshot(tmp_path / "out") if (tmp_path / "out").exists() else {}) == before
                break
        return status, stderr.rstrip("\n").removeprefix("error: ")

    return run


def test_stages_write_the_description_and_the_skipped_files(tmp_path, digits, stages):
    images, labels = digits
    folder = write_pictures(tmp_path / "pictures", images, labels)
    (folder / "5" / "broken.png").write_bytes(b"not a picture")
    (folder / "README.md").write_text("not a picture by its extension: left out")
    status, stderr = stages(kind="folder", path=str(folder))
    assert status == 1
    assert stderr.startswith(f"{folder / '5' / 'broken.png'}: not a picture Pillow reads (")
    assert stderr.endswith(f"1 of {N_DIGITS + 1} pictures are not (set fetch.source.skip_unreadable: true "
                           "to skip them)")
    assert stages(kind="folder", path=str(folder), skip_unreadable=True) == (0, "")
    skipped = json.loads((tmp_path / "out/fetch.json").read_text())
    assert skipped["skipped"] == 1 and skipped["skipped_files"][0].startswith(f"{folder / '5' / 'broken.png'}: ")
    described = read_description(tmp_path / "out/dataset.json")
    assert (described.name, sum(described.counts.values())) == ("pictures", N_DIGITS)
    counts = json.loads((tmp_path / "out/class_counts.json").read_text())
    assert sum(counts["train"].values()) == described.counts["train"] and set(counts["test"]) == set("0123456789")


def write_npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def test_empty_folder(tmp_path, stages):
    (tmp_path / "empty").mkdir()
    status, line = stages(kind="folder", path=str(tmp_path / "empty"))
    assert status == 1
    assert line.startswith(f"{tmp_path / 'empty'}: no pictures; expected files Pillow opens (")


def test_empty_test_folder(tmp_path, digits, stages):
    write_pictures(tmp_path / "split/train", digits[0][:10])
    (tmp_path / "split/test").mkdir()
    status, line = stages(kind="folder", path=str(tmp_path / "split"))
    assert status == 1
    assert line.startswith(f"{tmp_path / 'split/test'}: no pictures; expected files Pillow opens (")


def test_folder_without_a_readable_picture(tmp_path, stages):
    for name in ("a.png", "b.jpg"):
        (tmp_path / "junk").mkdir(exist_ok=True)
        (tmp_path / "junk" / name).write_bytes(b"\x89PNG but not really")
    status, line = stages(kind="folder", path=str(tmp_path / "junk"), skip_unreadable=True)
    assert (status, line.split(" (")[0]) == (1, f"{tmp_path / 'junk'}: no readable picture; none of 2 is")
    assert line.split(" (")[1].startswith("the first, a.png: ")


def test_colour_pictures_when_channels_say_grey(tmp_path, digits, stages):
    images, labels = digits
    pictures = np.repeat(images[:50, ..., None], 3, axis=-1)
    pictures[7] = tinted(images[7:8], np.array([0]))[0]
    folder = write_pictures(tmp_path / "mixed", pictures)
    assert stages(kind="folder", path=str(folder), channels=1) == (1, (
        f"{folder / '00007.png'}: a colour picture (1 of 50 are), expected grey by fetch.source.channels = 1; "
        "set it to 3 or null to keep the colour"))
    assert stages(kind="folder", path=str(folder), channels=None)[0] == 0
    assert read_description(tmp_path / "out/dataset.json").channels == 3


def test_class_too_small_for_the_split(tmp_path, digits, stages):
    images, labels = digits
    folder = write_pictures(tmp_path / "few", images[:60], labels[:60])  # 60 pictures of 0s
    write_pictures(tmp_path / "few", images[-1:], np.array([9]))  # and one of a 9
    status, line = stages(kind="folder", path=str(folder))
    assert status == 1
    assert line.startswith("params.yaml: preprocess.test_fraction = 0.2 cannot keep the class proportions "
                           "of 61 images with class counts [")


def test_labels_outside_class_names(tmp_path, digits, stages):
    images, labels = digits
    path = write_npz(tmp_path / "d.npz", x=images, y=labels, class_names=np.array(["zero", "one"]))
    assert stages(kind="arrays", path=str(path)) == (1, (
        f"{path}: label 9 is outside fetch.source.class_names, which names 2 classes (labels 0..1)"))
    write_pictures(tmp_path / "split/train", images[:10], labels[:10])
    write_pictures(tmp_path / "split/test", images[-10:], labels[-10:])
    assert stages(kind="folder", path=str(tmp_path / "split")) == (1, (
        f"{tmp_path / 'split/test/9'}: a class the training pictures do not have; expected one of 0"))


def test_one_pixel_picture(tmp_path, digits, stages):
    folder = write_pictures(tmp_path / "tiny", digits[0][:5])
    Image.fromarray(np.zeros((1, 1), dtype=np.uint8)).save(folder / "dot.png")
    assert stages(kind="folder", path=str(folder)) == (
        1, f"{folder / 'dot.png'}: a 1×1 picture, expected at least 2 pixels each way")


def test_mixed_sizes_without_image_size(tmp_path, digits, stages):
    folder = write_pictures(tmp_path / "sizes", digits[0][:5])
    Image.fromarray(np.zeros((9, 12), dtype=np.uint8)).save(folder / "big.png")
    assert stages(kind="folder", path=str(folder)) == (1, (
        f"{folder / 'big.png'}: 12×9 pixels, but {folder / '00000.png'} is 8×8; set fetch.source.image_size: "
        "[height, width] to fit pictures of 2 sizes into one"))


def test_wrong_sha256_of_an_idx_file(tmp_path, digits, stages):
    images, labels = digits
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx/images").write_bytes(gzip_bytes(encode_idx(images)))
    files = {"train_images": "images", "train_labels": None, "test_images": None, "test_labels": None,
             "sha256": {"images": "0" * 64}}
    assert stages(kind="idx", path=str(tmp_path / "idx"), idx=files) == (1, (
        f"{tmp_path / 'idx/images'}: SHA-256 of the decompressed file is {sha256(encode_idx(images))}, "
        f"expected {'0' * 64}"))


@pytest.mark.parametrize("arrays, expected", [
    ({"y": np.zeros(3, dtype=np.uint8)}, "no array 'x'; expected images N×H×W or N×H×W×C"),
    ({"x": np.zeros((3, 8, 8), dtype=np.int64)}, "x is int64, expected uint8 or floats in [0, 1]"),
    ({"x": np.full((3, 8, 8), 2.0)}, "x is floats in [2, 2], expected uint8 or floats in [0, 1]"),
    ({"x": np.zeros((3, 8, 8, 4), dtype=np.uint8)},
     "x is (3, 8, 8, 4), expected images N×H×W or N×H×W×C with C 1 or 3, N > 0"),
    ({"x": np.zeros((3, 8, 8), dtype=np.uint8), "y": np.zeros(3)},
     "y is float64 (3,), expected one integer per image (3,)"),
], ids=["no-x", "int64", "out-of-range", "four-channels", "float-labels"])
def test_bad_npz(tmp_path, stages, arrays, expected):
    path = write_npz(tmp_path / "bad.npz", **arrays)
    assert stages(kind="arrays", path=str(path)) == (1, f"{path}: {expected}")
