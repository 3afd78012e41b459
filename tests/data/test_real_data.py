"""The real dataset: the official checksums and the split sizes the pipeline relies on."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from fashion_clustering.data.prepare import class_counts, prepare
from fashion_clustering.data.fetch import OFFICIAL_SHA256, fetch_dataset
from fashion_clustering.errors import PipelineError

pytestmark = pytest.mark.real_data


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
