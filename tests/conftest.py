"""Fixtures shared by the pipeline-level tests, and small trained autoencoders of every
architecture for the tests of their exact arithmetic."""

from __future__ import annotations

import dataclasses
import os
import runpy
import shutil
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from fashion_clustering.representation.autoencoder import (
    AutoencoderConfig, TrainingConfig, build_autoencoder, save_model, seed_everything, train_autoencoder,
)
from fashion_clustering.startup import start_program
from helpers import FASHION_SHAPE

PROJECT_ROOT = Path(__file__).resolve().parents[1]

start_program()  # the tests' process computes as the stages' do (Numba's target CPU)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end module first. `make test` hands whole modules to two workers
    (pytest-xdist's ``--dist loadscope``, in this order): tests/pipeline/test_pipeline.py takes
    about as long as the rest of the suite on the other worker, and started last it ran alone
    for its last ninety seconds."""
    items.sort(key=lambda item: item.path.name != "test_pipeline.py")


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


# Headless Chromium as the browser tests run it (tests/pipeline/, tests/explorer/).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=15000", "--dump-dom")
# A new network namespace has one interface, its loopback, and that is down: no address, local
# or remote, can be reached from inside. --map-root-user lets a non-root user create it.
NO_NETWORK = ("unshare", "--map-root-user", "--net")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, which `make test` installs: the browser tests fail without it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (`make test` does)")
    return path


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """The environment for subprocesses: this interpreter's dvc and python come first, and
    TensorFlow's log lines are hidden as they are by default."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("FASHION_CLUSTERING_TF_LOG", None)
    return env


def stage_command(stage: dict) -> tuple[str, list[str]]:
    """A ``dvc.yaml`` stage's command, ``python -m stages.<name> ARGS...``, as the script
    ``stages/<name>.py`` and its arguments."""
    python, flag, module, *args = stage["cmd"].split()
    assert (python, flag) == ("python", "-m") and module.startswith("stages."), \
        f"expected 'python -m stages.<name> ...', got {stage['cmd']!r}"
    return module.replace(".", "/") + ".py", args


def run_stage_script(script: str, *args: str) -> int:
    """Run a stage script (e.g. ``stages/fetch.py``) in this process, with the current
    directory as its project, and return its exit status.

    In-process, so tests can simulate a full disk or an unreadable file by monkeypatching.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", [script, *args])
        try:
            runpy.run_path(str(PROJECT_ROOT / script), run_name="__main__")
        except SystemExit as exit_:
            return exit_.code
    return 0


@pytest.fixture
def run_script(capsys) -> Callable[..., tuple[int, str]]:
    """:func:`run_stage_script` that also returns what the script printed to stderr."""
    def run(script: str, *args: str) -> tuple[int, str]:
        capsys.readouterr()
        status = run_stage_script(script, *args)
        return status, capsys.readouterr().err

    return run


DENSE = AutoencoderConfig("dense", latent_dim=10, dense_units=[64, 32], conv_filters=[32])
MODELS = {
    "dense": DENSE,
    "conv": AutoencoderConfig("conv", latent_dim=6, dense_units=[32], conv_filters=[4, 8]),
    "conv-feature-map": AutoencoderConfig("conv", latent_dim=None, dense_units=[32], conv_filters=[4, 8, 8]),
    "denoising": dataclasses.replace(DENSE, input_noise=0.3),
}


@pytest.fixture(scope="session")
def rows():
    return np.random.default_rng(0).random((64, 784), dtype=np.float32)


@pytest.fixture(scope="session", params=list(MODELS), ids=list(MODELS))
def saved(request, rows, tmp_path_factory):
    """``(Keras autoencoder, path where it is saved)`` after one epoch of training, so that
    batch normalization's statistics are off their initial values. Trained once per session:
    the encoder's, the decoder's and the typicality's tests share them."""
    seed_everything(1)
    autoencoder, _ = build_autoencoder(MODELS[request.param], FASHION_SHAPE)
    train_autoencoder(autoencoder, rows[:48], rows[48:], TrainingConfig(1, 16, 1e-3, None, 0), [])
    path = tmp_path_factory.mktemp(request.param) / "model.keras"
    save_model(autoencoder, str(path))
    return autoencoder, path
