"""Every model file records the package versions that made it, and every loader says, in one
line, when those installed differ (a model made elsewhere may predict otherwise)."""

import logging
import pickle

import numpy as np
import pytest

from conftest import DENSE
from fashion_clustering import files
from fashion_clustering.representation import autoencoder as autoencoder_module
from fashion_clustering.typicality import scores
from fashion_clustering.files import package_versions, read_pickle, write_pickle
from fashion_clustering.representation.autoencoder import build_autoencoder, load_autoencoder, save_model
from fashion_clustering.representation.exact_decoder import load_exact_decoder
from fashion_clustering.representation.exact_encoder import load_exact_encoder
from fashion_clustering.typicality.scores import Calibration, load_calibration, save_calibration
from helpers import FASHION_SHAPE

ELSEWHERE = {"scikit-learn": "1.8.0", "python": "3.10.4"}


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fashion_clustering.files"]


def expected_line(path) -> str:
    installed = package_versions()
    return (f"{path}: made with python 3.10.4 (installed: {installed['python']}), scikit-learn 1.8.0 "
            f"(installed: {installed['scikit-learn']}); it may predict otherwise here "
            "(`dvc repro` remakes it)")


def made_elsewhere(monkeypatch):
    """Write model files as if under other versions of Python and scikit-learn."""
    for writer in (files, autoencoder_module, scores):
        monkeypatch.setattr(writer, "package_versions", lambda: {**package_versions(), **ELSEWHERE})


def test_the_versions_are_this_environments():
    versions = package_versions()
    assert set(versions) == {"python", *files.MODEL_PACKAGES}
    import sklearn
    assert versions["scikit-learn"] == sklearn.__version__


def test_a_pickle_made_elsewhere_warns_once_in_one_line(tmp_path, monkeypatch, caplog):
    path = tmp_path / "model.pkl"
    with monkeypatch.context() as patch:
        made_elsewhere(patch)
        write_pickle(path, {"centres": np.arange(3)})
    assert pickle.loads(path.read_bytes())["versions"]["scikit-learn"] == "1.8.0"
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert read_pickle(path, "fit it")["centres"].tolist() == [0, 1, 2]
    assert warnings_of(caplog) == [expected_line(path)]


def test_a_pickle_made_here_loads_in_silence(tmp_path, caplog):
    path = tmp_path / "model.pkl"
    write_pickle(path, [1, 2])
    with caplog.at_level(logging.WARNING):
        assert read_pickle(path, "fit it") == [1, 2]
    assert warnings_of(caplog) == []


def test_a_python_bugfix_release_is_no_difference(tmp_path, monkeypatch, caplog):
    python = package_versions()["python"].rsplit(".", 1)[0] + ".99"
    path = tmp_path / "model.pkl"
    with monkeypatch.context() as patch:
        patch.setattr(files, "package_versions", lambda: {**package_versions(), "python": python})
        write_pickle(path, 1)
    with caplog.at_level(logging.WARNING):
        read_pickle(path, "fit it")
    assert warnings_of(caplog) == []


def test_a_pickle_without_versions_says_so(tmp_path, caplog):
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps([1, 2]))
    with caplog.at_level(logging.WARNING):
        assert read_pickle(path, "fit it") == [1, 2]
    assert warnings_of(caplog) == [f"{path}: records no package versions (made by an older pipeline); "
                                   "`dvc repro` remakes it"]


@pytest.fixture(scope="module")
def autoencoder():
    return build_autoencoder(DENSE, FASHION_SHAPE)[0]


@pytest.mark.parametrize("load", [load_exact_encoder, load_exact_decoder, load_autoencoder],
                         ids=["exact-encoder", "exact-decoder", "keras"])
def test_an_autoencoder_made_elsewhere_warns_in_one_line(tmp_path, monkeypatch, caplog, autoencoder, load):
    path = tmp_path / "autoencoder.keras"
    with monkeypatch.context() as patch:
        made_elsewhere(patch)
        save_model(autoencoder, str(path))
    with caplog.at_level(logging.WARNING):
        load(str(path))
    assert warnings_of(caplog) == [expected_line(path)]


def test_a_calibration_made_elsewhere_warns_in_one_line(tmp_path, monkeypatch, caplog):
    path = tmp_path / "typicality.npz"
    calibration = Calibration(np.zeros((4, 5)), np.arange(4), 0.01)
    with monkeypatch.context() as patch:
        made_elsewhere(patch)
        save_calibration(path, calibration)
    with caplog.at_level(logging.WARNING):
        assert load_calibration(path).threshold == 0.01
    assert warnings_of(caplog) == [expected_line(path)]
