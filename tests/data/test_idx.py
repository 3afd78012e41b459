"""IDX parsing, validation and writing."""

import struct

import numpy as np
import pytest

from fashion_clustering.data.idx import encode_idx, load_images_and_labels, parse_idx, read_idx
from fashion_clustering.errors import PipelineError

from helpers import tiny_split


def test_encode_idx_header_is_big_endian_ubyte():
    data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data[:4] == b"\x00\x00\x08\x02"
    assert struct.unpack(">2I", data[4:12]) == (2, 3)
    assert data[12:] == bytes(range(6))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 28, 28), (0, 28, 28)])
def test_parse_encode_round_trip(shape):
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    parsed = parse_idx(encode_idx(array), ndim=len(shape), source="mem")
    assert parsed.dtype == np.uint8
    assert parsed.shape == shape
    np.testing.assert_array_equal(parsed, array)


def test_read_idx_from_file(tmp_path):
    images, labels = tiny_split(7, seed=3)
    (tmp_path / "img").write_bytes(encode_idx(images))
    (tmp_path / "lbl").write_bytes(encode_idx(labels))
    np.testing.assert_array_equal(read_idx(tmp_path / "img", ndim=3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "lbl", ndim=1), labels)


def test_read_idx_missing_file_names_it(tmp_path):
    with pytest.raises(PipelineError, match="nowhere-idx"):
        read_idx(tmp_path / "nowhere-idx", ndim=1)


@pytest.mark.parametrize(
    "content, found",
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 3) + bytes(3), "0x01000801"),  # wrong first bytes
        (b"\x00\x00\x0d\x01" + struct.pack(">I", 3) + bytes(3), "0x00000d01"),  # float type code
        (b"\x00\x00\x08\x03" + struct.pack(">I", 3) + bytes(3), "0x00000803"),  # three dimensions
        (b"\x00\x00", "0x0000"),  # the whole file: too short to hold a magic number
        (b"", "an empty file"),
    ],
    ids=["first-bytes", "type-code", "ndim", "short", "empty"],
)
def test_bad_magic_names_file(tmp_path, content, found):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(PipelineError) as info:
        read_idx(path, ndim=1)
    assert str(info.value) == (f"{path}: bad IDX magic number {found}, expected 0x00000801 "
                               "(unsigned bytes, 1 dimension)")


def test_truncated_data_names_file(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(encode_idx(np.zeros((4, 28, 28), np.uint8))[:-10])
    with pytest.raises(PipelineError, match="images-idx3-ubyte") as info:
        read_idx(path, ndim=3)
    assert "(4, 28, 28)" in str(info.value)


def test_truncated_header_names_file(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(encode_idx(np.zeros((4, 28, 28), np.uint8))[:10])
    with pytest.raises(PipelineError, match="images-idx3-ubyte"):
        read_idx(path, ndim=3)


def test_extra_bytes_names_file(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(encode_idx(np.arange(5, dtype=np.uint8)) + b"\x00")
    with pytest.raises(PipelineError, match="labels-idx1-ubyte") as info:
        read_idx(path, ndim=1)
    assert "file has 14" in str(info.value)


def write_pair(tmp_path, images, labels):
    images_path, labels_path = tmp_path / "images-idx3-ubyte", tmp_path / "labels-idx1-ubyte"
    images_path.write_bytes(encode_idx(images))
    labels_path.write_bytes(encode_idx(labels))
    return images_path, labels_path


def test_load_images_and_labels(tmp_path):
    images, labels = tiny_split(20, seed=4)
    x, y = load_images_and_labels(*write_pair(tmp_path, images, labels))
    assert x.shape == (20, 28, 28) and y.shape == (20,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_count_mismatch_names_labels_file(tmp_path):
    images, labels = tiny_split(10, seed=5)
    images_path, labels_path = write_pair(tmp_path, images, labels[:9])
    with pytest.raises(PipelineError) as info:
        load_images_and_labels(images_path, labels_path)
    message = str(info.value)
    assert message.startswith(f"{labels_path}:")
    assert "9 labels for 10 images" in message


def test_label_out_of_range(tmp_path):
    images, labels = tiny_split(10, seed=6)
    labels = labels.copy()
    labels[3] = 10
    images_path, labels_path = write_pair(tmp_path, images, labels)
    with pytest.raises(PipelineError) as info:
        load_images_and_labels(images_path, labels_path)
    message = str(info.value)
    assert str(labels_path) in message
    assert "label 10" in message
    assert "0..9" in message


def test_wrong_image_shape(tmp_path):
    images = np.zeros((3, 27, 28), np.uint8)
    images_path, labels_path = write_pair(tmp_path, images, np.zeros(3, np.uint8))
    with pytest.raises(PipelineError) as info:
        load_images_and_labels(images_path, labels_path)
    message = str(info.value)
    assert str(images_path) in message
    assert "(27, 28)" in message and "(28, 28)" in message
