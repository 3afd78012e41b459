"""A scratch copy of the project as its own git and DVC repository, where the end-to-end
tests and the benchmarks run the real pipeline without touching the project's workspace; and
real images that need no download to run it on: scikit-learn's 1,797 handwritten digits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# What the pipeline and `dvc plots` (the page .dvc/config names) need; data comes from the
# fetch stage, results from running it (data/own_images: fetch.source.path by default).
PROJECT_FILES = ("dvc.yaml", "params.yaml", "requirements.lock", "stages", "fashion_clustering",
                 ".dvc/config", ".dvcignore", ".gitignore", "plots/offline_template.html",
                 "data/own_images")


def git_commit(project: Path, message: str) -> None:
    """Commit everything in ``project`` (DVCLive and ``dvc exp`` need a commit to exist)."""
    for args in (["add", "-A"], ["-c", "user.name=scratch", "-c", "user.email=scratch@localhost",
                                 "commit", "--allow-empty", "-qm", message]):
        subprocess.run(["git", *args], cwd=project, check=True)


def copy_pipeline(target: Path, params: dict[str, Any] | None = None) -> None:
    """The project's pipeline (:data:`PROJECT_FILES`) copied into ``target``, over what is
    there, with ``params`` as its ``params.yaml`` if given."""
    for name in PROJECT_FILES:
        source, copy = PROJECT_ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy)
    if params is not None:
        (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def scratch_project(target: Path, params: dict[str, Any] | None = None) -> Path:
    """Copy the project's pipeline into the new directory ``target``, with ``params`` as its
    ``params.yaml`` if given, and commit it to a new git repository; return ``target``."""
    copy_pipeline(target, params)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    git_commit(target, "scratch copy of the project")
    return target


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as uint8 ``(1797, 8, 8)`` pictures (its 0..16 levels scaled to
    0..255) and their labels, ordered by class (as a folder of class subfolders lists them)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.argsort(data.target, kind="stable")
    images = np.rint(data.images[order] * 255 / data.images.max()).astype(np.uint8)
    return images, data.target[order].astype(np.uint8)


def write_pictures(root: Path, images: np.ndarray, labels: np.ndarray | None = None, suffix: str = ".png") -> Path:
    """One picture file per image (grey ``(h, w)`` or colour ``(h, w, 3)``): in a subfolder
    per label, or directly in ``root`` without labels; return ``root``."""
    from PIL import Image

    for i, image in enumerate(images):
        folder = root if labels is None else root / str(labels[i])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:05d}{suffix}")
    return root
