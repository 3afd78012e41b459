"""End to end on one's own images: the real `dvc repro` of the stages up to the clusterers on
scikit-learn's digits (8×8, no download) written as a labelled folder, a flat folder (no
labels) and an .npz, with tiny params; and a colour run (the digits tinted, 3 channels) through
the autoencoder, encode, typicality and `fashion-clustering predict`. (`evaluate`, `report` and
`explore` are generalised to other images separately.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import PROJECT_ROOT
from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.data.description import UNLABELLED, read_description
from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import load_arrays
from fashion_clustering.methods import METHODS
from fashion_clustering.prediction import cli
from fashion_clustering.scratch import digits, git_commit, scratch_project, write_pictures
from helpers import tinted
from test_pipeline import merge, run

pytestmark = [pytest.mark.slow]

N_CLUSTERS = 10
TINY = {
    "train_autoencoder": {"epochs": 10, "min_steps": 0, "dense_units": [64], "batch_size": 64},
    "encode": {"umap": {"n_neighbors": 10, "n_epochs": 30}},
    "typicality": {"outliers_per_kind": 10, "moved_images": 20, "moved_shifts": [2]},
}
# The stages that make the three methods' assignments (and what they need).
REPRO = ["dvc", "repro", "baseline_kmeans", "cluster_gmm"]
# Above chance on the digits' test split (random clusters of ten balanced classes: ACC about 0.15).
ABOVE_CHANCE_ACC = 0.4


def project_of(tmp_path: Path, source: dict, write) -> Path:
    """A scratch project whose fetch.source is ``source`` (at the committed path, where
    ``write(path)`` puts the images), with tiny params."""
    params = merge(yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text()), TINY)
    params["fetch"]["source"].update(source)
    project = scratch_project(tmp_path, params)
    write(project / params["fetch"]["source"]["path"])
    git_commit(project, "the images")
    return project


def assignments(project: Path) -> dict[str, dict[str, np.ndarray]]:
    return {method: load_arrays(project / f"data/assignments/{method}.npz", SPLITS) for method in METHODS}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, tool_env) -> Path:
    images, labels = digits()
    project = project_of(tmp_path_factory.mktemp("labelled"), {"kind": "folder"},
                         lambda path: write_pictures(path, images, labels))
    run(REPRO, project, tool_env)
    return project


def test_labelled_folder_clusters_the_digits(labelled):
    description = read_description(labelled / "data/dataset.json")
    assert description.image_shape == (8, 8, 1) and description.labelled
    y_test = load_split(labelled / "data/prepared", "test")[1]
    for method, splits in assignments(labelled).items():
        assert {split: len(splits[split]) for split in SPLITS} == dict(description.counts)
        assert set(np.unique(splits["train"])) == set(range(N_CLUSTERS))
        assert clustering_scores(y_test, splits["test"])["acc"] > ABOVE_CHANCE_ACC, method


def test_npz_gives_the_folders_assignments(labelled, tmp_path, tool_env):
    """The same images as an .npz prepare to the same arrays, so every model and assignment is the same."""
    images, labels = digits()
    project = project_of(tmp_path, {"kind": "arrays", "path": "data/digits.npz"},
                         lambda path: np.savez(path, x=images, y=labels))
    run(REPRO, project, tool_env)
    mine, folders = assignments(project), assignments(labelled)
    for method in METHODS:
        for split in SPLITS:
            np.testing.assert_array_equal(mine[method][split], folders[method][split])


def test_flat_folder_without_labels_is_clustered(tmp_path, tool_env):
    images, _ = digits()
    project = project_of(tmp_path, {"kind": "folder"}, lambda path: write_pictures(path, images))
    run(REPRO, project, tool_env)
    description = read_description(project / "data/dataset.json")
    assert not description.labelled
    assert all((load_split(project / "data/prepared", split)[1] == UNLABELLED).all() for split in SPLITS)
    for splits in assignments(project).values():
        assert set(np.unique(splits["train"])) == set(range(N_CLUSTERS))
        assert sum(map(len, splits.values())) == len(images)


def test_too_many_clusters_names_the_key(labelled, tmp_path, tool_env):
    params = yaml.safe_load((labelled / "params.yaml").read_text())
    train = read_description(labelled / "data/dataset.json").counts["train"]
    params["clusters"]["n_clusters"] = train + 1
    (labelled / "params.yaml").write_text(yaml.safe_dump(params))
    try:
        result = run(["python", "-m", "stages.baseline_kmeans", "data/prepared", str(tmp_path / "model.pkl"),
                      str(tmp_path / "assignments.npz")], labelled, tool_env, check=False)
    finally:
        run(["git", "checkout", "params.yaml"], labelled, tool_env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: baseline K-Means on pixels: cannot make {train + 1} clusters of {train} training rows; "
                      f"set clusters.n_clusters to at most {train}"]
    assert not list(tmp_path.iterdir())


def test_colour_run_and_predict(tmp_path, tool_env, monkeypatch, capsys):
    """Tinted digits, 3 channels: the autoencoder, encode, typicality and the clusterers run at
    that shape, and `predict` gives a picture of the folder the pipeline's cluster for it,
    named as a cluster when the run's clusters have no classes."""
    images, labels = digits()
    colour = tinted(images, labels)
    project = project_of(tmp_path, {"kind": "folder", "channels": 3},
                         lambda path: write_pictures(path, colour, labels))
    run([*REPRO, "typicality"], project, tool_env)
    description = read_description(project / "data/dataset.json")
    assert description.image_shape == (8, 8, 3)
    flagged = json.loads((project / "metrics/typicality.json").read_text())["flagged"]
    assert "test_turned" in flagged and "uniform_noise" in flagged
    # One picture whose pixels are one row of the test split, and no other row's.
    x_test = load_split(project / "data/prepared", "test")[0]
    rows = {row.tobytes(): i for i, row in enumerate(x_test)}
    pixels = (colour.reshape(len(colour), -1) / np.float32(255)).astype(np.float32)
    unique = [(i, rows[p.tobytes()]) for i, p in enumerate(pixels)
              if p.tobytes() in rows and (pixels == p).all(axis=1).sum() == 1]
    picture, row = unique[0]
    write_pictures(tmp_path / "one", colour[picture:picture + 1])
    (project / "metrics/cluster_classes.json").write_text(json.dumps(
        {method: {str(k): None for k in range(N_CLUSTERS)} for method in METHODS}))
    monkeypatch.chdir(project)
    status = cli.main(["predict", "--format", "json", str(tmp_path / "one/00000.png")])
    answers = json.loads(capsys.readouterr().out)
    assert status == 0
    for method, splits in assignments(project).items():
        [answer] = [a for a in answers if a["method"] == method]
        assert answer["cluster"] == splits["test"][row], method
        assert answer["class"] == f"cluster {answer['cluster']}"
