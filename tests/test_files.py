"""Atomic, byte-stable writers."""

import errno
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fashion_clustering import files
from fashion_clustering.errors import PipelineError
from fashion_clustering.files import (
    atomic_path, load_arrays, outputs_together, save_arrays, write_json, write_zip,
)


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


def make_output(path, kind, content):
    """A file holding ``content``, or a directory holding it in ``a.txt``."""
    if kind == "file":
        path.write_text(content)
    else:
        path.mkdir()
        (path / "a.txt").write_text(content)


def read_output(path):
    return path.read_text() if path.is_file() else {p.name: p.read_text() for p in path.iterdir()}


class InstallWatch:
    """Records, after each step that moves or deletes outputs, whether the target exists:
    a target missing after any step would be lost to a crash at that moment."""

    def __init__(self, target):
        self.target, self.steps = target, []

    def wrap(self, name, function):
        def step(*args):
            result = function(*args)
            self.steps.append((name, files._exists(self.target)))
            return result
        return step


@pytest.fixture
def watch(monkeypatch, tmp_path):
    watcher = InstallWatch(tmp_path / "out")
    for name in ("_exchange", "_remove"):
        monkeypatch.setattr(files, name, watcher.wrap(name, getattr(files, name)))
    monkeypatch.setattr(files.os, "replace", watcher.wrap("replace", os.replace))
    return watcher


@pytest.mark.parametrize("old_kind, new_kind", [
    ("file", "file"), ("dir", "dir"), ("file", "dir"), ("dir", "file")])
def test_atomic_path_target_never_missing(tmp_path, watch, old_kind, new_kind):
    make_output(watch.target, old_kind, "old")
    old = read_output(watch.target)
    with atomic_path(watch.target) as tmp:
        make_output(tmp, new_kind, "new")
        assert read_output(watch.target) == old
    assert read_output(watch.target) == ("new" if new_kind == "file" else {"a.txt": "new"})
    assert watch.steps and all(exists for _, exists in watch.steps), watch.steps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_path_without_exchange_moves_the_old_directory_aside(tmp_path, monkeypatch):
    """Where renameat2 cannot swap, the old directory is renamed aside, then the new one in."""
    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    target = tmp_path / "out"
    make_output(target, "dir", "old")
    with atomic_path(target) as tmp:
        make_output(tmp, "dir", "new")
    assert read_output(target) == {"a.txt": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_path_failed_second_rename_puts_the_old_directory_back(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    replace, calls = files.os.replace, []

    def replace_failing_on_the_new_output(source, destination):
        calls.append(Path(source).name)
        if Path(source).name == ".out.tmp":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(source))
        replace(source, destination)

    monkeypatch.setattr(files.os, "replace", replace_failing_on_the_new_output)
    target = tmp_path / "out"
    make_output(target, "dir", "old")
    with pytest.raises(OSError, match="Input/output error"):
        with atomic_path(target) as tmp:
            make_output(tmp, "dir", "new")
    assert calls == ["out", ".out.tmp", ".out.old"]
    assert read_output(target) == {"a.txt": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("new_made_it", [False, True])
def test_atomic_path_recovers_from_a_crash_between_the_two_renames(tmp_path, new_made_it):
    """A killed run can leave the old output aside; the next write to the target brings it
    back (or drops it, if the new output had already taken its place)."""
    target = tmp_path / "out"
    make_output(tmp_path / ".out.old", "dir", "old")
    if new_made_it:
        make_output(target, "dir", "new")
    with pytest.raises(RuntimeError):
        with atomic_path(target):
            raise RuntimeError("this run fails too")
    assert read_output(target) == {"a.txt": "new" if new_made_it else "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_path_charges_a_nameless_system_error_to_the_target(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(OSError) as info:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a failed write() says it
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(target))
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


# --- outputs_together ----------------------------------------------------------------------

def test_outputs_together_installs_all_at_the_end(tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "plots"
    first.write_text("old")
    with outputs_together():
        write_json(first, {"new": 1})
        assert first.read_text() == "old"  # held back until every output is complete
        with atomic_path(second) as tmp:
            tmp.mkdir()
            write_json(tmp / "nested.json", [])  # an output inside another's temporary path
    assert json.loads(first.read_text()) == {"new": 1}
    assert json.loads((second / "nested.json").read_text()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "plots"]


def test_outputs_together_failure_on_a_later_output_keeps_the_earlier_one(tmp_path):
    first, second = tmp_path / "model.pkl", tmp_path / "assignments.npz"
    first.write_text("old model")
    with pytest.raises(OSError):
        with outputs_together():
            with atomic_path(first) as tmp:
                tmp.write_text("new model")
            with atomic_path(second) as tmp:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert first.read_text() == "old model"
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pkl"]
    write_json(first, {})  # outside the block, outputs are installed at once again
    assert first.read_text() == "{}\n"


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


def test_read_pickle_of_a_class_from_a_moved_module(tmp_path):
    """A model pickled before the package was grouped into folders names its class's old
    module (``fashion_clustering.equal_size``): one line that says to rerun, not a traceback."""
    from fashion_clustering.files import read_pickle

    (tmp_path / "old.pkl").write_bytes(b"cfashion_clustering.equal_size\nEqualSizeKMeans\n)\x81.")
    with pytest.raises(PipelineError, match=r"old.pkl: not a readable pickled model \(No module "
                                            r"named 'fashion_clustering.equal_size'\); run dvc repro$"):
        read_pickle(tmp_path / "old.pkl", "run dvc repro")


def test_an_output_inside_another_outputs_directory_is_in_place_at_once(tmp_path):
    """A figure written into a report directory under construction can be read back at once
    (to embed it in a PDF); the directory itself still waits for the stage to succeed."""
    with files.outputs_together():
        with atomic_path(tmp_path / "report") as tmp:
            tmp.mkdir()
            with atomic_path(tmp / "figure.png") as inner:
                inner.write_text("png")
            assert (tmp / "figure.png").read_text() == "png"
        assert not (tmp_path / "report").exists()
    assert (tmp_path / "report" / "figure.png").read_text() == "png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
