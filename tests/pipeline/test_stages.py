"""The stage scripts themselves, run in-process as ``dvc.yaml`` calls them, on tiny synthetic
data: the whole pipeline without the real data, and each stage's failures as one line that
leaves every previous output untouched."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import PROJECT_ROOT, run_stage_script, stage_command
from fashion_clustering.data import fetch
from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.typicality.outliers import OUTLIERS
from fashion_clustering.typicality.scores import load_calibration
from fashion_clustering.files import load_arrays
from fashion_clustering.machine import describe_cpu
from fashion_clustering.quiet_tensorflow import TF_THREADS
from fashion_clustering.representation.autoencoder import encode, load_autoencoder
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder

from helpers import (
    METHODS, outputs_snapshot, recomputed_scores, sha256_of, stand_in_outputs, tiny_idx_bytes, tree_snapshot,
    write_files,
)

pytestmark = [
    pytest.mark.slow,
    # Keras' numpy-2 deprecation noise and umap-learn's single-thread notice: not this project's.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
    pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning"),
]

N_TRAIN, N_TEST = 200, 50
TINY = {
    "preprocess": {"val_fraction": 0.2, "max_train_images": None, "max_test_images": None},
    "baseline_kmeans": {"n_init": 1},
    "train_autoencoder": {"architecture": "dense", "latent_dim": 4, "dense_units": [32],
                          "epochs": 2, "min_steps": 0, "batch_size": 32},
    "encode": {"manifold": "none", "batch_size": 64},
    "cluster_kmeans": {"n_init": 1},
    "cluster_gmm": {"n_init": 1},
}
STAGES = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]


def set_params(project: Path, overrides: dict) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for section, values in overrides.items():
        for key, value in values.items():
            if isinstance(value, dict):
                params[section][key].update(value)
            else:
                params[section][key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def run_stage(name: str) -> int:
    """Run stage ``name`` by its ``dvc.yaml`` command, in the current directory."""
    script, args = stage_command(STAGES[name])
    return run_stage_script(script, *args)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """Every stage of ``dvc.yaml``, in order, on tiny random images that fetch takes from a
    source directory (with their checksums standing in for the official ones)."""
    project = tmp_path_factory.mktemp("stages")
    raw = tiny_idx_bytes(N_TRAIN, N_TEST)
    source = write_files(project / "source", raw, compressed=True)
    shutil.copy(PROJECT_ROOT / "params.yaml", project / "params.yaml")
    set_params(project, {**TINY, "fetch": {"source_dir": str(source), "base_url": None,
                                           "debian_dir": str(project / "no-debian")}})
    with pytest.MonkeyPatch.context() as patch:
        for name, digest in sha256_of(raw).items():
            patch.setitem(fetch.OFFICIAL_SHA256, name, digest)
        patch.chdir(project)
        for name in STAGES:
            assert run_stage(name) == 0, name
    assert tree_snapshot(project / "data/raw") == raw
    return project


def test_every_stage_runs_without_the_real_data(tiny_run):
    sizes = {split: len(load_split(tiny_run / "data/prepared", split)[1]) for split in SPLITS}
    assert sizes == {"train": 160, "val": 40, "test": N_TEST}
    assert json.loads((tiny_run / "metrics/evaluate.json").read_text()) == recomputed_scores(tiny_run)
    for method in METHODS:
        assignments = load_arrays(tiny_run / f"data/assignments/{method}.npz", SPLITS)
        assert {split: len(a) for split, a in assignments.items()} == sizes
        csv = (tiny_run / f"metrics/confusion/confusion_{method}.csv").read_text().splitlines()
        assert len(csv) == 1 + N_TEST
    losses = (tiny_run / "metrics/train_autoencoder/plots/metrics/eval/loss.tsv").read_text()
    assert len(losses.splitlines()) == 1 + 2  # header and one row per epoch
    machine = json.loads((tiny_run / "metrics/train_autoencoder/machine.json").read_text())
    assert machine == {**describe_cpu(), "tensorflow_threads": TF_THREADS}


def test_typicality_is_calibrated_and_measured_for_every_split(tiny_run):
    shares = load_arrays(tiny_run / "data/typicality.npz", SPLITS)
    assert {split: len(s) for split, s in shares.items()} == {"train": 160, "val": 40, "test": N_TEST}
    assert all(((0 <= s) & (s <= 1)).all() for s in shares.values())
    calibration = load_calibration(tiny_run / "data/models/typicality.npz")
    assert len(calibration.standings) == 40
    metrics = json.loads((tiny_run / "metrics/typicality.json").read_text())
    params = yaml.safe_load((tiny_run / "params.yaml").read_text())["typicality"]
    threshold = params["threshold"]
    assert metrics["threshold"] == calibration.threshold == threshold  # read once, kept with the calibration
    moved = {f"test_moved_{shift}px" for shift in params["moved_shifts"]}
    assert set(metrics["flagged"]) == {*SPLITS, "test_turned", *moved, *OUTLIERS}
    assert metrics["flagged"]["test"] == float((shares["test"] < threshold).mean())


def test_bad_typicality_threshold_fails_in_one_line(copy_of_run, run_script):
    set_params(copy_of_run, {"typicality": {"threshold": 1.5}})
    line = fails_in_one_line_touching_nothing(copy_of_run, "typicality", run_script)
    assert line == "error: params.yaml: typicality.threshold must be a number in (0, 1), got 1.5"


def test_encode_without_manifold_gives_the_codes(tiny_run):
    """``encode.manifold: none``: the clusterers see the encoder's codes themselves."""
    encoder = load_exact_encoder(str(tiny_run / "data/models/autoencoder.keras"))
    features = load_arrays(tiny_run / "data/features.npz", SPLITS)
    for split in SPLITS:
        codes = exact_encode(encoder, load_split(tiny_run / "data/prepared", split)[0], batch_size=64)
        assert codes.shape[1] == TINY["train_autoencoder"]["latent_dim"]
        np.testing.assert_array_equal(features[split], codes)


@pytest.fixture
def copy_of_run(tiny_run, tmp_path, monkeypatch) -> Path:
    """A copy of the tiny run to break, as the current directory."""
    project = tmp_path / "project"
    shutil.copytree(tiny_run, project)
    monkeypatch.chdir(project)
    return project


def fails_in_one_line_touching_nothing(project: Path, stage: str, run_script) -> str:
    """Run ``stage``; check exit status 1, a single stderr line and unchanged outputs; return
    the line."""
    before = stand_in_outputs(project, STAGES[stage])
    script, args = stage_command(STAGES[stage])
    status, stderr = run_script(script, *args)
    assert status == 1
    assert len(stderr.splitlines()) == 1 and stderr.startswith("error: "), stderr
    assert outputs_snapshot(project) == before
    return stderr.rstrip("\n")


def test_bad_umap_metric_fails_before_encoding(copy_of_run, run_script, monkeypatch):
    set_params(copy_of_run, {"encode": {"manifold": "umap", "umap": {"metric": "euclidian"}}})

    def not_yet(*args, **kwargs):
        raise AssertionError("the model was loaded before the params were checked")

    monkeypatch.setattr("fashion_clustering.representation.exact_encoder.load_exact_encoder", not_yet)
    line = fails_in_one_line_touching_nothing(copy_of_run, "encode", run_script)
    assert line == ("error: params.yaml: encode.umap.metric must be one of 'euclidean', 'manhattan', "
                    "got 'euclidian'")


def test_clustering_layer_fine_tunes_the_saved_model(tiny_run, copy_of_run):
    set_params(copy_of_run, {"clusters": {"n_clusters": 3}, "train_autoencoder": {"clustering": {
        "weight": 1.0, "n_init": 1, "epochs": 2}}})  # its centres: the methods' clusters.n_clusters
    assert run_stage("train_autoencoder") == 0
    x = load_split(tiny_run / "data/prepared", "test")[0]
    plain, tuned = (encode(load_autoencoder(str(run / "data/models/autoencoder.keras")).get_layer("encoder"), x, 64)
                    for run in (tiny_run, copy_of_run))
    assert not np.allclose(plain, tuned)
    # The loss curves stay those of the reconstruction training.
    losses = "metrics/train_autoencoder/plots/metrics/eval/loss.tsv"
    assert (copy_of_run / losses).read_text() == (tiny_run / losses).read_text()


def test_bad_clustering_kernel_fails_before_training(copy_of_run, run_script):
    set_params(copy_of_run, {"train_autoencoder": {"clustering": {"weight": 1.0, "kernel": "cauchy"}}})
    line = fails_in_one_line_touching_nothing(copy_of_run, "train_autoencoder", run_script)
    assert line == ("error: params.yaml: train_autoencoder.clustering.kernel must be one of "
                    "'gaussian', 'student_t', got 'cauchy'")


def test_subsample_too_uneven_names_the_key_and_class_counts(copy_of_run, run_script):
    set_params(copy_of_run, {"preprocess": {"max_train_images": N_TRAIN - 5}})
    line = fails_in_one_line_touching_nothing(copy_of_run, "preprocess", run_script)
    assert line == (
        f"error: params.yaml: preprocess.max_train_images = {N_TRAIN - 5} cannot keep the class "
        f"proportions of {N_TRAIN} images with class counts {[N_TRAIN // 10] * 10} "
        "(The test_size = 5 should be greater or equal to the number of classes = 10)")


def test_preprocess_without_raw_data(copy_of_run, run_script):
    shutil.rmtree(copy_of_run / "data/raw")
    line = fails_in_one_line_touching_nothing(copy_of_run, "preprocess", run_script)
    assert line == "error: data/raw/train-images-idx3-ubyte: cannot read (No such file or directory)"


def fill_the_disk_at(monkeypatch, output: str) -> list[str]:
    """Make every write into ``output``'s temporary path fail with ENOSPC, as a full disk does;
    return the list of paths whose write failed."""
    temporary, failed = f".{Path(output).name}.tmp", []

    def failing(method, path_of):
        def write(self, *args, **kwargs):
            if Path(path_of(self)).name == temporary:
                failed.append(str(path_of(self)))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return method(self, *args, **kwargs)
        return write

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing(zipfile.ZipFile.writestr, lambda z: z.filename))
    for name in ("write_text", "write_bytes"):
        monkeypatch.setattr(Path, name, failing(getattr(Path, name), lambda path: path))
    return failed


@pytest.mark.parametrize("stage, output", [
    ("preprocess", "metrics/class_counts.json"),        # after data/prepared
    ("train_autoencoder", "data/models/autoencoder.keras"),  # after metrics/train_autoencoder
    ("cluster_gmm", "data/assignments/ae_gmm.npz"),     # after data/models/ae_gmm.pkl
    ("evaluate", "metrics/evaluate.json"),              # after metrics/confusion
    ("typicality", "metrics/typicality.json"),          # after data/models/typicality.npz, data/typicality.npz
])
def test_full_disk_on_the_last_output_keeps_every_output(copy_of_run, run_script, monkeypatch,
                                                         stage, output):
    failed = fill_the_disk_at(monkeypatch, output)
    line = fails_in_one_line_touching_nothing(copy_of_run, stage, run_script)
    assert line == f"error: {output}: No space left on device"
    assert failed
