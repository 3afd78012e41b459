"""`fashion-clustering predict`: reading and converting inputs, and assigning them exactly
as the pipeline assigns its test split, on small models trained here."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw

from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig, fit_gmm, fit_kmeans
from fashion_clustering.data.description import DatasetDescription, write_description
from fashion_clustering.data.idx import encode_idx
from fashion_clustering.errors import PipelineError
from fashion_clustering.files import read_pickle, write_pickle
from fashion_clustering.typicality.outliers import flat_fills, moved
from fashion_clustering.typicality.scores import SCORES, calibrate, save_calibration, typicality_scores
from fashion_clustering.prediction import cli
from fashion_clustering.prediction.predict import picture_to_pixels, read_pixels
from fashion_clustering.representation.autoencoder import AutoencoderConfig, build_autoencoder, save_model
from fashion_clustering.representation.exact_decoder import load_exact_decoder
from fashion_clustering.representation.exact_encoder import exact_encode, load_exact_encoder
from fashion_clustering.representation.manifold import UmapConfig, embed_codes, fit_umap, save_manifold

pytestmark = [
    pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]
BATCH = 32
THRESHOLD = 0.05
PARAMS = {"encode": {"batch_size": BATCH}, "fetch": {"source": {"kind": "fashion-mnist"}}}
SHAPE = (28, 28, 1)
DESCRIPTION = DatasetDescription("garments", *SHAPE, ("Trouser", "Bag", "Dress"), {"train": 300, "val": 0, "test": 0})


def garments(n: int, seed: int) -> np.ndarray:
    """``n`` uint8 28×28 images: light rectangles of three shapes on black, with noise."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, kind in enumerate(rng.integers(0, 3, n)):
        top, bottom, left, right = [(2, 26, 10, 18), (4, 24, 3, 25), (12, 22, 2, 26)][kind]
        images[i, top:bottom, left:right] = rng.integers(150, 256)
    return np.clip(images + rng.integers(0, 40, images.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A workspace whose data/models and metrics/cluster_classes.json look like a run's
    (the typicality calibrated on the garments the models were fitted on)."""
    root = tmp_path_factory.mktemp("workspace")
    models = root / "data" / "models"
    x = garments(300, seed=0).reshape(300, 784) / np.float32(255)
    autoencoder, _ = build_autoencoder(AutoencoderConfig("dense", 4, [32], [32]), SHAPE)
    save_model(autoencoder, str(models / "autoencoder.keras"))
    encoder = load_exact_encoder(str(models / "autoencoder.keras"))
    manifold = fit_umap(exact_encode(encoder, x, BATCH), UmapConfig(2, 10, 0.0, "euclidean", 30, 0))
    save_manifold(str(models / "manifold.pkl"), manifold)
    features = manifold.embedding
    kmeans = KMeansConfig(n_clusters=3, n_init=2, max_iter=50, tol=1e-4, seed=0)
    write_pickle(models / "baseline_kmeans.pkl", fit_kmeans(x, kmeans))
    write_pickle(models / "ae_kmeans.pkl", fit_kmeans(features, kmeans))
    gmm = GmmConfig(3, "diag", 1, 50, 1e-3, 1e-6, "kmeans", 0)
    write_pickle(models / "ae_gmm.pkl", fit_gmm(features, gmm))
    decoder = load_exact_decoder(str(models / "autoencoder.keras"))
    save_calibration(models / "typicality.npz", calibrate(typicality_scores(encoder, decoder, x, BATCH, SHAPE),
                                                          THRESHOLD))
    write_description(root / "data" / "dataset.json", DESCRIPTION)
    names = {"0": "Trouser", "1": "Bag", "2": "Dress"}
    (root / "metrics").mkdir()
    (root / "metrics" / "cluster_classes.json").write_text(json.dumps(
        {m: names for m in ("baseline_kmeans", "ae_kmeans", "ae_gmm")}))
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    return root, encoder, manifold


def run_cli(root, monkeypatch, capsys, *args):
    monkeypatch.chdir(root)
    status = cli.main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def expected_clusters(root, encoder, manifold, images: np.ndarray) -> dict[str, list[int]]:
    """What the pipeline's path gives ``images`` encoded all together."""
    x = images.reshape(len(images), 784) / np.float32(255)
    features = embed_codes(manifold, exact_encode(encoder, x, BATCH))
    result = {}
    for method in ("baseline_kmeans", "ae_kmeans", "ae_gmm"):
        model = read_pickle(root / "data" / "models" / f"{method}.pkl", "made above")
        result[method] = model.predict(x if method == "baseline_kmeans" else features).tolist()
    return result


def test_predict_npy_and_idx_agree_with_the_pipelines_assignments(workspace, tmp_path, monkeypatch, capsys):
    root, encoder, manifold = workspace
    images = garments(12, seed=5)
    np.save(tmp_path / "five.npy", images[:5])
    np.save(tmp_path / "one_flat_float.npy", images[5:6].reshape(1, 784) / np.float32(255))
    (tmp_path / "rest-idx3-ubyte.gz").write_bytes(gzip.compress(encode_idx(images[6:]), mtime=0))
    status, out, err = run_cli(root, monkeypatch, capsys, "--format", "json", tmp_path / "five.npy",
                               tmp_path / "one_flat_float.npy", tmp_path / "rest-idx3-ubyte.gz")
    assert status == 0, err
    rows = json.loads(out)
    assert len(rows) == 3 * 12
    expected = expected_clusters(root, encoder, manifold, images)
    for method, clusters in expected.items():
        mine = [r for r in rows if r["method"] == method]
        assert [r["cluster"] for r in mine] == clusters
        assert [(r["source"].rsplit("/", 1)[-1], r["index"]) for r in mine][4:7] == [
            ("five.npy", 4), ("one_flat_float.npy", 0), ("rest-idx3-ubyte.gz", 0)]
        assert all(r["class"] == {"0": "Trouser", "1": "Bag", "2": "Dress"}[str(r["cluster"])] for r in mine)
        assert all((r["probability"] is not None) == (method == "ae_gmm") for r in mine)
    assert all(0 < r["probability"] <= 1 for r in rows if r["method"] == "ae_gmm")
    by_image = {}  # one typicality per image, whatever the method
    for r in rows:
        by_image.setdefault((r["source"], r["index"]), set()).add((r["typicality"], r["atypical"], r["why"]))
    assert len(by_image) == 12 and all(len(answers) == 1 for answers in by_image.values())
    assert all(0 <= share <= 1 and flag == (share < THRESHOLD) and (why in SCORES if flag else why is None)
               for (share, flag, why), in by_image.values())


def test_an_images_answer_is_the_same_alone_and_among_others(workspace, tmp_path, monkeypatch, capsys):
    root, *_ = workspace
    images = np.concatenate([garments(6, seed=7), np.random.default_rng(0).integers(0, 256, (2, 28, 28), np.uint8)])
    np.save(tmp_path / "all.npy", images)
    np.save(tmp_path / "one.npy", images[6:7])  # a noise image among garments, then alone
    _, together, _ = run_cli(root, monkeypatch, capsys, "--format", "json", tmp_path / "all.npy")
    _, alone, _ = run_cli(root, monkeypatch, capsys, "--format", "json", tmp_path / "one.npy")
    drop = {"source", "index"}
    expected = [{k: v for k, v in r.items() if k not in drop} for r in json.loads(together) if r["index"] == 6]
    assert [{k: v for k, v in r.items() if k not in drop} for r in json.loads(alone)] == expected


def silhouette(size=(150, 200), background="white", colour="black", mode="RGB") -> Image.Image:
    """A T-shirt drawn dark on light (or as asked), off-centre in a larger picture."""
    picture = Image.new(mode, size, background)
    ImageDraw.Draw(picture).polygon(
        [(40, 30), (70, 20), (100, 30), (125, 60), (110, 70), (100, 60), (100, 170), (40, 170),
         (40, 60), (30, 70), (15, 60)], fill=colour)
    return picture


@pytest.mark.parametrize("picture", [
    silhouette(), silhouette(background="black", colour="white"),
    silhouette(background=(0, 0, 0, 0), colour=(200, 30, 30, 255), mode="RGBA"),
], ids=["dark-on-light", "light-on-dark", "transparent"])
def test_picture_becomes_a_light_garment_on_black_filling_the_frame(picture):
    pixels = picture_to_pixels(picture, SHAPE[:2])
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert pixels[0, 0] == pixels[0, -1] == pixels[-1, 0] == pixels[-1, -1] == 0
    assert pixels[14, 14] > 100  # the body of the shirt is light
    rows = np.flatnonzero(pixels.max(axis=1) > 50)
    assert rows[0] <= 1 and rows[-1] >= 26  # the taller side fills the frame


def test_drawn_png_is_answered(workspace, tmp_path, monkeypatch, capsys):
    root, *_ = workspace
    silhouette().save(tmp_path / "shirt.png")
    silhouette().convert("L").save(tmp_path / "shirt.bmp")
    status, out, err = run_cli(root, monkeypatch, capsys, "--format", "csv", tmp_path / "shirt.png",
                               tmp_path / "shirt.bmp")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["method"] for r in rows] == ["baseline_kmeans", "ae_kmeans", "ae_gmm"] * 2
    assert all(r["cluster"] in {"0", "1", "2"} and r["error"] == "" for r in rows)
    assert all(re.fullmatch(r"[01]\.\d{4}", r["typicality"]) and r["atypical"] in {"true", "false"} for r in rows)
    assert [r["cluster"] for r in rows[:3]] == [r["cluster"] for r in rows[3:]]


def test_bad_files_get_error_rows_and_the_others_are_answered(workspace, tmp_path, monkeypatch, capsys):
    root, *_ = workspace
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    np.save(tmp_path / "wrong_shape.npy", np.zeros((2, 10, 10), np.uint8))
    np.save(tmp_path / "good.npy", garments(2, seed=1))
    Image.new("L", (40, 40), "white").save(tmp_path / "blank.png")
    status, out, _ = run_cli(root, monkeypatch, capsys, "--method", "ae_gmm", tmp_path / "corrupt.png",
                             tmp_path / "wrong_shape.npy", tmp_path / "good.npy", tmp_path / "blank.png",
                             tmp_path / "missing.npy")
    assert status == 1
    lines = out.splitlines()
    assert lines[0].split() == ["source", "index", "method", "cluster", "class", "probability", "typicality",
                                "atypical", "why", "error"]
    body = lines[2:]
    assert len(body) == 4 + 2
    assert "corrupt.png: not a readable PNG, JPEG or BMP picture" in body[0]
    assert "wrong_shape.npy: unsupported shape (2, 10, 10)" in body[1]
    assert all("ae_gmm" in line and "good.npy" in line for line in body[2:4])
    assert "blank.png: no object found" in body[4]
    assert "missing.npy: cannot read" in body[5]


@pytest.mark.parametrize("array, message", [
    (np.zeros((3, 28, 28), np.float64) + 2.0, "expected uint8 or floats in [0, 1]"),
    (np.zeros((3, 28, 28), np.int64), "expected uint8 or floats in [0, 1]"),
    (np.zeros((28, 28), np.uint8), "unsupported shape (28, 28)"),
])
def test_unsupported_arrays(tmp_path, array, message):
    np.save(tmp_path / "a.npy", array)
    with pytest.raises(PipelineError, match=r"a\.npy: .*" + re.escape(message)):
        read_pixels(tmp_path / "a.npy", DESCRIPTION)


def test_idx_of_labels_is_unsupported(tmp_path):
    (tmp_path / "labels").write_bytes(encode_idx(np.arange(5, dtype=np.uint8)))
    with pytest.raises(PipelineError, match="labels: not a readable PNG"):
        read_pixels(tmp_path / "labels", DESCRIPTION)


def test_missing_models_say_to_run_the_pipeline(workspace, tmp_path, monkeypatch, capsys):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    np.save(tmp_path / "good.npy", garments(1, seed=1))
    status, out, err = run_cli(tmp_path, monkeypatch, capsys, tmp_path / "good.npy")
    assert status == 1 and out == ""
    assert err.splitlines() == ["error: data/models/baseline_kmeans.pkl: not found; run `dvc repro` to make it"]
    root, *_ = workspace
    shutil.copytree(root / "data", tmp_path / "data")
    (tmp_path / "data/models/typicality.npz").unlink()
    status, out, err = run_cli(tmp_path, monkeypatch, capsys, "--classes", root / "metrics/cluster_classes.json",
                               tmp_path / "good.npy")
    assert status == 1 and out == ""
    assert err.splitlines() == ["error: data/models/typicality.npz: not found; run `dvc repro` to make it"]


def test_flagged_images_say_why_and_the_threshold_is_the_calibrations(workspace, tmp_path, monkeypatch, capsys):
    root, *_ = workspace
    # The live params say another threshold: predict flags with the one the run calibrated with.
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({**PARAMS, "typicality": {"threshold": 0.9}}))
    rectangles = np.zeros((8, 28, 28), np.uint8)  # 6 pixels from each edge at least: moved 6, nothing is lost
    rectangles[:, 6:22, 8:20] = np.random.default_rng(3).integers(150, 256, (8, 16, 12))
    rectangles = rectangles.reshape(8, 784)
    np.save(tmp_path / "kinds.npy", np.concatenate([
        garments(30, seed=3).reshape(30, 784), rectangles, moved(rectangles, 6, SHAPE),
        flat_fills(4, 0, *SHAPE[:2]).reshape(4, 784)]))
    status, out, err = run_cli(root, monkeypatch, capsys, "--format", "json", "--method", "ae_gmm",
                               "--params", tmp_path / "params.yaml", tmp_path / "kinds.npy")
    assert status == 0, err
    rows = json.loads(out)
    like_calibration = rows[:30]
    assert all(r["atypical"] == (r["typicality"] < THRESHOLD) for r in like_calibration)
    assert any(THRESHOLD <= r["typicality"] < 0.9 for r in like_calibration)
    assert [r["why"] for r in rows[38:]] == ["off_centre"] * 8 + ["smoothness"] * 4
    assert all(r["atypical"] and r["typicality"] == 0.0 for r in rows[38:])
    # Centred, the moved garments are the garments again: the same answers as the originals,
    # which, in the middle of their frames, are left as they are.
    status, out, err = run_cli(root, monkeypatch, capsys, "--format", "json", "--method", "ae_gmm", "--centre",
                               tmp_path / "kinds.npy")
    centred_rows = json.loads(out)
    assert centred_rows[:38] == rows[:38]

    def answers(part):
        return [{k: v for k, v in r.items() if k != "index"} for r in part]

    assert answers(centred_rows[38:46]) == answers(rows[30:38])


def test_predict_imports_neither_tensorflow_nor_numba(workspace, tmp_path):
    """Importing TensorFlow takes seconds and Numba compiles UMAP's search in every process:
    the path of a new image needs neither."""
    import subprocess
    import sys

    root, *_ = workspace
    np.save(tmp_path / "two.npy", garments(2, seed=6))
    script = ("import sys\nfrom fashion_clustering.prediction import cli\nstatus = cli.main(['predict', sys.argv[1]])\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'umap', 'numba'}))\n"
              "sys.exit(status)")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "two.npy")], cwd=root,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ae_gmm" in done.stdout and done.stdout.splitlines()[-1] == "[]"
