"""Atomic, byte-stable writers."""

import json
import time
import zipfile

import numpy as np
import pytest

from fashion_clustering.errors import PipelineError
from fashion_clustering.files import atomic_path, load_arrays, save_arrays, write_json, write_zip


def sample_arrays():
    return {
        "x": np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4),
        "y": np.array([3, 1, 4], dtype=np.uint8),
        "ids": np.arange(5, dtype=np.int64),
    }


def test_save_arrays_is_byte_stable(tmp_path):
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    save_arrays(first, sample_arrays())
    time.sleep(1.1)  # a zip timestamp from the clock would differ now
    save_arrays(second, {name: array.copy() for name, array in sample_arrays().items()})
    assert first.read_bytes() == second.read_bytes()
    save_arrays(first, sample_arrays())  # overwriting in place gives the same bytes too
    assert first.read_bytes() == second.read_bytes()


def test_save_arrays_different_content_different_bytes(tmp_path):
    arrays = sample_arrays()
    save_arrays(tmp_path / "a.npz", arrays)
    arrays["y"] = np.array([3, 1, 5], dtype=np.uint8)
    save_arrays(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "b.npz").read_bytes()


def test_save_arrays_is_a_plain_npz(tmp_path):
    path = tmp_path / "arrays.npz"
    save_arrays(path, sample_arrays())
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["x.npy", "y.npy", "ids.npy"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with np.load(path) as loaded:
        np.testing.assert_array_equal(loaded["x"], sample_arrays()["x"])


def test_load_arrays_round_trip(tmp_path):
    path = tmp_path / "sub" / "arrays.npz"  # the parent directory is created
    save_arrays(path, sample_arrays())
    loaded = load_arrays(path, ("y", "x"))
    assert list(loaded) == ["y", "x"]
    for name in ("x", "y"):
        assert loaded[name].dtype == sample_arrays()[name].dtype
        np.testing.assert_array_equal(loaded[name], sample_arrays()[name])


def test_load_arrays_missing_name(tmp_path):
    path = tmp_path / "arrays.npz"
    save_arrays(path, sample_arrays())
    with pytest.raises(PipelineError) as info:
        load_arrays(path, ("x", "test", "y"))
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert "missing ['test']" in message


def test_load_arrays_not_a_zip(tmp_path):
    path = tmp_path / "arrays.npz"
    path.write_text("this is not an archive\n")
    with pytest.raises(PipelineError, match="not a readable .npz archive") as info:
        load_arrays(path, ("x",))
    assert str(path) in str(info.value)


def test_load_arrays_missing_file(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(PipelineError, match="absent.npz"):
        load_arrays(path, ("x",))


def test_load_arrays_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    with pytest.raises(PipelineError, match="empty.npz"):
        load_arrays(path, ("x",))


def test_load_arrays_single_npy_file(tmp_path):
    path = tmp_path / "array.npz"
    with path.open("wb") as handle:
        np.save(handle, np.arange(3))
    with pytest.raises(PipelineError, match="array.npz"):
        load_arrays(path, ("x",))


def test_write_zip_and_json_are_byte_stable(tmp_path):
    write_zip(tmp_path / "a.zip", {"b.txt": b"two", "a.txt": b"one"})
    write_json(tmp_path / "a.json", {"b": 2, "a": [1.5, None]})
    time.sleep(1.1)
    write_zip(tmp_path / "b.zip", {"b.txt": b"two", "a.txt": b"one"})
    write_json(tmp_path / "b.json", {"a": [1.5, None], "b": 2})
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "a.json").read_text() == '{\n  "a": [\n    1.5,\n    null\n  ],\n  "b": 2\n}\n'
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "b.json").read_text()) == {"a": [1.5, None], "b": 2}


# --- atomic_path ---------------------------------------------------------------------------

def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_path_failure_leaves_target_untouched(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            assert tmp.parent == target.parent and tmp != target
            tmp.write_text("half-written")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_atomic_path_failure_creates_no_target(tmp_path):
    target = tmp_path / "new.txt"
    with pytest.raises(PipelineError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise PipelineError("bad input")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_success_replaces_target(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # not replaced before the block ends
    assert target.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_atomic_path_directory(tmp_path):
    target = tmp_path / "plots"
    target.mkdir()
    (target / "stale.png").write_bytes(b"stale")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a.csv").write_text("1\n")
        (tmp / "nested").mkdir()
        (tmp / "nested" / "b.csv").write_text("2\n")
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "a.csv", "nested", "nested/b.csv"]
    assert leftovers(tmp_path) == []

    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "partial.csv").write_text("partial")
            raise ValueError("stage failed")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "nested"]
    assert leftovers(tmp_path) == []


def test_atomic_path_clears_stale_temporary(tmp_path):
    target = tmp_path / "out"
    stale = tmp_path / ".out.tmp"
    stale.mkdir()
    (stale / "junk").write_text("from a killed run")
    with atomic_path(target) as tmp:
        assert not tmp.exists()
        tmp.mkdir()
    assert target.is_dir() and list(target.iterdir()) == []
    assert leftovers(tmp_path) == []


def test_atomic_path_keeps_the_target_when_nothing_was_written(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("previous")
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(target):
            pass
    assert target.read_text() == "previous"


PICKLE_A_NUMBA_FUNCTION = """
import sys
from umap.distances import euclidean
from fashion_clustering.files import write_pickle
write_pickle(sys.argv[1], {"metric": euclidean, "shape": (28, 28)})
"""


def test_write_pickle_is_byte_stable_across_processes(tmp_path):
    import os
    import subprocess
    import sys

    from fashion_clustering.files import read_pickle

    paths = [tmp_path / "one.pkl", tmp_path / "two" / "two.pkl"]
    for seed, path in zip(("1", "2"), paths):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-c", PICKLE_A_NUMBA_FUNCTION, str(path)], check=True, env=env)
    data = paths[0].read_bytes()
    assert data == paths[1].read_bytes()
    assert b"distances.py" not in data  # pickled by name, not with its source file's path
    loaded = read_pickle(paths[0], "make it")
    assert loaded["metric"](np.zeros(2), np.array([3.0, 4.0])) == 5.0


def test_read_pickle_missing_or_corrupt(tmp_path):
    from fashion_clustering.files import read_pickle

    with pytest.raises(PipelineError, match=r"missing.pkl: not found; run dvc repro"):
        read_pickle(tmp_path / "missing.pkl", "run dvc repro")
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.raises(PipelineError, match=r"bad.pkl: not a readable pickled model"):
        read_pickle(tmp_path / "bad.pkl", "run dvc repro")
