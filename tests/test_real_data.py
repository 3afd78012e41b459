"""The real dataset: the official checksums and the split sizes the pipeline relies on."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from fashion_clustering.dataset import class_counts, prepare
from fashion_clustering.fetch import OFFICIAL_SHA256, fetch_dataset

pytestmark = pytest.mark.real_data


def test_real_files_match_the_official_checksums_and_split_as_designed(real_data, tmp_path):
    raw = tmp_path / "raw"
    fetch_dataset(raw, [real_data], base_url=None, timeout=1)
    for name, digest in OFFICIAL_SHA256.items():
        assert hashlib.sha256((raw / name).read_bytes()).hexdigest() == digest

    splits = prepare(raw, val_fraction=0.2, seed=0)
    sizes = {name: len(y) for name, (_, y) in splits.items()}
    assert sizes == {"train": 48_000, "val": 12_000, "test": 10_000}
    for name, per_class in {"train": 4800, "val": 1200, "test": 1000}.items():
        assert set(class_counts(splits[name][1]).values()) == {per_class}
    x_train = splits["train"][0]
    assert x_train.shape == (48_000, 784) and x_train.dtype == np.float32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
