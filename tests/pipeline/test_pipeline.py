"""End to end: the real `dvc repro` on a tiny configuration of the real data, in a scratch
copy of the project that is its own git and DVC repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_ROOT
from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.methods import METHODS
from fashion_clustering.scratch import git_commit, scratch_project
from helpers import outputs_snapshot, recomputed_scores, stand_in_outputs

pytestmark = [pytest.mark.slow, pytest.mark.real_data]

# Clearly above chance, on the train (400 images) and test (200) splits: random clusters of
# 10 balanced classes score ACC 0.17 / 0.20 and NMI 0.05 / 0.10 on average, at most 0.20 / 0.25
# and 0.07 / 0.16 in 300 draws; the tiny run's autoencoder methods scored ACC 0.335-0.405 and
# NMI 0.347-0.430 with seeds 0, 1, 2. (Validation, 100 images, is left out: chance reaches 0.34.)
ABOVE_CHANCE = {"acc": 0.28, "nmi": 0.25}
ABOVE_CHANCE_SPLITS = ("train", "test")
TINY = {
    "preprocess": {"max_train_images": 500, "max_test_images": 200},
    "train_autoencoder": {"epochs": 2, "min_steps": 0, "dense_units": [64], "batch_size": 64},
    "encode": {"umap": {"n_neighbors": 10, "n_epochs": 20}},
    # Fewer images in the report's grids: each is a Matplotlib axes, the report's slowest part.
    "report": {"samples_per_class": 2, "gallery_size": 2},
}


def merge(base: dict, update: dict) -> dict:
    return {k: merge(base[k], v) if isinstance(v, dict) else v for k, v in update.items()} | {
        k: v for k, v in base.items() if k not in update}


def run(cmd: list[str], cwd: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory, real_data) -> Path:
    """A scratch copy of the project with tiny params, committed to its own git repository."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    return scratch_project(tmp_path_factory.mktemp("project"), merge(params, TINY))


def check_scores(project: Path) -> None:
    """The scores reported are those of the assignment files, and the autoencoder methods
    found real structure."""
    scores = json.loads((project / "metrics/evaluate.json").read_text())
    assert scores == recomputed_scores(project)
    for method in ("ae_kmeans", "ae_gmm"):
        for split in ABOVE_CHANCE_SPLITS:
            assert all(scores[method][split][key] > bound for key, bound in ABOVE_CHANCE.items()), \
                (method, split, scores[method][split])


@pytest.fixture(scope="module")
def reproduced(tiny_project, tool_env) -> tuple[Path, str]:
    """The tiny project after one `dvc repro`, committed; and what the run printed. The tests
    below keep its workspace at that commit, except the last two (an experiment in the
    workspace; copies of it with bad params)."""
    result = run(["dvc", "repro"], tiny_project, tool_env)
    git_commit(tiny_project, "tiny run")
    return tiny_project, result.stdout + result.stderr


def test_repro_is_complete_repeatable_and_quiet(reproduced, tool_env):
    tiny_project, output = reproduced
    # The pipeline's own lines and Keras' epoch lines, not TensorFlow's C++ banners.
    assert "Epoch 2/2" in output and "fashion_clustering.representation.autoencoder: training" in output
    assert "E0000" not in output and "absl::InitializeLog" not in output and "oneDNN" not in output

    check_scores(tiny_project)
    counts = json.loads((tiny_project / "metrics/class_counts.json").read_text())
    assert {s: sum(c.values()) for s, c in counts.items()} == {"train": 400, "val": 100, "test": 200}
    for method in METHODS:
        csv = (tiny_project / f"metrics/confusion/confusion_{method}.csv").read_text().splitlines()
        assert csv[0] == "actual,predicted" and len(csv) == 201
        assert (tiny_project / f"metrics/confusion/confusion_{method}.png").read_bytes()[:4] == b"\x89PNG"
    losses = (tiny_project / "metrics/train_autoencoder/plots/metrics/eval/loss.tsv").read_text()
    assert len(losses.splitlines()) == 1 + 2  # header and one row per epoch

    # A second repro does nothing.
    again = run(["dvc", "repro"], tiny_project, tool_env)
    assert "Data and pipelines are up to date" in again.stdout

    # Rerunning everything gives byte-identical outputs: the lock file does not change.
    lock = (tiny_project / "dvc.lock").read_text()
    run(["dvc", "repro", "--force"], tiny_project, tool_env)
    assert (tiny_project / "dvc.lock").read_text() == lock


def test_report_and_predict_answer_for_the_tiny_run(reproduced, tool_env, tmp_path):
    import numpy as np

    project, _ = reproduced
    scores = json.loads((project / "metrics/evaluate.json").read_text())
    report = (project / "report/report.md").read_text()
    assert [line for line in report.splitlines() if line.startswith("## ")] == [
        "## Abstract", "## 1 Introduction", "## 2 Dataset", "## 3 Architecture", "## 4 Results",
        "## 5 Conclusion"]
    for method in METHODS:
        for split in SPLITS:
            values = " | ".join(f"{scores[method][split][k]:.3f}" for k in ("acc", "nmi", "ari", "completeness"))
            assert f"| {split} | {values} |" in report
    assert (project / "report/report.pdf").read_bytes()[:5] == b"%PDF-"
    figures = sorted((project / "report/figures").glob("*.png"))
    assert len(figures) == 10 and all(f.read_bytes()[:4] == b"\x89PNG" for f in figures)

    # The real test images of the tiny run get the clusters and typicality the pipeline gave them.
    with np.load(project / "data/prepared/test.npz") as prepared:
        np.save(tmp_path / "test.npy", prepared["x"])
        np.save(tmp_path / "one.npy", prepared["x"][7:8])
    result = run(["fashion-clustering", "predict", "--format", "json", str(tmp_path / "test.npy"),
                  str(tmp_path / "one.npy")], project, tool_env)
    rows = json.loads(result.stdout)
    assert "absl::InitializeLog" not in result.stderr and "oneDNN" not in result.stderr
    classes = json.loads((project / "metrics/cluster_classes.json").read_text())
    with np.load(project / "data/typicality.npz") as typical:
        expected_typicality = typical["test"].tolist()
    for method in METHODS:
        with np.load(project / f"data/assignments/{method}.npz") as assigned:
            expected = assigned["test"].tolist()
        mine = [row for row in rows if row["method"] == method]
        assert [row["cluster"] for row in mine] == expected + [expected[7]]
        assert [row["typicality"] for row in mine] == expected_typicality + [expected_typicality[7]]
        assert all(row["class"] == classes[method][str(row["cluster"])] for row in mine)


def test_remote_push_clone_pull_round_trip(reproduced, tool_env, tmp_path):
    tiny_project, _ = reproduced
    run(["dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote")], tiny_project, tool_env)
    git_commit(tiny_project, "a default remote")
    run(["dvc", "push"], tiny_project, tool_env)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(tiny_project), str(clone)], tmp_path, tool_env)
    assert not (clone / "data/models/autoencoder.keras").exists()
    run(["dvc", "pull"], clone, tool_env)
    for output in ("data/models/autoencoder.keras", "data/features.npz", "data/assignments/ae_gmm.npz"):
        assert (clone / output).read_bytes() == (tiny_project / output).read_bytes()
    assert "Data and pipelines are up to date" in run(["dvc", "status"], clone, tool_env).stdout
    assert "Data and pipelines are up to date" in run(["dvc", "repro"], clone, tool_env).stdout


def test_queued_variants_run_and_share_upstream_stages(reproduced, tool_env):
    tiny_project, _ = reproduced
    run(["dvc", "exp", "run", "--queue", "-S", "cluster_gmm.covariance_type=diag,full"],
        tiny_project, tool_env)
    output = run(["dvc", "exp", "run", "--run-all", "-j", "1"], tiny_project, tool_env).stdout
    assert "Running stage 'cluster_gmm'" in output
    assert "Running stage 'train_autoencoder'" not in output  # taken from the baseline's run

    shown = json.loads(run(["dvc", "exp", "show", "--json"], tiny_project, tool_env).stdout)
    results = {}
    for commit in shown:
        for experiment in commit.get("experiments") or []:
            data = experiment["revs"][0]["data"]
            covariance = data["params"]["params.yaml"]["data"]["cluster_gmm"]["covariance_type"]
            results[covariance] = data["metrics"]["metrics/evaluate.json"]["data"]["ae_gmm"]["test"]
    assert set(results) == {"diag", "full"}
    assert all(0.1 <= scores["acc"] <= 1 for scores in results.values())
    assert (tiny_project / "params.yaml").read_text() == yaml.safe_dump(
        merge(yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text()), TINY), sort_keys=False)


def test_workspace_experiment_shows_in_comparisons(reproduced, tool_env):
    tiny_project, _ = reproduced
    output = run(["dvc", "exp", "run", "-S", "cluster_gmm.covariance_type=spherical"], tiny_project, tool_env).stdout
    assert "Running stage 'cluster_gmm'" in output and "Running stage 'encode'" not in output
    params = json.loads(run(["dvc", "params", "diff", "--json"], tiny_project, tool_env).stdout)
    covariance = params["params.yaml"]["cluster_gmm.covariance_type"]
    assert (covariance["old"], covariance["new"]) == ("full", "spherical")
    metrics = json.loads(run(["dvc", "metrics", "diff", "--json"], tiny_project, tool_env).stdout)
    changed = {key.split(".")[0] for key in metrics["metrics/evaluate.json"]}
    assert changed == {"ae_gmm"}  # the other methods' clusters are those of the baseline commit
    experiments = run(["dvc", "exp", "show", "--csv"], tiny_project, tool_env).stdout.splitlines()
    assert len(experiments) >= 3  # header, the workspace and the baseline commit


@pytest.mark.parametrize("stage, section, key, value, expected", [
    ("cluster_gmm", "cluster_gmm", "covariance_type", "weird", "cluster_gmm.covariance_type"),
    ("baseline_kmeans", "clusters", "n_clusters", 0, "clusters.n_clusters must be an integer >= 1"),
    ("train_autoencoder", "train_autoencoder", "architecture", "resnet", "train_autoencoder.architecture"),
    ("cluster_kmeans", "cluster_kmeans", "tol", None, "missing key 'cluster_kmeans.tol'"),
    ("report", "report", "gallery_size", 0, "report.gallery_size must be an integer >= 1"),
    ("cluster_gmm", "cluster_gmm", "covarience_type", "full",
     "unknown key 'cluster_gmm.covarience_type'; did you mean 'covariance_type'?"),
])
def test_bad_params_fail_in_one_line_and_write_nothing(
    reproduced, tool_env, tmp_path, stage, section, key, value, expected
):
    workdir = tmp_path / "work"  # with the run's inputs and outputs, so the stage could write
    shutil.copytree(reproduced[0], workdir, ignore=shutil.ignore_patterns(".git", ".dvc"))
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    if value is None:
        del params[section][key]
    else:
        params[section][key] = value
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    dvc_stage = yaml.safe_load((workdir / "dvc.yaml").read_text())["stages"][stage]
    before = stand_in_outputs(workdir, dvc_stage)
    result = run(dvc_stage["cmd"].split(), workdir, tool_env, check=False)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and expected in error_lines[0]
    assert "Traceback" not in result.stderr
    assert outputs_snapshot(workdir) == before
