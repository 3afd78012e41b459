"""Fixtures shared by the pipeline-level tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path:
    """The directory the project's fetch stage reads first (Debian's package by default)."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())["fetch"]
    return Path(params["source_dir"] or params["debian_dir"])


@pytest.fixture(scope="session")
def real_data() -> Path:
    directory = real_data_dir()
    if not (directory / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real Fashion-MNIST not in {directory}: apt-get install -y dataset-fashion-mnist")
    return directory


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """The environment for subprocesses: this interpreter's dvc and python come first, and
    TensorFlow's log lines are hidden as they are by default."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("FASHION_CLUSTERING_TF_LOG", None)
    return env
