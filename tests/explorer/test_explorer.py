"""The explorer page in real Chromium with the network cut: a synthetic run of 70,000 rows,
each at its own pixel of the map, with noise images, and a smaller one of 8×8 colour images
without labels; what the page shows is compared with what the arrays say."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import CHROMIUM_FLAGS, NO_NETWORK, PROJECT_ROOT
from helpers import made_up_run_without_labels
from fashion_clustering.data.description import DatasetDescription
from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.evaluation.cluster_classes import cluster_class_index
from fashion_clustering.evaluation.metrics import match_clusters
from fashion_clustering.explorer.page import ExploreConfig, dequantized, quantize, write_page
from fashion_clustering.explorer.run import ExplorerRun
from fashion_clustering.prediction.cli import main as cli_main

pytestmark = pytest.mark.slow

ROWS = {"train": 48_000, "val": 12_000, "test": 10_000}
N = sum(ROWS.values())
METHOD_NAMES = ("ae_gmm", "ae_kmeans", "baseline_kmeans")
CONFIG = ExploreConfig(layout_sample=10, layout_neighbors=2, layout_epochs=10, seed=0, image_bits=4, sheet_side=100,
                       least_typical=7, point_size=1, hover_zoom=3)
HOVERED = 54_321
# Images of one file are same-origin only with this flag; the page itself never reads pixels,
# the probe does, to compare the hovered image with the row's.
FILE_ACCESS = "--allow-file-access-from-files"
PROBE = """<script>
window.addEventListener("load", () => setTimeout(async () => {
  const $ = id => document.getElementById(id), out = {};
  const map = $("map"), px = map.getContext("2d").getImageData(0, 0, map.width, map.height).data;
  let coloured = 0; for (let i = 0; i < px.length; i += 4) coloured += px[i] + px[i + 1] + px[i + 2] < 765;
  out.coloured = coloured; out.drawn = +map.dataset.pointsDrawn;
  const loaded = () => explorer.sheetsLoaded().map(s => `images_${s}.png`);
  out.sheetsAtOpen = loaded();
  const [x, y] = explorer.pointAt(HOVERED);
  map.dispatchEvent(new MouseEvent("mousemove", {clientX: x, clientY: y, bubbles: true}));
  const tip = $("tooltip");
  for (let t = 0; t < 100 && tip.dataset.imageShown === undefined; t++) await new Promise(r => setTimeout(r, 100));
  out.hoverRow = +tip.dataset.imageShown; out.hoverText = $("tip-text").textContent; out.sheetsAfterHover = loaded();
  const tc = $("tip-image"), z = tc.width / 28, tp = tc.getContext("2d").getImageData(0, 0, tc.width, tc.height).data;
  out.hoverPixels = []; for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++)
    out.hoverPixels.push(tp[((r * z + (z >> 1)) * tc.width + c * z + (z >> 1)) * 4]);
  const pick = (id, v) => { $(id).value = v; $(id).dispatchEvent(new Event("change")); };
  const grid = () => { const t = [...document.querySelectorAll("#grid .thumb")];
    return {count: +$("grid-count").dataset.count, tiles: t.length, marked: t.filter(d => d.classList.contains("other")).length,
            rows: t.map(d => +d.dataset.row)}; };
  pick("cluster-method", "ae_kmeans"); pick("cluster-id", "3"); $("cluster-show").click(); out.cluster = grid();
  pick("confusion-method", "baseline_kmeans"); document.querySelector('#confusion td[data-r="2"][data-c="5"]').click();
  out.cell = grid(); out.cellText = document.querySelector('#confusion td[data-r="2"][data-c="5"]').textContent;
  pick("dis-a", "baseline_kmeans"); pick("dis-b", "ae_gmm"); $("dis-show").click(); out.disagree = grid();
  $("least-show").click(); out.least = grid();
  $("split-0").checked = false; $("split-0").dispatchEvent(new Event("change"));
  $("cluster-show").click(); out.clusterNoTrain = grid();
  const pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out); document.body.append(pre);
}, 500));
</script>
"""


def synthetic_run(seed: int = 0) -> tuple[ExplorerRun, np.ndarray]:
    """70,000 rows with random classes, clusters, scores and noise images, and a layout that
    puts each row on its own point of a 280 × 250 grid."""
    rng = np.random.default_rng(seed)
    split = np.concatenate([np.full(n, i, dtype=np.uint8) for i, n in enumerate(ROWS.values())])
    clusters = {m: rng.integers(0, 10, N).astype(np.int32) for m in METHOD_NAMES}
    membership = {m: rng.random(N).astype(np.float32) for m in METHOD_NAMES}
    names = {m: {str(c): CLASS_NAMES[(c + shift) % 10] for c in range(10)}
             for shift, m in enumerate(METHOD_NAMES)}
    scores = {m: {s: {"acc": 0.5, "nmi": 0.5} for s in ROWS} for m in METHOD_NAMES}
    description = DatasetDescription("Fashion-MNIST", 28, 28, 1, CLASS_NAMES, ROWS)
    run = ExplorerRun(description=description, images=rng.integers(0, 256, (N, 28, 28, 1), dtype=np.uint8), split=split,
                      label=rng.integers(0, 10, N).astype(np.uint8), features=np.zeros((N, 2), np.float32),
                      clusters=clusters, membership=membership, typicality=rng.random(N),
                      scores=scores, cluster_classes=names)
    grid = np.stack([np.arange(N) % 280, np.arange(N) // 280], axis=1).astype(np.float32)
    return run, grid[rng.permutation(N)]


PARAMS = {"train_autoencoder": {"architecture": "dense", "latent_dim": 10, "epochs": 20, "seed": 0},
          "encode": {"manifold": "umap"}, "cluster_kmeans": {"cluster_sizes": "equal", "standardize": True},
          "cluster_gmm": {"cluster_sizes": "equal", "covariance_type": "full", "start": "kmeans_clusters"}}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[ExplorerRun, Path]:
    run, xy = synthetic_run()
    out = tmp_path_factory.mktemp("explorer") / "explorer"
    write_page(out, run, xy, CONFIG, PARAMS)
    return run, out


def probe(out: Path, script: str, chromium: str, profile: Path) -> dict:
    """What ``script`` (a probe writing JSON into ``<pre id="probe">``) found on the page in ``out``."""
    probed = out / "probed.html"
    probed.write_text((out / "index.html").read_text().replace("</body>", script + "</body>"))
    command = [*NO_NETWORK, chromium, *CHROMIUM_FLAGS, FILE_ACCESS, "--window-size=1400,1000",
               f"--user-data-dir={profile}", probed.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=300).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom)
    assert found, "the probe did not run: " + dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def probed(page, chromium, tmp_path_factory) -> dict:  # noqa: F811 (the fixture imported above)
    _, out = page
    return probe(out, PROBE.replace("HOVERED", str(HOVERED)), chromium, tmp_path_factory.mktemp("profile"))


def test_the_map_draws_all_70000_points(probed):
    assert probed["drawn"] == N
    assert probed["coloured"] == N  # one pixel each, none hidden under another


def test_hovering_a_point_shows_its_image(page, probed):
    run, _ = page
    assert probed["hoverRow"] == HOVERED
    expected = quantize(run.images[HOVERED], CONFIG.image_bits).astype(int) * 17
    assert probed["hoverPixels"] == expected.ravel().tolist()
    assert f"image {HOVERED}" in probed["hoverText"] and CLASS_NAMES[run.label[HOVERED]] in probed["hoverText"]


def test_image_sheets_are_loaded_only_when_an_image_is_shown(probed):
    assert probed["sheetsAtOpen"] == []
    assert probed["sheetsAfterHover"] == [f"images_{HOVERED // CONFIG.sheet_side ** 2}.png"]


def test_the_page_holds_its_values_in_two_bytes_within_half_a_level(page):
    run, out = page
    data = json.loads((out / "data.js").read_text().removeprefix("window.EXPLORER_DATA = ").rstrip(";\n"))
    arrays = data["arrays"]
    assert {arrays[f"cluster_{m}"]["dtype"] for m in METHOD_NAMES} == {"uint8"} and arrays["label"]["dtype"] == "uint8"
    typicality = arrays["typicality"]
    levels = np.frombuffer(base64.b64decode(typicality["b64"]), np.uint16)
    step = (typicality["max"] - typicality["min"]) / typicality["levels"]
    np.testing.assert_allclose(typicality["min"] + levels * step, run.typicality, atol=step / 2 + 1e-12)
    np.testing.assert_array_equal(dequantized(run.typicality), (typicality["min"] + levels * step).astype(np.float32))


def test_a_cluster_lists_its_images_by_membership_with_the_others_marked(page, probed):
    run, _ = page
    members = np.flatnonzero(run.clusters["ae_kmeans"] == 3)
    cluster_class = CLASS_NAMES.index(run.cluster_classes["ae_kmeans"]["3"])
    assert probed["cluster"]["count"] == probed["cluster"]["tiles"] == len(members)
    assert probed["cluster"]["marked"] == int((run.label[members] != cluster_class).sum())
    distances = dequantized(run.membership["ae_kmeans"])[probed["cluster"]["rows"]]
    assert (np.diff(distances) >= 0).all()  # K-Means: nearest the centre first (as the page holds them)
    no_train = members[run.split[members] != 0]
    assert probed["clusterNoTrain"]["count"] == probed["clusterNoTrain"]["tiles"] == len(no_train)


def test_a_confusion_cell_shows_exactly_its_images(page, probed):
    run, _ = page
    rows = np.flatnonzero((run.label == 2) & (run.clusters["baseline_kmeans"] == 5))
    assert int(probed["cellText"]) == probed["cell"]["count"] == len(rows)
    assert sorted(probed["cell"]["rows"]) == rows.tolist()


def test_the_disagreement_count_is_the_assignments(page, probed):
    run, _ = page
    first, second = (cluster_class_index(run.cluster_classes[m], run.clusters[m], CLASS_NAMES)
                     for m in ("baseline_kmeans", "ae_gmm"))
    expected = np.flatnonzero(first != second)
    assert probed["disagree"]["count"] == probed["disagree"]["tiles"] == len(expected)
    assert sorted(probed["disagree"]["rows"]) == expected.tolist()


def test_the_least_typical_of_each_split_come_first(page, probed):
    run, _ = page
    expected, typicality = [], dequantized(run.typicality)
    for split in range(3):
        rows = np.flatnonzero(run.split == split)
        expected += rows[np.argsort(typicality[rows], kind="stable")[:CONFIG.least_typical]].tolist()
    assert probed["least"]["rows"] == expected


def test_the_page_fetches_nothing_but_its_own_files(page):
    _, out = page
    text = (out / "index.html").read_text()
    assert re.findall(r'src="([^"]+)"', text) == ["data.js"]
    assert not re.search(r"https?://|@import|url\(http", text)


@pytest.mark.parametrize("missing, stage", [
    ("data/dataset.json", "preprocess"), ("data/prepared/val.npz", "preprocess"), ("data/features.npz", "encode"),
    ("data/typicality.npz", "typicality"), ("metrics/evaluate.json", "evaluate"),
    ("data/assignments/baseline_kmeans.npz", "baseline_kmeans"),
])
def test_a_missing_output_names_the_stage_to_run(tmp_path, monkeypatch, run_script, missing, stage):
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    present = ["data/dataset.json", "data/prepared/train.npz", "data/prepared/val.npz", "data/prepared/test.npz",
               "data/features.npz", "data/typicality.npz", "metrics/evaluate.json", "metrics/cluster_classes.json"]
    for name in present[:present.index(missing)] if missing in present else present:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    status, err = run_script("stages/explore.py", "data/dataset.json", "data/prepared", "data/features.npz", "data/assignments",
                             "data/models", "data/typicality.npz", "metrics", "explorer")
    assert status == 1 and not (tmp_path / "explorer").exists()
    assert err.strip() == f"error: {missing}: not found; run `dvc repro {stage}` to make it"


def test_explore_command_without_a_page_names_the_stage(tmp_path, capsys):
    assert cli_main(["explore", "--page", str(tmp_path / "explorer"), "--print-only"]) == 1
    assert capsys.readouterr().err.strip() == (f"error: {tmp_path / 'explorer' / 'index.html'}: not found; "
                                              "run `dvc repro explore` to make it")


def test_explore_command_prints_the_page_address(page, capsys):
    _, out = page
    assert cli_main(["explore", "--page", str(out), "--print-only"]) == 0
    assert capsys.readouterr().out.strip() == (out / "index.html").as_uri()


# Without labels: 8×8 colour images, on a 60 × 50 grid.
COLOUR_ROWS = {"train": 2_000, "val": 500, "test": 500}
COLOUR_HOVERED = 1_234
COLOUR_PROBE = """<script>
window.addEventListener("load", () => setTimeout(async () => {
  const $ = id => document.getElementById(id), out = {};
  out.drawn = +$("map").dataset.pointsDrawn; out.title = document.title;
  out.colourOptions = [...$("colour").options].map(o => o.value);
  out.legend = $("legend").textContent; out.confusionHidden = $("confusion-view").hidden;
  out.scores = $("scores").textContent; out.params = $("params").textContent;
  const [x, y] = explorer.pointAt(HOVERED), map = $("map");
  map.dispatchEvent(new MouseEvent("mousemove", {clientX: x, clientY: y, bubbles: true}));
  const tip = $("tooltip");
  for (let t = 0; t < 100 && tip.dataset.imageShown === undefined; t++) await new Promise(r => setTimeout(r, 100));
  out.hoverRow = +tip.dataset.imageShown; out.hoverText = $("tip-text").textContent;
  const tc = $("tip-image"), z = tc.width / 8, tp = tc.getContext("2d").getImageData(0, 0, tc.width, tc.height).data;
  out.hoverPixels = []; for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) for (let k = 0; k < 3; k++)
    out.hoverPixels.push(tp[((r * z + (z >> 1)) * tc.width + c * z + (z >> 1)) * 4 + k]);
  const pick = (id, v) => { $(id).value = v; $(id).dispatchEvent(new Event("change")); };
  const grid = () => { const t = [...document.querySelectorAll("#grid .thumb")];
    return {count: +$("grid-count").dataset.count, tiles: t.length, rows: t.map(d => +d.dataset.row),
            title: $("grid-title").textContent}; };
  pick("cluster-method", "ae_kmeans"); pick("cluster-id", "3"); $("cluster-show").click(); out.cluster = grid();
  pick("dis-a", "baseline_kmeans"); pick("dis-b", "ae_gmm"); $("dis-show").click(); out.disagree = grid();
  $("least-show").click(); out.least = grid();
  const pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out); document.body.append(pre);
}, 500));
</script>
"""


@pytest.fixture(scope="module")
def colour_page(tmp_path_factory) -> tuple[ExplorerRun, Path]:
    rng = np.random.default_rng(1)
    n = sum(COLOUR_ROWS.values())
    split = np.concatenate([np.full(k, i, dtype=np.uint8) for i, k in enumerate(COLOUR_ROWS.values())])
    clusters = {m: rng.integers(0, 6, n).astype(np.int32) for m in METHOD_NAMES}
    run = ExplorerRun(description=DatasetDescription("colour squares", 8, 8, 3, None, COLOUR_ROWS),
                      images=rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8), split=split,
                      label=np.full(n, -1, dtype=np.int16), features=np.zeros((n, 2), np.float32),
                      clusters=clusters, membership={m: rng.random(n).astype(np.float32) for m in METHOD_NAMES},
                      typicality=rng.random(n), scores={},
                      cluster_classes={m: {str(c): None for c in range(6)} for m in METHOD_NAMES})
    xy = np.stack([np.arange(n) % 60, np.arange(n) // 60], axis=1).astype(np.float32)
    out = tmp_path_factory.mktemp("colour") / "explorer"
    write_page(out, run, xy, CONFIG, PARAMS)
    return run, out


@pytest.fixture(scope="module")
def colour_probed(colour_page, chromium, tmp_path_factory) -> dict:  # noqa: F811
    _, out = colour_page
    return probe(out, COLOUR_PROBE.replace("HOVERED", str(COLOUR_HOVERED)), chromium, tmp_path_factory.mktemp("profile"))


def test_a_page_without_labels_shows_clusters_in_colour(colour_page, colour_probed):
    run, _ = colour_page
    found = colour_probed
    assert found["drawn"] == len(run.split) and found["title"] == "colour squares clustering: explorer"
    assert "true" not in found["colourOptions"] and not any(v.startswith("class:") for v in found["colourOptions"])
    assert "cluster 3" in found["legend"] and found["confusionHidden"] and "no labels" in found["scores"]
    assert "cluster_gmm: cluster_sizes=\"equal\"" in found["params"]
    assert found["hoverRow"] == COLOUR_HOVERED and "true class" not in found["hoverText"]
    for method in METHOD_NAMES:
        assert f"cluster {run.clusters[method][COLOUR_HOVERED]}," in found["hoverText"]
    expected = quantize(run.images[COLOUR_HOVERED], CONFIG.image_bits).astype(int) * 17
    assert found["hoverPixels"] == expected.ravel().tolist()
    members = np.flatnonzero(run.clusters["ae_kmeans"] == 3)
    assert found["cluster"]["count"] == found["cluster"]["tiles"] == len(members)
    assert found["cluster"]["title"].startswith("Autoencoder + K-Means, cluster 3,")


def test_without_labels_two_methods_disagree_where_their_clusters_are_not_matched(colour_page, colour_probed):
    run, _ = colour_page
    first, second = run.clusters["baseline_kmeans"], run.clusters["ae_gmm"]
    mapping = match_clusters(first, second)
    expected = np.flatnonzero(np.array([mapping.get(c, -1) for c in second]) != first)
    assert colour_probed["disagree"]["count"] == len(expected)
    assert sorted(colour_probed["disagree"]["rows"]) == expected.tolist()
    least = colour_probed["least"]["rows"]
    train = np.flatnonzero(run.split == 0)
    typicality = dequantized(run.typicality)[train]
    assert least[:CONFIG.least_typical] == train[np.argsort(typicality, kind="stable")[:CONFIG.least_typical]].tolist()


@pytest.mark.filterwarnings("ignore:n_jobs value 1 overridden:UserWarning")
def test_the_explore_stage_on_colour_images_without_labels(tmp_path, monkeypatch, run_script):
    """The stage itself, on made-up 8×8 colour images without labels and their clusters."""
    from fashion_clustering.files import write_json

    rows = {"train": 80, "val": 20, "test": 30}
    made_up_run_without_labels(tmp_path, DatasetDescription("colour squares", 8, 8, 3, None, rows), seed=2)
    write_json(tmp_path / "metrics/evaluate.json", {})
    write_json(tmp_path / "metrics/cluster_classes.json", {m: {str(c): None for c in range(4)} for m in METHOD_NAMES})
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    params = tmp_path / "params.yaml"
    params.write_text(params.read_text().replace("layout_sample: 10000", "layout_sample: 50")
                      .replace("kind: fashion-mnist", "kind: folder"))
    monkeypatch.chdir(tmp_path)
    status, err = run_script("stages/explore.py", "data/dataset.json", "data/prepared", "data/features.npz",
                             "data/assignments", "data/models", "data/typicality.npz", "metrics", "explorer")
    assert status == 0, err
    data = json.loads((tmp_path / "explorer/data.js").read_text().removeprefix("window.EXPLORER_DATA = ").rstrip(";\n"))
    assert data["classes"] is None and (data["height"], data["width"], data["name"]) == (8, 8, "colour squares")
    assert "label" not in data["arrays"] and set(data["matches"]) == set(METHOD_NAMES)
    # cluster_sizes auto, on a folder: the page names the prior the run used
    assert {data["params"][s]["cluster_sizes"] for s in ("cluster_kmeans", "cluster_gmm")} == {"free"}
    from PIL import Image
    side = yaml.safe_load(params.read_text())["explore"]["sheet_side"]
    with Image.open(tmp_path / "explorer/images_0.png") as sheet:  # 130 images: two rows of the sheet
        assert sheet.mode == "RGB" and sheet.size == (8 * side, 8 * 2)
