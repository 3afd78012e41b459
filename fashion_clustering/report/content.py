"""What the report says and shows, read from a run's files: every number in it comes
from the params, metrics, assignments, models and prepared data the pipeline wrote."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.dataset import SPLITS, load_split
from ..data.fetch import OFFICIAL_SHA256
from ..data.idx import CLASS_NAMES, IMAGE_SHAPE
from ..errors import RUN_PIPELINE, PipelineError
from ..evaluation.cluster_classes import UNMATCHED, confusion_counts
from ..evaluation.figures import image_grid, loss_figure, map_figure, save_figure
from ..files import load_arrays, read_json, read_pickle
from ..machine import MACHINE_FILE
from ..methods import METHODS, ON_FEATURES
from ..params import Section, load_params
from ..quiet_tensorflow import import_tensorflow
from ..representation.autoencoder import load_autoencoder
from ..typicality.outliers import OUTLIERS
from ..typicality.scores import load_calibration, turned
from .document import Document, Figure, Paragraph, Section as DocSection, Table

FIGURES = "figures"


@dataclass(frozen=True)
class ReportConfig:
    samples_per_class: int
    gallery_size: int
    reconstructions_per_class: int
    map_points: int
    map_neighbors: int
    confusions_named: int
    least_typical: int
    dpi: int
    seed: int

    @classmethod
    def from_params(cls, p: Section) -> "ReportConfig":
        """The settings in the report section of params.yaml, validated."""
        return cls(
            samples_per_class=p.integer("samples_per_class", minimum=1),
            gallery_size=p.integer("gallery_size", minimum=1),
            reconstructions_per_class=p.integer("reconstructions_per_class", minimum=1),
            map_points=p.integer("map_points", minimum=10),
            map_neighbors=p.integer("map_neighbors", minimum=2),
            confusions_named=p.integer("confusions_named", minimum=1),
            least_typical=p.integer("least_typical", minimum=1),
            dpi=p.integer("dpi", minimum=30), seed=p.integer("seed", minimum=0),
        )


@dataclass(frozen=True)
class Run:
    """The files of one run that the report reads."""

    params: Mapping[str, Any]
    checksums: Mapping[str, str]
    class_counts: Mapping[str, Mapping[str, int]]
    scores: Mapping[str, Mapping[str, Mapping[str, float]]]
    cluster_classes: Mapping[str, Mapping[str, str]]
    losses: tuple[list[float], list[float]]
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]]
    test_features: np.ndarray
    test_clusters: Mapping[str, np.ndarray]
    closeness: Mapping[str, np.ndarray]
    autoencoder: Any
    machine: Mapping[str, Any]  # the CPU that trained the autoencoder
    test_typicality: np.ndarray
    flagged: Mapping[str, float]  # share of images flagged atypical, by set (metrics/typicality.json)
    typicality_threshold: float  # the one the typicality stage calibrated with


def read_losses(log_dir: Path) -> tuple[list[float], list[float]]:
    """Training and validation loss per epoch from DVCLive's TSV files."""
    def column(split: str) -> list[float]:
        path = log_dir / "plots" / "metrics" / split / "loss.tsv"
        try:
            lines = path.read_text().splitlines()
            header = lines[0].split("\t")
            return [float(line.split("\t")[header.index("loss")]) for line in lines[1:]]
        except (OSError, IndexError, ValueError) as error:
            raise PipelineError(f"{path}: expected DVCLive's step/loss TSV ({error})") from error
    return column("train"), column("eval")


def closeness_to_clusters(model: Any, x: np.ndarray, proba: np.ndarray | None) -> np.ndarray:
    """For each row and cluster, how typical the row is of it: the GMM's probability, or
    minus the distance to a K-Means centre."""
    return proba if proba is not None else -model.transform(x)


def load_run(raw_dir: str, prepared_dir: str, models_dir: str, features_file: str,
             assignments_dir: str, typicality_file: str, metrics_dir: str) -> Run:
    raw, models, metrics = Path(raw_dir), Path(models_dir), Path(metrics_dir)
    checksums = {name: hashlib.sha256((raw / name).read_bytes()).hexdigest() for name in OFFICIAL_SHA256}
    splits = {split: load_split(prepared_dir, split) for split in ("train", "test")}
    features = load_arrays(features_file, SPLITS)["test"]
    clusters, closeness = {}, {}
    for method in METHODS:
        names = ("test", "test_proba") if method == "ae_gmm" else ("test",)
        arrays = load_arrays(Path(assignments_dir) / f"{method}.npz", names)
        clusters[method] = arrays["test"]
        model = read_pickle(models / f"{method}.pkl", RUN_PIPELINE)
        x = features if method in ON_FEATURES else splits["test"][0]
        closeness[method] = closeness_to_clusters(model, x, arrays.get("test_proba"))
    autoencoder = load_autoencoder(str(models / "autoencoder.keras"))
    return Run(
        params=load_params(), checksums=checksums,
        class_counts=read_json(metrics / "class_counts.json", RUN_PIPELINE),
        scores=read_json(metrics / "evaluate.json", RUN_PIPELINE),
        cluster_classes=read_json(metrics / "cluster_classes.json", RUN_PIPELINE),
        losses=read_losses(metrics / "train_autoencoder"), splits=splits, test_features=features,
        test_clusters=clusters, closeness=closeness, autoencoder=autoencoder,
        machine=read_json(metrics / "train_autoencoder" / MACHINE_FILE, RUN_PIPELINE),
        test_typicality=load_arrays(typicality_file, ("test",))["test"],
        flagged=read_json(metrics / "typicality.json", RUN_PIPELINE)["flagged"],
        typicality_threshold=load_calibration(models / "typicality.npz").threshold,
    )


# ---- pure pieces ------------------------------------------------------------------------

def gallery_indices(closeness: np.ndarray, clusters: np.ndarray, size: int) -> dict[int, np.ndarray]:
    """For each cluster, the ``size`` rows assigned to it that are most typical of it."""
    result = {}
    for cluster in range(closeness.shape[1]):
        rows = np.flatnonzero(clusters == cluster)
        order = np.argsort(-closeness[rows, cluster], kind="stable")
        result[cluster] = rows[order[:size]]
    return result


def per_class_sample(labels: np.ndarray, per_class: int, seed: int) -> list[np.ndarray]:
    """For each class, ``per_class`` row indices of that class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(np.flatnonzero(labels == c), size=min(per_class, int((labels == c).sum())),
                               replace=False)) for c in range(len(CLASS_NAMES))]


def cluster_rows(y_true: np.ndarray, clusters: np.ndarray, names: Mapping[str, str]) -> list[list[str]]:
    """Per cluster: id, size, matched class (training split), most common class, purity."""
    rows = []
    for cluster in np.unique(clusters).tolist():
        members = y_true[clusters == cluster]
        counts = np.bincount(members, minlength=len(CLASS_NAMES))
        rows.append([str(cluster), f"{len(members):,}", names.get(str(cluster), UNMATCHED),
                     CLASS_NAMES[counts.argmax()], f"{counts.max() / len(members):.1%}"])
    return rows


def largest_confusions(table: np.ndarray, count: int) -> list[tuple[int, str, str]]:
    """The ``count`` largest off-diagonal cells of a class × matched-class table:
    ``(images, true class, class of the cluster they fell in)``."""
    off = table.copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(-off, axis=None, kind="stable")[:count]
    return [(int(off.flat[i]), CLASS_NAMES[i // table.shape[1]], CLASS_NAMES[i % table.shape[1]])
            for i in order if off.flat[i] > 0]


def layer_rows(autoencoder) -> list[list[str]]:
    """The saved model's layers: part, layer, type, output shape, parameters."""
    rows = []
    for part in ("encoder", "decoder"):
        for layer in autoencoder.get_layer(part).layers:
            shape = "(" + ", ".join("None" if d is None else str(d) for d in layer.output.shape) + ")"
            rows.append([part, layer.name, type(layer).__name__, shape, f"{layer.count_params():,}"])
    rows.append(["total", "", "", "", f"{autoencoder.count_params():,}"])
    return rows


def ranked_methods(scores: Mapping[str, Mapping[str, Mapping[str, float]]], split: str = "test") -> list[str]:
    """Methods from best to worst test ACC."""
    return sorted(scores, key=lambda m: -scores[m][split]["acc"])


def _cluster_class_index(names: Mapping[str, str], clusters: np.ndarray) -> np.ndarray:
    """Each row's cluster as the index of the class it is matched to (-1: unmatched)."""
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    return np.array([index.get(names.get(str(c), UNMATCHED), -1) for c in clusters.tolist()])


def least_typical(typicalities: np.ndarray, count: int) -> np.ndarray:
    """The indices of the ``count`` least typical rows, least typical first (ties: by index)."""
    return np.argsort(typicalities, kind="stable")[:count]


# What each set of metrics/typicality.json is, for the report's table and figure.
FLAGGED_SETS = {"train": "training images", "val": "validation images (the calibration)", "test": "test images",
                "test_turned": "test images turned a quarter turn"} | {
    name: f"made up: {kind.title}" for name, kind in OUTLIERS.items()}


def two_d_map(features: np.ndarray, neighbors: int, seed: int) -> np.ndarray:
    """A seeded 2-D UMAP of ``features`` (used only for the picture)."""
    import_tensorflow()
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=neighbors, random_state=seed,
                        tqdm_kwds={"disable": True})
    return np.asarray(reducer.fit_transform(features), dtype=np.float32)


def make_figures(run: Run, config: ReportConfig, out_dir: Path) -> dict[str, Path]:
    """Write every picture of the report into ``out_dir``; return their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    x_train, y_train = run.splits["train"]
    x_test, y_test = run.splits["test"]
    paths = {}

    def save(name: str, figure) -> None:
        paths[name] = out_dir / f"{name}.png"
        save_figure(figure, paths[name], config.dpi)

    samples = per_class_sample(y_train, config.samples_per_class, config.seed)
    save("samples", image_grid([x_train[i] for i in samples], CLASS_NAMES,
                               "Training images, chosen at random, by class"))
    save("loss", loss_figure(*run.losses, "Autoencoder reconstruction loss per epoch"))
    for method, title in METHODS.items():
        clusters = run.test_clusters[method]
        names = run.cluster_classes[method]
        gallery = gallery_indices(run.closeness[method], clusters, config.gallery_size)
        labels = [f"cluster {c}, {int((clusters == c).sum()):,} images\n→ {names.get(str(c), UNMATCHED)}"
                  for c in gallery]
        typical = "it gives the highest probability" if method == "ae_gmm" else "nearest its centre"
        save(f"gallery_{method}", image_grid([x_test[i] for i in gallery.values()], labels,
                                             f"{title}: per cluster, the test images {typical}"))
    chosen = np.sort(np.random.default_rng(config.seed).choice(
        len(y_test), size=min(config.map_points, len(y_test)), replace=False))
    xy = two_d_map(run.test_features[chosen], config.map_neighbors, config.seed)
    panels = [(f"{METHODS[m]} clusters", _cluster_class_index(run.cluster_classes[m], run.test_clusters[m][chosen]))
              for m in ON_FEATURES] + [("true class", y_test[chosen])]
    save("map", map_figure(xy, panels, f"2-D UMAP of the test representation ({len(chosen):,} images); "
                                       "a cluster has the colour of its matched class"))
    picks = per_class_sample(y_test, config.reconstructions_per_class, config.seed)
    rows, row_labels = [], []
    for k in range(config.reconstructions_per_class):
        originals = x_test[[p[k] for p in picks]]
        rows += [originals, np.asarray(run.autoencoder.predict(originals, verbose=0))]
        row_labels += ["original", "reconstruction"]
    save("reconstructions", image_grid(rows, row_labels, "Test images above their reconstructions",
                                       column_labels=CLASS_NAMES))
    count, seed = config.least_typical, run.params["typicality"]["seed"]
    rarest = least_typical(run.test_typicality, count)
    rows = [x_test[rarest], turned(x_test[:count])] + [kind.make(count, seed) for kind in OUTLIERS.values()]
    row_labels = [f"{title}\n{run.flagged[name]:.1%} flagged" for name, title in (
        ("test", "least typical test"), ("test_turned", "test, turned"),
        *((name, kind.title) for name, kind in OUTLIERS.items()))]
    save("typicality", image_grid(rows, row_labels, "The least typical test images, and images unlike them",
                                  column_labels=[f"{CLASS_NAMES[y_test[i]]}\n{run.test_typicality[i]:.4f}"
                                                 for i in rarest]))
    return paths


def _settings(section: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{key} {section[key]}" for key in keys)


def machine_phrase(machine: Mapping[str, Any]) -> str:
    """``AMD EPYC (avx2, avx512f), 2 TensorFlow threads``, from the training stage's record."""
    return (f"{machine['model']} ({', '.join(machine['vector_extensions'])}), with "
            f"{machine['tensorflow_threads']} TensorFlow threads")


def training_extras(ae: Mapping[str, Any]) -> str:
    """What the training adds to plain reconstruction, if anything, as sentences."""
    extras = []
    if ae["input_noise"] > 0:
        extras.append(f" Gaussian noise of standard deviation {ae['input_noise']} is added to its "
                      f"inputs while training (a denoising autoencoder).")
    if ae["views"]["weight"] > 0:
        extras.append(f" The loss also holds {ae['views']['weight']} × NT-Xent between the codes of "
                      f"two randomly augmented views of each image (temperature "
                      f"{ae['views']['temperature']}).")
    layer = ae["clustering"]
    if layer["weight"] > 0:
        extras.append(f" Then the encoder is fine-tuned for {layer['epochs']} epochs with a clustering "
                      f"layer (IDEC): {layer['n_clusters']} centres, a {layer['kernel']} kernel, and "
                      f"{layer['weight']} × the KL divergence to the sharpened target beside the "
                      f"reconstruction loss; the loss curves are the training before it.")
    return "".join(extras)


def typicality_blocks(run: Run, config: ReportConfig, figure: Path) -> list:
    """What the report says about typicality: how it is measured, what it flags, and the
    least typical test images."""
    threshold = run.typicality_threshold
    return [
        Paragraph(f"Every image also gets a typicality: how typical it is of the images the "
                  f"autoencoder learned from, by how the autoencoder reconstructs it. Three scores: "
                  f"the mean squared reconstruction error; the absolute error "
                  f"over the image's brightness, which is large for a thin drawing on black whose "
                  f"reconstruction misses its strokes; and how much lower the error is for the image "
                  f"turned by a quarter, half or three quarters of a turn. Each is ranked among the "
                  f"{sum(run.class_counts['val'].values()):,} validation images' scores, the image's "
                  f"worst rank counts, and its typicality is the share of validation images whose "
                  f"worst rank is worse. `fashion-clustering predict` flags an image as atypical "
                  f"when its typicality is below {threshold}: its cluster then says little. "
                  f"{run.flagged['test']:.1%} of the test images are flagged."),
        Table(f"Share of images flagged as atypical (typicality below {threshold}); made-up "
              f"images: {run.params['typicality']['outliers_per_kind']} of each kind.",
              ["images", "flagged"], [[title, f"{run.flagged[name]:.1%}"] for name, title in FLAGGED_SETS.items()]),
        Figure(figure, f"Top: the {config.least_typical} least typical test images, with their class "
                       f"and typicality; below, images of each kind the flag is measured on, with the "
                       f"share flagged.", 0.9),
    ]


def compose(run: Run, config: ReportConfig, figures: Mapping[str, Path], confusion_dir: Path) -> Document:
    """The report's text, tables and figures; figure paths are as ``figures`` and
    ``confusion_dir`` give them (relative to the report's folder)."""
    p, scores = run.params, run.scores
    ranked = ranked_methods(scores)
    best, second = ranked[0], ranked[1]
    test = {m: scores[m]["test"] for m in METHODS}
    counts = run.class_counts
    totals = {split: sum(counts[split].values()) for split in SPLITS}
    ae, encode = p["train_autoencoder"], p["encode"]
    train_loss, val_loss = run.losses
    manifold = (f"a {encode['umap']['n_components']}-dimensional UMAP embedding of the codes "
                f"({encode['umap']['n_neighbors']} neighbours), fitted on the training codes"
                if encode["manifold"] == "umap" else "the codes themselves")
    umap_extension = (f" The clusterers see the UMAP embedding of the training codes; any other image "
                      f"is placed at the mean of the embeddings of its {encode['umap']['n_neighbors']} "
                      f"nearest training codes." if encode["manifold"] == "umap" else "")
    y_test = run.splits["test"][1]
    confusions = largest_confusions(confusion_counts(y_test, run.test_clusters[best]), config.confusions_named)
    side = IMAGE_SHAPE[0]
    sources = ", then ".join(str(p["fetch"][k]) for k in ("source_dir", "debian_dir", "base_url") if p["fetch"][k])

    abstract = DocSection("Abstract", [Paragraph(
        f"We cluster the {sum(totals.values()):,} images of Fashion-MNIST into groups without "
        f"showing any model a label, in three ways: K-Means on the raw pixels, and K-Means or a "
        f"Gaussian mixture on the representation learned by an autoencoder. On the "
        f"{totals['test']:,} held-out test images the best is {METHODS[best]}, with a "
        f"clustering accuracy (ACC) of {test[best]['acc']:.3f} and an NMI of {test[best]['nmi']:.3f}, "
        f"against {test['baseline_kmeans']['acc']:.3f} and {test['baseline_kmeans']['nmi']:.3f} "
        f"for K-Means on raw pixels.")], numbered=False)
    introduction = DocSection("Introduction", [Paragraph(
        "Clustering groups images by what they look like, with no labels. Distances between raw "
        "pixels reflect brightness and position more than shape, so we also cluster a compact "
        "representation: an autoencoder learns to reconstruct each image through a code of a few "
        "numbers, and the clusterers work on those codes. Labels are used only to score the "
        "clusters: each cluster is matched to one class (Hungarian matching) and ACC is the share "
        "of images whose cluster is matched to their class; NMI, ARI and completeness measure the "
        "agreement without a matching. Every number and picture in this report is generated from "
        "the pipeline's own output files."), Paragraph(
        f"The three methods: **{METHODS['baseline_kmeans']}** ({p['baseline_kmeans']['n_clusters']} "
        f"clusters); **{METHODS['ae_kmeans']}** and **{METHODS['ae_gmm']}** "
        f"({p['cluster_kmeans']['n_clusters']} clusters and {p['cluster_gmm']['n_components']} "
        f"components), both on {manifold}.")])
    dataset = DocSection("Dataset", [
        Paragraph(f"Fashion-MNIST: {side}×{side} grey images of {len(CLASS_NAMES)} kinds of clothing. "
                  f"The {len(run.checksums)} official files come from the first of these sources that "
                  f"has them: {sources}. Their "
                  f"decompressed contents are checked against the official SHA-256 checksums. "
                  f"Of the {totals['train'] + totals['val']:,} training images, "
                  f"{p['preprocess']['val_fraction']:.0%} are held out for validation, stratified "
                  f"by class; models are fitted on the training split only."),
        Table("SHA-256 of the decompressed files of this run.", ["file", "SHA-256", "official"], widths=(3, 8, 1.2), rows=
              [[name, digest, "yes" if OFFICIAL_SHA256[name] == digest else "NO"]
                    for name, digest in run.checksums.items()]),
        Table("Images per class and split.", ["class", *SPLITS],
              [[name, *(f"{counts[s][name]:,}" for s in SPLITS)] for name in CLASS_NAMES]
              + [["total", *(f"{totals[s]:,}" for s in SPLITS)]]),
        Figure(figures["samples"], f"{config.samples_per_class} training images of each class."),
    ])
    architecture = DocSection("Architecture", [
        Paragraph(f"The autoencoder ({ae['architecture']}) as saved by the run: its encoder maps "
                  f"the {side * side} pixels to the code, its decoder maps the code back to pixels. "
                  f"It is trained with Adam (learning rate {ae['learning_rate']}, "
                  f"{ae['learning_rate_schedule']} schedule) on the mean "
                  f"squared reconstruction error for {len(train_loss)} epochs of batches of "
                  f"{ae['batch_size']} training images.{training_extras(ae)} It was trained on "
                  f"{machine_phrase(run.machine)}: the weights depend on the CPU's vector extensions, "
                  f"so another kind of CPU trains a slightly different model from the same seed.{umap_extension}"),
        Table("Layers of the saved autoencoder.", ["part", "layer", "type", "output shape", "parameters"],
              layer_rows(run.autoencoder)),
        Table("Clustering settings." + (
                  " With cluster_sizes equal, every cluster receives the same share of the training "
                  "images (Fashion-MNIST's classes are of equal size): the mixture's weights, or "
                  "offsets on K-Means' distances, are solved so that it does, and kept to assign "
                  "new images." if "equal" in (p["cluster_kmeans"]["cluster_sizes"],
                                               p["cluster_gmm"]["cluster_sizes"]) else ""),
              ["method", "clusters", "settings"], widths=(1, 1.4, 1.6), rows=[
            [METHODS["baseline_kmeans"], "raw pixels",
             _settings(p["baseline_kmeans"], ("n_clusters", "n_init", "max_iter", "seed"))],
            [METHODS["ae_kmeans"], manifold,
             _settings(p["cluster_kmeans"], ("n_clusters", "cluster_sizes", "standardize", "n_init", "max_iter",
                                             "seed"))],
            [METHODS["ae_gmm"], manifold,
             _settings(p["cluster_gmm"], ("n_components", "cluster_sizes", "covariance_type", "start",
                                          *(("n_init",) if p["cluster_gmm"]["start"] != "kmeans_clusters" else ()),
                                          "standardize", "reg_covar", "max_iter", "seed"))],
        ]),
    ])
    results = [
        Table("Scores of every method on every split (ACC after Hungarian matching).",
              ["method", "split", "ACC", "NMI", "ARI", "completeness"], widths=(3, 1, 1, 1, 1, 1.5), rows=
              [[METHODS[m], s, *(f"{scores[m][s][k]:.3f}" for k in ("acc", "nmi", "ari", "completeness"))]
               for m in ranked for s in SPLITS]),
        Figure(figures["loss"], f"Reconstruction loss per epoch: {train_loss[-1]:.4f} on the training "
                                f"split and {val_loss[-1]:.4f} on the validation split after the last epoch.", 0.7),
    ]
    for method, title in METHODS.items():
        results.append(Figure(confusion_dir / f"confusion_{method}.png",
                              f"{title}: confusion matrix of the test split, each cluster named by the "
                              f"class it is matched to on the test split.", 0.65))
    for method, title in METHODS.items():
        results += [
            Table(f"{title}: clusters of the test split, named by the class matched on the training split.",
                  ["cluster", "test images", "matched class", "most common class", "purity"], rows=
                  cluster_rows(y_test, run.test_clusters[method], run.cluster_classes[method])),
            Figure(figures[f"gallery_{method}"],
                   f"{title}: per cluster, its size on the test split and matched class, then the "
                   f"{config.gallery_size} test images " + ("it gives the highest probability."
                   if method == "ae_gmm" else "nearest its centre."), 0.8),
        ]
    results += [
        Figure(figures["map"], "The test representation in two dimensions: coloured by the cluster "
                               "of each method (in its matched class's colour) and by the true class."),
        Figure(figures["reconstructions"], "What the autoencoder keeps: test images of each class "
                                           "above their reconstructions.", 0.9),
        *typicality_blocks(run, config, figures["typicality"]),
    ]
    worst = "; ".join(f"{n:,} {true} images fell in the cluster matched to {pred}" for n, true, pred in confusions)
    conclusion = DocSection("Conclusion", [Paragraph(
        f"{METHODS[best]} recovers the classes best: test ACC {test[best]['acc']:.3f}, "
        f"{test[best]['acc'] - test[second]['acc']:.3f} above {METHODS[second]} and "
        f"{test[best]['acc'] - test['baseline_kmeans']['acc']:.3f} above K-Means on raw pixels; its "
        f"NMI is {test[best]['nmi']:.3f}. Its largest confusions on the test split: {worst}.")])
    return Document("Clustering Fashion-MNIST without labels", [
        abstract, introduction, dataset, architecture, DocSection("Results", results), conclusion])
