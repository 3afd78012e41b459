"""A scratch copy of the project as its own git and DVC repository, where the end-to-end
tests and the benchmark run the real pipeline without touching the project's workspace."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

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
                                 "commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=project, check=True)


def scratch_project(target: Path, params: dict[str, Any] | None = None) -> Path:
    """Copy the project's pipeline into the new directory ``target``, with ``params`` as its
    ``params.yaml`` if given, and commit it to a new git repository; return ``target``."""
    for name in PROJECT_FILES:
        source, copy = PROJECT_ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy)
    if params is not None:
        (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    git_commit(target, "scratch copy of the project")
    return target
