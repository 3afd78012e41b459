"""Atomic, byte-stable writers: DVC hashes every output, so same content means same bytes,
and a failed stage must leave nothing half-written behind.

Under ``dvc repro`` a temporary file and ``os.replace`` would be enough: DVC deletes a
stage's outputs before running it, so there is no previous output to keep. The rest, about
half of this module (a directory swapped in by ``renameat2``, an old output set aside and
put back after a crash, :func:`outputs_together`), keeps the previous outputs whole when a
stage runs outside DVC's deletion: its script run by hand (``python -m stages.<name>``, as
the end-to-end tests, the benchmark's scratch projects and docs/pipeline.md's promise do),
where a failed or killed stage must leave the last good outputs as they were, all of them.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import errno
import importlib
import importlib.metadata
import io
import json
import logging
import os
import pickle
import platform
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .errors import PipelineError, not_found

log = logging.getLogger(__name__)

# A fixed timestamp keeps zip archives (.npz, .keras) byte-identical from run to run.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# The packages whose code computes the models (Python too): a model made under other versions
# may predict otherwise, so every model file records them and every loader compares them.
MODEL_PACKAGES = ("numpy", "scikit-learn", "tensorflow", "keras", "umap-learn")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; move it into place only if the block succeeds.

    Works for files and directories alike: whatever the block creates at the temporary
    path replaces ``path`` on success and is deleted on failure. The old output stays in
    place until the new one takes over in one rename (see :func:`_install`), so a failure
    or a crash at any point leaves either the old output or the new one, never neither.
    Inside :func:`outputs_together`, that rename waits for the end of its block.
    A system error that names no file (a full disk, say) is charged to ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp, aside = (target.with_name(f".{target.name}.{suffix}") for suffix in ("tmp", "old"))
    _restore(target, aside)
    _remove(tmp)
    # Inside another output's temporary directory, that output's own rename covers this one.
    pending = None if any(outer in target.parents for outer in _OPEN.get()) else _PENDING.get()
    held, token = False, _OPEN.set(_OPEN.get() + (tmp,))
    try:
        yield tmp
        if not _exists(tmp):
            raise FileNotFoundError(f"{target}: nothing was written to {tmp}")
        if pending is None:
            _install(tmp, target, aside)
        else:  # outputs_together() now owns the temporary path
            pending.append((tmp, target, aside))
            held = True
    except OSError as error:
        if error.errno is not None and error.filename is None:
            error.filename = str(target)
        raise
    finally:
        _OPEN.reset(token)
        if not held:
            _remove(tmp)


# The temporary paths of the atomic_path blocks now open.
_OPEN: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("open_outputs", default=())
# Outputs written inside outputs_together(), waiting to be moved into place: (tmp, target, aside).
_PENDING: contextvars.ContextVar[list[tuple[Path, Path, Path]] | None] = contextvars.ContextVar(
    "pending_outputs", default=None)


@contextlib.contextmanager
def outputs_together() -> Iterator[None]:
    """Hold back every :func:`atomic_path` output of the block until the block succeeds.

    A stage writes several outputs; an error while writing any of them (a full disk, say)
    must leave all of them as they were, so only when every one is complete are they moved
    into place, in the order they were written. What can still fail after that is a rename.
    """
    pending: list[tuple[Path, Path, Path]] = []
    token = _PENDING.set(pending)
    try:
        try:
            yield
        finally:
            _PENDING.reset(token)
        for tmp, target, aside in pending:
            _install(tmp, target, aside)
    finally:
        for tmp, _, _ in reversed(pending):
            _remove(tmp)


# renameat2(2) from Linux's <fcntl.h> and <linux/fs.h>: swap two paths in one step.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically; False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # no RENAME_EXCHANGE here
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def _install(new: Path, target: Path, aside: Path) -> None:
    """Put ``new`` in the place of ``target`` without a moment when ``target`` is missing.

    A file replaces a file, and anything replaces nothing, in one ``os.replace``. A
    directory cannot be renamed over a non-empty one, so where the two are not both files
    they are swapped by ``renameat2(RENAME_EXCHANGE)`` (``new`` then holds the old output,
    which the caller deletes). Where that is unsupported, the old output is renamed to
    ``aside`` first: a crash between the two renames leaves it complete there, and the next
    :func:`atomic_path` on ``target`` renames it back (:func:`_restore`).
    """
    if not _exists(target) or not (_is_dir(new) or _is_dir(target)):
        os.replace(new, target)
    elif not _exchange(new, target):
        os.replace(target, aside)
        try:
            os.replace(new, target)
        except OSError:
            os.replace(aside, target)
            raise
        _remove(aside)


def _restore(target: Path, aside: Path) -> None:
    """Undo a crash inside :func:`_install`'s fallback: bring back the old output, or drop
    it if the new one made it into place."""
    if _exists(aside):
        if _exists(target):
            _remove(aside)
        else:
            os.replace(aside, target)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove(path: Path) -> None:
    if _is_dir(path):
        shutil.rmtree(path)
    elif _exists(path):
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


def package_versions() -> dict[str, str]:
    """Python's version and the installed versions of :data:`MODEL_PACKAGES` (those installed;
    TensorFlow's CPU wheel is the distribution ``tensorflow-cpu``)."""
    versions = {"python": platform.python_version()}
    for name in MODEL_PACKAGES:
        for distribution in (name, f"{name}-cpu"):
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                versions[name] = importlib.metadata.version(distribution)
                break
    return versions


def _release(name: str, version: str) -> str:
    """The part of a version that counts: Python's feature release (3.11), a package's whole."""
    return ".".join(version.split(".")[:2]) if name == "python" else version


_warned: set[str] = set()  # model files already warned about: once per file and process


def warn_if_made_elsewhere(path: str | os.PathLike[str], recorded: Mapping[str, str] | None) -> None:
    """Log one line (once per file) if the model file at ``path`` was made under other
    versions of Python or of :data:`MODEL_PACKAGES` than those installed, or records none."""
    if str(path) in _warned:
        return
    _warned.add(str(path))
    if recorded is None:
        log.warning("%s: records no package versions (made by an older pipeline); `dvc repro` "
                    "remakes it", path)
        return
    installed = package_versions()
    differ = [f"{name} {recorded[name]} (installed: {installed.get(name, 'none')})"
              for name in sorted(recorded)
              if _release(name, recorded[name]) != _release(name, installed.get(name, ""))]
    if differ:
        log.warning("%s: made with %s; it may predict otherwise here (`dvc repro` remakes it)",
                    path, ", ".join(differ))


def write_pickle(path: str | os.PathLike[str], obj: Any) -> None:
    """Pickle ``obj`` atomically, with the :func:`package_versions` that made it (as
    ``{"model": obj, "versions": ...}``); equal objects give equal bytes wherever the project
    lives."""
    buffer = io.BytesIO()
    stored = {"model": obj, "versions": package_versions()}
    _StablePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(stored)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def read_json(path: str | os.PathLike[str], hint: str) -> Any:
    """Read a JSON file the pipeline wrote; a missing one fails with ``hint`` (how to make it)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise not_found(path, hint) from error
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: expected a JSON file ({error})") from error


def read_pickle(path: str | os.PathLike[str], hint: str) -> Any:
    """Unpickle a model the pipeline wrote (:func:`write_pickle`), warning in one line if it
    was made under other package versions; a missing one fails with ``hint`` (how to make it)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as error:
        raise not_found(path, hint) from error
    except OSError as error:
        raise PipelineError(f"{path}: cannot read ({error.strerror})") from error
    from sklearn.exceptions import InconsistentVersionWarning

    try:
        with warnings.catch_warnings():  # scikit-learn's own, many lines: the line below says it
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            stored = pickle.loads(data)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as error:
        raise PipelineError(f"{path}: not a readable pickled model ({error}); {hint}") from error
    if not (isinstance(stored, dict) and stored.keys() == {"model", "versions"}):
        warn_if_made_elsewhere(path, None)
        return stored
    warn_if_made_elsewhere(path, stored["versions"])
    return stored["model"]
