"""Atomic, byte-stable writers: DVC hashes every output, so same content means same bytes,
and a failed stage must leave nothing half-written behind."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .errors import PipelineError

# A fixed timestamp keeps zip archives (.npz, .keras) byte-identical from run to run.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; move it into place only if the block succeeds.

    Works for files and directories alike: whatever the block creates at the temporary
    path replaces ``path`` on success and is deleted on failure.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    _remove(tmp)
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            raise FileNotFoundError(f"{target}: nothing was written to {tmp}")
        _remove(target)
        os.replace(tmp, target)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON with sorted keys, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_zip(path: str | os.PathLike[str], entries: Mapping[str, bytes]) -> None:
    """Write an uncompressed zip archive whose entries all carry a fixed timestamp."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in entries.items():
                archive.writestr(zipfile.ZipInfo(name, _ZIP_EPOCH), data)


def save_arrays(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to an ``.npz`` archive readable by :func:`numpy.load`.

    Unlike :func:`numpy.savez`, equal arrays give equal bytes.
    """
    entries = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
        entries[f"{name}.npy"] = buffer.getvalue()
    write_zip(path, entries)


def load_arrays(path: str | os.PathLike[str], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read the named arrays from an ``.npz`` archive, failing clearly on a missing one."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise PipelineError(f"{path}: not a readable .npz archive ({error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise PipelineError(f"{path}: expected a .npz archive of arrays {list(names)}, found one array")
    with archive:
        missing = [name for name in names if name not in archive.files]
        if missing:
            raise PipelineError(f"{path}: expected arrays {list(names)}, missing {missing}")
        return {name: archive[name] for name in names}


def _import_attribute(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


class _StablePickler(pickle.Pickler):
    """Pickles Numba-compiled functions (as umap-learn and pynndescent keep on their
    models) by module and name: by value they carry a random id and the absolute path of
    their source file, so equal models would pickle to different bytes."""

    def reducer_override(self, obj: Any) -> Any:
        function = getattr(obj, "py_func", None)
        if function is not None and type(obj).__module__.startswith("numba."):
            module, name = function.__module__, function.__qualname__
            published = getattr(importlib.import_module(module), name, None)
            if getattr(published, "py_func", None) is function:
                return _import_attribute, (module, name)
        return NotImplemented


def write_pickle(path: str | os.PathLike[str], obj: Any) -> None:
    """Pickle ``obj`` atomically; equal objects give equal bytes wherever the project lives."""
    buffer = io.BytesIO()
    _StablePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def read_json(path: str | os.PathLike[str], hint: str) -> Any:
    """Read a JSON file the pipeline wrote; a missing one fails with ``hint`` (how to make it)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise PipelineError(f"{path}: not found; {hint}") from error
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: expected a JSON file ({error})") from error


def read_pickle(path: str | os.PathLike[str], hint: str) -> Any:
    """Unpickle a model the pipeline wrote; a missing one fails with ``hint`` (how to make it)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as error:
        raise PipelineError(f"{path}: not found; {hint}") from error
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from error
    try:
        return pickle.loads(data)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        raise PipelineError(f"{path}: not a readable pickled model ({error}); {hint}") from error
