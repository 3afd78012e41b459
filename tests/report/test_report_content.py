"""The generated report: its pieces, its text read from the run's numbers, its figures and
its PDF, byte-stable, on small made-up runs: 28×28 grey images in ten classes, and 8×8 colour
images without labels."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from fashion_clustering.data.fetch import OFFICIAL_SHA256
from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.errors import PipelineError
from fashion_clustering.files import load_arrays, read_pickle, write_pickle
from fashion_clustering.methods import METHODS
from fashion_clustering.params import load_params
from fashion_clustering.data.dataset import per_class_sample
from fashion_clustering.data.description import DatasetDescription
from fashion_clustering.evaluation.cluster_classes import largest_confusions, most_typical_rows
from fashion_clustering.report.content import FLAGGED_SETS, cluster_rows, flagged_sets, compose, layer_rows, ranked_methods, training_extras
from fashion_clustering.report.pictures import ReportConfig, least_typical, make_figures
from fashion_clustering.report.run import Run, RunSettings, read_losses
from fashion_clustering.representation.autoencoder import AutoencoderConfig, build_autoencoder
from fashion_clustering.report.document import Chapter, Document, Figure, Paragraph, Table, to_markdown, write_pdf

from conftest import PROJECT_ROOT
from helpers import made_up_run_without_labels

pytestmark = [
    pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]
CONFIG = ReportConfig(samples_per_class=3, gallery_size=4, reconstructions_per_class=2, map_points=40,
                      map_neighbors=5, confusions_named=2, least_typical=3, dpi=40, seed=0)
SPLIT_NAMES = ("train", "val", "test")


def test_gallery_takes_the_most_typical_rows_of_each_cluster():
    clusters = np.array([0, 1, 0, 0, 1])
    closeness = np.array([[0.2, 0], [0, 0.9], [0.9, 0], [0.5, 0], [0, 0.1]])
    picked = most_typical_rows(closeness, clusters, size=2)
    assert {c: rows.tolist() for c, rows in picked.items()} == {0: [2, 3], 1: [1, 4]}


def test_least_typical_rows_come_first_ties_by_index():
    assert least_typical(np.array([0.5, 0.0, 0.2, 0.0, 0.9]), 3).tolist() == [1, 3, 2]


def test_per_class_sample_is_seeded_and_of_each_class():
    labels = np.repeat(np.arange(10), 6)
    first = per_class_sample(labels, 4, seed=1, n_classes=10)
    assert [labels[rows].tolist() for rows in first] == [[c] * 4 for c in range(10)]
    assert [r.tolist() for r in per_class_sample(labels, 4, seed=1, n_classes=10)] == [r.tolist() for r in first]
    assert [r.tolist() for r in per_class_sample(labels, 4, seed=2, n_classes=10)] != [r.tolist() for r in first]


def test_cluster_rows_size_matched_class_and_purity():
    y = np.array([0, 0, 0, 1, 1, 2])
    clusters = np.array([3, 3, 5, 5, 5, 3])
    rows = cluster_rows(y, clusters, {"3": "T-shirt/top", "5": "Trouser"}, CLASS_NAMES)
    assert rows == [["3", "3", "T-shirt/top", "T-shirt/top", "66.7%"],
                    ["5", "3", "Trouser", "Trouser", "66.7%"]]


def test_largest_confusions_are_off_diagonal():
    table = np.diag(np.full(10, 50))
    table[4, 2], table[6, 0], table[9, 7] = 30, 12, 20
    assert largest_confusions(table, 2, CLASS_NAMES) == [(30, "Coat", "Pullover"), (20, "Ankle boot", "Sneaker")]
    assert largest_confusions(np.diag(np.ones(10, int)), 3, CLASS_NAMES) == []


def test_training_extras_name_each_option_that_is_on():
    settings = RunSettings.from_params(load_params(PROJECT_ROOT / "params.yaml"))
    ae, views, layer = settings.autoencoder, settings.views, settings.clustering_layer
    off = (replace(ae, input_noise=0.0), replace(views, weight=0.0), replace(layer, weight=0.0))
    assert training_extras(*off) == ""  # reconstruction alone
    on = (replace(ae, input_noise=0.2), replace(views, weight=0.1),
          replace(layer, weight=0.1, kernel="gaussian", epochs=7))
    text = training_extras(*on)
    assert "standard deviation 0.2" in text and "0.1 × NT-Xent" in text
    assert "7 epochs with a clustering layer (IDEC)" in text and "gaussian kernel" in text


def test_markdown_numbers_sections_tables_and_figures(tmp_path):
    document = Document("Title", [
        Chapter("Abstract", [Paragraph("text")], numbered=False),
        Chapter("One", [Table("first", ["a", "b"], [["1", "2"]]), Figure(tmp_path / "f.png", "pic")]),
        Chapter("Two", [Table("second", ["c"], [["3"]])]),
    ])
    text = to_markdown(document)
    for line in ("# Title", "## Abstract", "## 1 One", "## 2 Two", "*Table 1: first*", "| a | b |",
                 "| 1 | 2 |", "*Figure 1: pic*", "*Table 2: second*"):
        assert line in text.splitlines()


def scores_of(rng) -> dict:
    return {m: {s: {k: float(rng.uniform(0.2, 0.9)) for k in ("acc", "nmi", "ari", "completeness")}
                for s in SPLIT_NAMES} for m in METHODS}


def label_free_of(clusters: dict, rng) -> dict:
    """metrics/clusters.json of made-up clusters (the test split's sizes stand in for every split)."""
    sizes = {m: {s: np.bincount(c, minlength=10).tolist() for s in SPLIT_NAMES} for m, c in clusters.items()}
    pairs = ("baseline_kmeans vs ae_kmeans", "baseline_kmeans vs ae_gmm", "ae_kmeans vs ae_gmm")
    return {"cluster_sizes": sizes, "agreement_ari": {s: {p: float(rng.random()) for p in pairs} for s in ("test", "train")},
            "silhouette_test": {m: float(rng.uniform(-1, 1)) for m in METHODS} | {"baseline_kmeans": None},
            "silhouette_rows": 60, "typicality_flagged": {s: 0.01 for s in SPLIT_NAMES}}


K_GUIDE = {"criterion": "bic", "k": list(range(2, 9)), "bic": [100.0, 50.0, 20.0, 5.0, 4.0, 3.5, 3.0],
           "chosen_k": 5, "tolerance": 0.01, "rows": 80}


def made_up_run(description: DatasetDescription) -> Run:
    """A run of random pixels of ``description``'s shape, with labels if it has classes."""
    rng = np.random.default_rng(0)
    y_train, y_test = np.repeat(np.arange(10), 8), np.repeat(np.arange(10), 6)
    if not description.labelled:
        y_train, y_test = np.full(len(y_train), -1, np.int8), np.full(len(y_test), -1, np.int8)
    x_train = rng.random((len(y_train), description.row_length), dtype=np.float32)
    x_test = rng.random((len(y_test), description.row_length), dtype=np.float32)
    clusters = {m: rng.permutation(np.arange(len(y_test)) % 10) for m in METHODS}
    autoencoder, _ = build_autoencoder(AutoencoderConfig("dense", 3, [16], [8]), description.image_shape)
    names = description.class_names
    counts = {s: {name: n for name in names or ()} for s, n in zip(SPLIT_NAMES, (8, 2, 6))}
    return Run(
        settings=RunSettings.from_params(load_params(PROJECT_ROOT / "params.yaml")), description=description,
        checksums=dict(OFFICIAL_SHA256) if names else {}, class_counts=counts,
        scores=scores_of(rng) if names else {},
        cluster_classes={m: {str(c): names[(c + 1) % 10] if names else None for c in range(10)} for m in METHODS},
        label_free=label_free_of(clusters, rng), k_guide=K_GUIDE,
        losses=([0.05, 0.03, 0.02], [0.04, 0.03, 0.025]),
        splits={"train": (x_train, y_train), "test": (x_test, y_test)},
        test_features=rng.normal(size=(len(y_test), 3)).astype(np.float32), test_clusters=clusters,
        closeness={m: rng.random((len(y_test), 10)) for m in METHODS}, autoencoder=autoencoder,
        machine={"model": "AMD EPYC", "vector_extensions": ["avx2", "avx512f"], "cpus": 2, "tensorflow_threads": 2},
        test_typicality=rng.random(len(y_test)), flagged={name: float(rng.random()) for name in [*FLAGGED_SETS, "test_moved_12px", "test_moved_6px"]},
        typicality_threshold=0.0125,
    )


@pytest.fixture(scope="module")
def run() -> Run:
    return made_up_run(DatasetDescription("Fashion-MNIST", 28, 28, 1, CLASS_NAMES, {"train": 80, "val": 20, "test": 60}))


@pytest.fixture(scope="module")
def written(run, tmp_path_factory):
    """The report written twice into different folders: ``(first, second)``."""
    return [write_report(run, tmp_path_factory.mktemp(name)) for name in ("first", "second")]


def write_report(run: Run, folder: Path) -> Path:
    """The report of ``run`` in ``folder``, Markdown and PDF, as the stage writes it."""
    figures = make_figures(run, CONFIG, folder / "figures")
    document = compose(run, CONFIG, {k: p.relative_to(folder) for k, p in figures.items()}, Path("confusion"))
    (folder / "report.md").write_text(to_markdown(document))
    if run.description.labelled:
        (folder / "confusion").mkdir()
        for method in METHODS:  # stand-ins for the evaluate stage's heatmaps, which the report shows
            (folder / "confusion" / f"confusion_{method}.png").write_bytes(figures["loss"].read_bytes())
    write_pdf(document, folder / "report.pdf", folder)
    return folder


def test_a_report_without_labels_shows_clusters_not_classes(tmp_path):
    description = DatasetDescription("colour squares", 8, 8, 3, None, {"train": 80, "val": 20, "test": 60})
    unlabelled = made_up_run(description)
    folder = write_report(unlabelled, tmp_path)
    text = (folder / "report.md").read_text()
    assert text.startswith("# Clustering colour squares without labels")
    assert "colour squares: 8×8 colour images without labels." in text
    for needs_classes in ("ACC", "NMI", "confusion", "matched class", "SHA-256", "Fashion", "garment", "clothing"):
        assert needs_classes not in text, needs_classes
    assert "| cluster | train | val | test |" in text and "the K guide" in text and "**K = 5**" in text
    ari = unlabelled.label_free["agreement_ari"]["test"]["ae_kmeans vs ae_gmm"]
    assert f"agree with an adjusted Rand index of {ari:.3f}" in text
    assert "Autoencoder + K-Means, equal sizes; Autoencoder + GMM, equal sizes" in text
    for path in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (folder / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_report_has_the_course_sections_and_every_score(run, written):
    text = (written[0] / "report.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Abstract", "## 1 Introduction", "## 2 Dataset", "## 3 Architecture",
                        "## 4 Results", "## 5 Conclusion"]
    for method in METHODS:
        for split in SPLIT_NAMES:
            row = [f"{run.scores[method][split][k]:.3f}" for k in ("acc", "nmi", "ari", "completeness")]
            assert f"| {METHODS[method]} | {split} | " + " | ".join(row) + " |" in text
    best = ranked_methods(run.scores)[0]
    conclusion = text.split("## 5 Conclusion")[1]
    assert f"{METHODS[best]} recovers the classes best: test ACC {run.scores[best]['test']['acc']:.3f}" in conclusion
    margin = run.scores[best]["test"]["acc"] - run.scores["baseline_kmeans"]["test"]["acc"]
    assert f"{margin:.3f} above K-Means on raw pixels" in conclusion
    assert text.count("| yes |") == len(OFFICIAL_SHA256)
    assert f"| total |  |  |  | {run.autoencoder.count_params():,} |" in text
    for path in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (written[0] / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def test_layer_rows_are_read_from_the_model(run):
    rows = layer_rows(run.autoencoder)
    assert [r[:2] for r in rows[:2]] == [["encoder", rows[0][1]], ["encoder", "code"]]
    assert rows[1][3] == "(None, 3)" and rows[-2][3] == "(None, 784)"
    assert sum(int(r[4].replace(",", "")) for r in rows[:-1]) == run.autoencoder.count_params()


def test_report_files_are_byte_stable(written):
    first, second = written
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {"report.md", "report.pdf"} <= {str(n) for n in names}
    assert len([n for n in names if n.suffix == ".png"]) >= 7
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    pdf = (first / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"D:1980" in pdf


def test_project_report_params_parse_and_bad_ones_are_named():
    from fashion_clustering.errors import PipelineError
    from fashion_clustering.params import Section

    section = Section.load("report", PROJECT_ROOT / "params.yaml")
    assert ReportConfig.from_params(section).gallery_size >= 1
    with pytest.raises(PipelineError, match=r"report\.map_points must be an integer >= 10, got 3"):
        ReportConfig.from_params(Section({**section.values, "map_points": 3}, "report"))


def test_the_architecture_names_the_machine_that_trained_the_model(written):
    first, _ = written
    text = (first / "report.md").read_text()
    assert "It was trained on AMD EPYC (avx2, avx512f), with 2 TensorFlow threads:" in text
    assert "any other image is placed at the mean of the embeddings of its 20 nearest training codes" in text


def test_the_results_say_what_typicality_flags(run, written):
    text = (written[0] / "report.md").read_text()
    assert run.typicality_threshold != run.settings.typicality.threshold  # the calibration's is said
    assert f"flags an image as atypical when its typicality is below {run.typicality_threshold}" in text
    assert f"{run.flagged['test']:.1%} of the test images are flagged." in text
    assert [title for _, title in flagged_sets(run.flagged)][-2:] == ["test images moved 6 pixels",
                                                                   "test images moved 12 pixels"]
    for name, title in flagged_sets(run.flagged):
        assert f"| {title} | {run.flagged[name]:.1%} |" in text
    assert "](figures/typicality.png)" in text


def test_losses_are_read_from_dvclives_tsv_to_the_last_bit(tmp_path):
    values = {"train": [0.1, 0.030000000000000002, 1 / 3], "eval": [0.2, 2 / 3, 1e-7]}
    for split, losses in values.items():
        folder = tmp_path / "plots" / "metrics" / split
        folder.mkdir(parents=True)
        (folder / "loss.tsv").write_text("timestamp\tstep\tloss\n"
                                         + "".join(f"17\t{i}\t{v!r}\n" for i, v in enumerate(losses)))
    assert read_losses(tmp_path) == (values["train"], values["eval"])
    (tmp_path / "plots" / "metrics" / "eval" / "loss.tsv").write_text("step\tval\n0\t1\n")
    with pytest.raises(PipelineError, match=r"eval/loss\.tsv: expected DVCLive's step/loss TSV"):
        read_losses(tmp_path)


@pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning")
def test_the_report_stage_on_grey_images_of_another_size_without_labels(tmp_path, monkeypatch, run_script):
    """The stage itself, on made-up 8×8 grey images without labels, their clusters and a small
    autoencoder of their size."""
    from fashion_clustering.files import write_json
    from fashion_clustering.representation import autoencoder as autoencoders
    from fashion_clustering.typicality.scores import SCORES, Calibration, save_calibration

    rng = np.random.default_rng(3)
    rows = {"train": 80, "val": 20, "test": 40}
    made_up_run_without_labels(tmp_path, DatasetDescription("grey squares", 8, 8, 1, None, rows), seed=3)
    (tmp_path / "data/raw").mkdir()
    save_calibration(tmp_path / "data/models/typicality.npz",
                     Calibration(np.sort(rng.random((20, len(SCORES))), axis=0), np.arange(20), 0.05))
    write_pickle(tmp_path / "data/models/ae_gmm.pkl", read_pickle(tmp_path / "data/models/ae_kmeans.pkl", ""))
    model, _ = autoencoders.build_autoencoder(autoencoders.AutoencoderConfig("dense", 3, [16], [8]), (8, 8, 1))
    autoencoders.save_model(model, str(tmp_path / "data/models/autoencoder.keras"))
    metrics = tmp_path / "metrics"
    for split in ("train", "eval"):
        (metrics / f"train_autoencoder/plots/metrics/{split}").mkdir(parents=True)
        (metrics / f"train_autoencoder/plots/metrics/{split}/loss.tsv").write_text("step\tloss\n0\t0.05\n1\t0.04\n")
    write_json(metrics / "train_autoencoder/machine.json",
               {"model": "AMD EPYC", "vector_extensions": ["avx2"], "cpus": 2, "tensorflow_threads": 2})
    write_json(metrics / "class_counts.json", {s: {} for s in rows})
    write_json(metrics / "evaluate.json", {})
    write_json(metrics / "cluster_classes.json", {m: {str(c): None for c in range(4)} for m in METHODS})
    clusters = {m: load_arrays(tmp_path / f"data/assignments/{m}.npz", tuple(rows)) for m in METHODS}
    write_json(metrics / "clusters.json", label_free_of({m: c["test"] for m, c in clusters.items()}, rng))
    write_json(metrics / "choose_k.json", K_GUIDE)
    write_json(metrics / "typicality.json", {"flagged": {name: 0.5 for name in [*FLAGGED_SETS, "test_moved_2px"]},
                                              "threshold": 0.05})
    (tmp_path / "dvc.yaml").write_text((PROJECT_ROOT / "dvc.yaml").read_text())
    params = load_params(PROJECT_ROOT / "params.yaml")
    params["fetch"]["source"].update(kind="arrays", path="squares.npz")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    status, err = run_script("stages/report.py", "data/dataset.json", "data/raw", "data/prepared", "data/models",
                             "data/features.npz", "data/assignments", "data/typicality.npz", "metrics", "report")
    assert status == 0, err
    text = (tmp_path / "report/report.md").read_text()
    assert text.startswith("# Clustering grey squares without labels") and "8×8 grey images without labels" in text
    assert "ACC" not in text and "SHA-256" not in text and "confusion" not in text
    assert "They are read from the arrays source `squares.npz`." in text
    assert "8×8 pixels) to the code" in text and "| total |  |  |  | " in text
    # cluster_sizes auto, on a user's arrays: the report names the free prior the run used
    assert f"{METHODS['ae_kmeans']}, free sizes; {METHODS['ae_gmm']}, free sizes" in text
    figures = sorted(p.name for p in (tmp_path / "report/figures").glob("*.png"))
    assert figures == sorted(["samples.png", "loss.png", "gallery_baseline_kmeans.png", "gallery_ae_kmeans.png",
                              "gallery_ae_gmm.png", "map.png", "k_guide.png", "disagreements.png",
                              "reconstructions.png", "typicality.png"])
