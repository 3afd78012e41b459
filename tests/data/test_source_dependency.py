"""A tiny ``dvc repro`` of the data stages on a folder of pictures, and the source as a DVC
dependency of fetch (``${fetch.source.path}`` in dvc.yaml): a new picture makes fetch stale,
whether the folder is untracked or tracked by ``dvc add``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from sklearn.datasets import load_digits

from conftest import PROJECT_ROOT
from fashion_clustering.data.description import read_description
from fashion_clustering.scratch import scratch_project

pytestmark = pytest.mark.slow
N_PICTURES = 30


def dvc(project: Path, env: dict, *args: str) -> str:
    result = subprocess.run(["dvc", *args], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def add_picture(folder: Path, i: int, images: np.ndarray) -> None:
    Image.fromarray(images[i]).save(folder / f"{i:03d}.png")


@pytest.mark.parametrize("tracked", [False, True], ids=["untracked", "dvc-add"])
def test_a_new_picture_makes_fetch_stale(tmp_path, tool_env, tracked):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["fetch"]["source"].update(kind="folder", path="pictures")
    project = scratch_project(tmp_path / "project", params)
    images = np.rint(load_digits().images[:N_PICTURES + 1] * 255 / 16).astype(np.uint8)
    (project / "pictures").mkdir()
    for i in range(N_PICTURES):
        add_picture(project / "pictures", i, images)
    if tracked:
        dvc(project, tool_env, "add", "-q", "pictures")
    dvc(project, tool_env, "repro", "-q", "preprocess")
    assert "up to date" in dvc(project, tool_env, "status", "preprocess")
    described = read_description(project / "data/dataset.json")
    assert (described.name, described.image_shape, described.class_names) == ("pictures", (8, 8, 1), None)
    assert sum(described.counts.values()) == N_PICTURES

    add_picture(project / "pictures", N_PICTURES, images)
    status = yaml.safe_load(dvc(project, tool_env, "status", "--json"))
    assert {"changed deps": {"pictures": "modified"}} in status["fetch"]
    if tracked:
        assert {"changed outs": {"pictures": "modified"}} in status["pictures.dvc"]
