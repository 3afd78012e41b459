"""The real dataset: the official checksums and the split sizes the pipeline relies on, and
its images read as PNG files."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
from PIL import Image

from fashion_clustering.data.fetch import OFFICIAL_SHA256, FetchConfig, fetch_dataset
from fashion_clustering.data.idx import encode_idx, parse_idx
from fashion_clustering.data.prepare import class_counts, prepare
from fashion_clustering.data.sources import IdxFiles, SourceConfig, fetch_source
from fashion_clustering.errors import PipelineError

pytestmark = pytest.mark.real_data
# The real images written as PNG files, per split: enough for every class, quick to write.
PNG_SAMPLE = {"train": 1500, "test": 500}


@pytest.fixture(scope="module")
def decompressed(real_data):
    """The real files, decompressed here rather than by the code under test."""
    return {name: gzip.decompress((real_data / f"{name}.gz").read_bytes()) for name in OFFICIAL_SHA256}


def test_real_files_match_the_official_checksums_and_split_as_designed(real_data, decompressed, tmp_path):
    assert {name: hashlib.sha256(data).hexdigest() for name, data in decompressed.items()} == OFFICIAL_SHA256
    raw = tmp_path / "raw"
    origin = fetch_dataset(raw, [real_data], base_url=None, timeout=1)
    assert origin == {name: str(real_data / f"{name}.gz") for name in OFFICIAL_SHA256}
    assert {name: (raw / name).read_bytes() for name in OFFICIAL_SHA256} == decompressed

    splits, description = prepare(raw, val_fraction=0.2, test_fraction=0.2, seed=0)
    assert (description.name, description.image_shape) == ("Fashion-MNIST", (28, 28, 1))
    sizes = {name: len(y) for name, (_, y) in splits.items()}
    assert sizes == {"train": 48_000, "val": 12_000, "test": 10_000}
    for name, per_class in {"train": 4800, "val": 1200, "test": 1000}.items():
        assert set(class_counts(splits[name][1]).values()) == {per_class}
    x_train = splits["train"][0]
    assert x_train.shape == (48_000, 784) and x_train.dtype == np.float32
    assert x_train.min() == 0.0 and x_train.max() == 1.0


def test_one_changed_byte_in_a_real_file_is_refused(real_data, decompressed, tmp_path):
    """fetch checks the real files against the official table by default, byte for byte."""
    name = "train-labels-idx1-ubyte"
    altered = bytearray(decompressed[name])
    altered[-1] = (altered[-1] + 1) % 10  # still a valid label: only the checksum can tell
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    (tampered / name).write_bytes(bytes(altered))
    with pytest.raises(PipelineError) as info:
        fetch_dataset(tmp_path / "raw", [tampered, real_data], base_url=None, timeout=1)
    assert str(info.value).startswith(f"{tampered / name}: SHA-256 of the decompressed file is ")
    assert str(info.value).endswith(f"expected {OFFICIAL_SHA256[name]}")
    assert not (tmp_path / "raw").exists()


def test_fashion_mnist_as_png_files_prepares_to_the_same_arrays_as_its_idx_files(real_data, decompressed, tmp_path):
    """A sample of the real images as PNG files in train/<class>/ and test/<class>/, and as IDX
    files in the same order (by class, as a folder lists them): the same prepared arrays."""
    sample = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", PNG_SAMPLE["train"]),
              "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", PNG_SAMPLE["test"])}
    idx_dir, folder, files = tmp_path / "idx", tmp_path / "pictures", {}
    idx_dir.mkdir()
    for split, (images_file, labels_file, size) in sample.items():
        images = parse_idx(decompressed[images_file], 3, images_file)[:size]
        labels = parse_idx(decompressed[labels_file], 1, labels_file)[:size]
        order = np.argsort(labels, kind="stable")
        for i in order:
            (folder / split / str(labels[i])).mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(folder / split / str(labels[i]) / f"{i:05d}.png")
        (idx_dir / images_file).write_bytes(encode_idx(images[order]))
        (idx_dir / labels_file).write_bytes(encode_idx(labels[order]))
        files[f"{split}_images"], files[f"{split}_labels"] = images_file, labels_file
    settings = {"name": None, "channels": None, "image_size": None, "class_names": None, "skip_unreadable": False}
    prepared = []
    for config in (SourceConfig("folder", str(folder), **settings),
                   SourceConfig("idx", str(idx_dir), **settings, idx=IdxFiles(**files, sha256={}))):
        fetch_source(tmp_path / config.kind, FetchConfig((), None, 1.0), config)
        prepared.append(prepare(tmp_path / config.kind, val_fraction=0.2, test_fraction=0.2, seed=0))
    (from_folder, described), (from_idx, _) = prepared
    assert described.counts == {"train": 1200, "val": 300, "test": 500}
    assert described.image_shape == (28, 28, 1)
    for split, (x, y) in from_folder.items():
        np.testing.assert_array_equal(x, from_idx[split][0])
        np.testing.assert_array_equal(y, from_idx[split][1])
