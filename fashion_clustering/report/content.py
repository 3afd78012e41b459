"""What the report says: one function per section, each reading a loaded run (:mod:`.run`)
and the paths of its pictures (:mod:`.pictures`); every number comes from the run's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..data.dataset import SPLITS
from ..data.fetch import OFFICIAL_SHA256
from ..data.idx import CLASS_NAMES, IMAGE_SHAPE
from ..evaluation.cluster_classes import UNMATCHED, confusion_counts, largest_confusions
from ..typicality.outliers import OUTLIERS
from ..methods import METHODS
from ..representation.autoencoder import AutoencoderConfig
from ..representation.clustering_layer import ClusteringLayerConfig
from ..representation.views import ViewsConfig
from .document import Chapter, Document, Figure, Paragraph, Table
from .pictures import ReportConfig
from .run import Run, RunSettings

FIGURES = "figures"
Scores = Mapping[str, Mapping[str, Mapping[str, float]]]

# What each set of metrics/typicality.json is, for the report's table and figure.
FLAGGED_SETS = {"train": "training images", "val": "validation images (the calibration)", "test": "test images",
                "test_turned": "test images turned a quarter turn"} | {
    name: f"made up: {kind.title}" for name, kind in OUTLIERS.items()}
MOVED_PREFIX = "test_moved_"  # metrics/typicality.json's test images moved by N pixels: test_moved_Npx


def flagged_sets(flagged: Mapping[str, float]) -> list[tuple[str, str]]:
    """The sets of metrics/typicality.json and their titles: the splits and made-up kinds, then
    the moved test images by distance."""
    moved = sorted((name for name in flagged if name.startswith(MOVED_PREFIX)),
                   key=lambda name: int(name[len(MOVED_PREFIX):-2]))
    return [*FLAGGED_SETS.items()] + [(name, f"test images moved {name[len(MOVED_PREFIX):-2]} pixels")
                                      for name in moved]


def cluster_rows(y_true: np.ndarray, clusters: np.ndarray, names: Mapping[str, str]) -> list[list[str]]:
    """Per cluster: id, size, matched class (training split), most common class, purity."""
    rows = []
    for cluster in np.unique(clusters).tolist():
        members = y_true[clusters == cluster]
        counts = np.bincount(members, minlength=len(CLASS_NAMES))
        rows.append([str(cluster), f"{len(members):,}", names.get(str(cluster), UNMATCHED),
                     CLASS_NAMES[counts.argmax()], f"{counts.max() / len(members):.1%}"])
    return rows


def layer_rows(autoencoder) -> list[list[str]]:
    """The saved model's layers: part, layer, type, output shape, parameters."""
    rows = []
    for part in ("encoder", "decoder"):
        for layer in autoencoder.get_layer(part).layers:
            shape = "(" + ", ".join("None" if d is None else str(d) for d in layer.output.shape) + ")"
            rows.append([part, layer.name, type(layer).__name__, shape, f"{layer.count_params():,}"])
    rows.append(["total", "", "", "", f"{autoencoder.count_params():,}"])
    return rows


def ranked_methods(scores: Scores, split: str = "test") -> list[str]:
    """Methods from best to worst test ACC."""
    return sorted(scores, key=lambda m: -scores[m][split]["acc"])


def _settings(config: Any, keys: tuple[str, ...]) -> str:
    return ", ".join(f"{key} {getattr(config, key)}" for key in keys)


def machine_phrase(machine: Mapping[str, Any]) -> str:
    """``AMD EPYC (avx2, avx512f), 2 TensorFlow threads``, from the training stage's record."""
    return (f"{machine['model']} ({', '.join(machine['vector_extensions'])}), with "
            f"{machine['tensorflow_threads']} TensorFlow threads")


def training_extras(autoencoder: AutoencoderConfig, views: ViewsConfig, layer: ClusteringLayerConfig) -> str:
    """What the training adds to plain reconstruction, if anything, as sentences."""
    extras = []
    if autoencoder.input_noise > 0:
        extras.append(f" Gaussian noise of standard deviation {autoencoder.input_noise} is added to its "
                      f"inputs while training (a denoising autoencoder).")
    if views.enabled:
        extras.append(f" The loss also holds {views.weight} × NT-Xent between the codes of "
                      f"two randomly augmented views of each image (temperature "
                      f"{views.temperature}).")
    if layer.enabled:
        extras.append(f" Then the encoder is fine-tuned for {layer.epochs} epochs with a clustering "
                      f"layer (IDEC): {layer.n_clusters} centres, a {layer.kernel} kernel, and "
                      f"{layer.weight} × the KL divergence to the sharpened target beside the "
                      f"reconstruction loss; the loss curves are the training before it.")
    return "".join(extras)


def manifold_phrase(settings: RunSettings) -> str:
    """What the clusterers of the features see."""
    umap = settings.encode.umap
    return (f"a {umap.n_components}-dimensional UMAP embedding of the codes ({umap.n_neighbors} "
            f"neighbours), fitted on the training codes" if umap is not None else "the codes themselves")


def abstract(run: Run) -> Chapter:
    """The report's abstract: what was clustered, how, and the best method's test scores."""
    test, totals = _test_scores(run.scores), _totals(run)
    best = ranked_methods(run.scores)[0]
    return Chapter("Abstract", [Paragraph(
        f"We cluster the {sum(totals.values()):,} images of Fashion-MNIST into groups without "
        f"showing any model a label, in three ways: K-Means on the raw pixels, and K-Means or a "
        f"Gaussian mixture on the representation learned by an autoencoder. On the "
        f"{totals['test']:,} held-out test images the best is {METHODS[best]}, with a "
        f"clustering accuracy (ACC) of {test[best]['acc']:.3f} and an NMI of {test[best]['nmi']:.3f}, "
        f"against {test['baseline_kmeans']['acc']:.3f} and {test['baseline_kmeans']['nmi']:.3f} "
        f"for K-Means on raw pixels.")], numbered=False)


def introduction(settings: RunSettings) -> Chapter:
    """The report's introduction: why cluster a learned representation, and the methods compared."""
    return Chapter("Introduction", [Paragraph(
        "Clustering groups images by what they look like, with no labels. Distances between raw "
        "pixels reflect brightness and position more than shape, so we also cluster a compact "
        "representation: an autoencoder learns to reconstruct each image through a code of a few "
        "numbers, and the clusterers work on those codes. Labels are used only to score the "
        "clusters: each cluster is matched to one class (Hungarian matching) and ACC is the share "
        "of images whose cluster is matched to their class; NMI, ARI and completeness measure the "
        "agreement without a matching. Every number and picture in this report is generated from "
        "the pipeline's own output files."), Paragraph(
        f"The three methods: **{METHODS['baseline_kmeans']}** ({settings.baseline.n_clusters} "
        f"clusters); **{METHODS['ae_kmeans']}** and **{METHODS['ae_gmm']}** "
        f"({settings.kmeans.n_clusters} clusters and {settings.gmm.n_components} "
        f"components), both on {manifold_phrase(settings)}.")])


def dataset(run: Run, config: ReportConfig, figures: Mapping[str, Path]) -> Chapter:
    """The report's dataset chapter: the images, where they came from, the splits and their class counts."""
    counts, totals, side = run.class_counts, _totals(run), IMAGE_SHAPE[0]
    fetch = run.settings.fetch
    sources = ", then ".join(str(s) for s in (*fetch.source_dirs, fetch.base_url) if s)
    return Chapter("Dataset", [
        Paragraph(f"Fashion-MNIST: {side}×{side} grey images of {len(CLASS_NAMES)} kinds of clothing. "
                  f"The {len(run.checksums)} official files come from the first of these sources that "
                  f"has them: {sources}. Their "
                  f"decompressed contents are checked against the official SHA-256 checksums. "
                  f"Of the {totals['train'] + totals['val']:,} training images, "
                  f"{run.settings.preprocess.val_fraction:.0%} are held out for validation, stratified "
                  f"by class; models are fitted on the training split only."),
        Table("SHA-256 of the decompressed files of this run.", ["file", "SHA-256", "official"], widths=(3, 8, 1.2),
              rows=[[name, digest, "yes" if OFFICIAL_SHA256[name] == digest else "NO"]
                    for name, digest in run.checksums.items()]),
        Table("Images per class and split.", ["class", *SPLITS],
              [[name, *(f"{counts[s][name]:,}" for s in SPLITS)] for name in CLASS_NAMES]
              + [["total", *(f"{totals[s]:,}" for s in SPLITS)]]),
        Figure(figures["samples"], f"{config.samples_per_class} training images of each class."),
    ])


def clustering_table(settings: RunSettings) -> Table:
    """The three methods' settings."""
    gmm, manifold = settings.gmm, manifold_phrase(settings)
    equal = ("equal" in (settings.kmeans.cluster_sizes, gmm.cluster_sizes))
    return Table("Clustering settings." + (
        " With cluster_sizes equal, every cluster receives the same share of the training "
        "images (Fashion-MNIST's classes are of equal size): the mixture's weights, or "
        "offsets on K-Means' distances, are solved so that it does, and kept to assign "
        "new images." if equal else ""), ["method", "clusters", "settings"], widths=(1, 1.4, 1.6), rows=[
        [METHODS["baseline_kmeans"], "raw pixels",
         _settings(settings.baseline, ("n_clusters", "n_init", "max_iter", "seed"))],
        [METHODS["ae_kmeans"], manifold,
         _settings(settings.kmeans, ("n_clusters", "cluster_sizes", "standardize", "n_init", "max_iter", "seed"))],
        [METHODS["ae_gmm"], manifold,
         _settings(gmm, ("n_components", "cluster_sizes", "covariance_type", "start",
                         *(("n_init",) if gmm.start != "kmeans_clusters" else ()),
                         "standardize", "reg_covar", "max_iter", "seed"))],
    ])


def architecture(run: Run) -> Chapter:
    """The report's architecture chapter: the autoencoder as saved, its training, UMAP and the clusterers' settings."""
    settings, side = run.settings, IMAGE_SHAPE[0]
    ae, training, umap = settings.autoencoder, settings.training, settings.encode.umap
    umap_extension = (f" The clusterers see the UMAP embedding of the training codes; any other image "
                      f"is placed at the mean of the embeddings of its {umap.n_neighbors} "
                      f"nearest training codes." if umap is not None else "")
    extras = training_extras(ae, settings.views, settings.clustering_layer)
    return Chapter("Architecture", [
        Paragraph(f"The autoencoder ({ae.architecture}) as saved by the run: its encoder maps "
                  f"the {side * side} pixels to the code, its decoder maps the code back to pixels. "
                  f"It is trained with Adam (learning rate {training.learning_rate}, "
                  f"{training.learning_rate_schedule} schedule) on the mean "
                  f"squared reconstruction error for {len(run.losses[0])} epochs of batches of "
                  f"{training.batch_size} training images.{extras} It was trained on "
                  f"{machine_phrase(run.machine)}: the weights depend on the CPU's vector extensions, "
                  f"so another kind of CPU trains a slightly different model from the same seed.{umap_extension}"),
        Table("Layers of the saved autoencoder.", ["part", "layer", "type", "output shape", "parameters"],
              layer_rows(run.autoencoder)),
        clustering_table(settings),
    ])


def typicality_blocks(run: Run, config: ReportConfig, figure: Path) -> list:
    """What the report says about typicality: how it is measured, what it flags, and the
    least typical test images."""
    threshold = run.typicality_threshold
    return [
        Paragraph(f"Every image also gets a typicality: how typical it is of the images the "
                  f"autoencoder learned from, mostly by how the autoencoder reconstructs it. Three ranked scores: "
                  f"the mean squared reconstruction error; the absolute error "
                  f"over the image's brightness, which is large for a thin drawing on black whose "
                  f"reconstruction misses its strokes; and how much lower the error is for the image "
                  f"turned by a quarter, half or three quarters of a turn. Each is ranked among the "
                  f"{sum(run.class_counts['val'].values()):,} validation images' scores, the image's "
                  f"worst rank counts, and its typicality is the share of validation images whose "
                  f"worst rank is worse. Two limits come beside them, from the pixels alone: an image "
                  f"smoother than every validation image (shading, flat fills) or whose blank margins "
                  f"are further off centre than any validation image's (a garment moved in its frame) "
                  f"gets typicality 0. `fashion-clustering predict` flags an image as atypical "
                  f"when its typicality is below {threshold}: its cluster then says little. "
                  f"{run.flagged['test']:.1%} of the test images are flagged."),
        Table(f"Share of images flagged as atypical (typicality below {threshold}); made-up "
              f"images: {run.settings.typicality.outliers_per_kind} of each kind.",
              ["images", "flagged"], [[title, f"{run.flagged[name]:.1%}"] for name, title in flagged_sets(run.flagged)]),
        Figure(figure, f"Top: the {config.least_typical} least typical test images, with their class "
                       f"and typicality; below, images of each kind the flag is measured on, with the "
                       f"share flagged.", 0.9),
    ]


def method_blocks(run: Run, config: ReportConfig, figures: Mapping[str, Path], method: str) -> list:
    """A method's clusters of the test split: their sizes, classes and purity, and a gallery."""
    title = METHODS[method]
    return [
        Table(f"{title}: clusters of the test split, named by the class matched on the training split.",
              ["cluster", "test images", "matched class", "most common class", "purity"], rows=
              cluster_rows(run.splits["test"][1], run.test_clusters[method], run.cluster_classes[method])),
        Figure(figures[f"gallery_{method}"],
               f"{title}: per cluster, its size on the test split and matched class, then the "
               f"{config.gallery_size} test images " + ("it gives the highest probability."
               if method == "ae_gmm" else "nearest its centre."), 0.8),
    ]


def results(run: Run, config: ReportConfig, figures: Mapping[str, Path], confusion_dir: Path) -> Chapter:
    """The report's results chapter: every score, the loss curves, the galleries, the map and the typicality figures."""
    scores, (train_loss, val_loss) = run.scores, run.losses
    blocks = [
        Table("Scores of every method on every split (ACC after Hungarian matching).",
              ["method", "split", "ACC", "NMI", "ARI", "completeness"], widths=(3, 1, 1, 1, 1, 1.5), rows=
              [[METHODS[m], s, *(f"{scores[m][s][k]:.3f}" for k in ("acc", "nmi", "ari", "completeness"))]
               for m in ranked_methods(scores) for s in SPLITS]),
        Figure(figures["loss"], f"Reconstruction loss per epoch: {train_loss[-1]:.4f} on the training "
                                f"split and {val_loss[-1]:.4f} on the validation split after the last epoch.", 0.7),
    ]
    blocks += [Figure(confusion_dir / f"confusion_{method}.png",
                      f"{title}: confusion matrix of the test split, each cluster named by the "
                      f"class it is matched to on the test split.", 0.65) for method, title in METHODS.items()]
    for method in METHODS:
        blocks += method_blocks(run, config, figures, method)
    return Chapter("Results", [
        *blocks,
        Figure(figures["map"], "The test representation in two dimensions: coloured by the cluster "
                               "of each method (in its matched class's colour) and by the true class."),
        Figure(figures["reconstructions"], "What the autoencoder keeps: test images of each class "
                                           "above their reconstructions.", 0.9),
        *typicality_blocks(run, config, figures["typicality"]),
    ])


def conclusion(run: Run, config: ReportConfig) -> Chapter:
    """The report's conclusion: the best method, its margin and its largest confusions."""
    test = _test_scores(run.scores)
    best, second = ranked_methods(run.scores)[:2]
    table = confusion_counts(run.splits["test"][1], run.test_clusters[best])
    worst = "; ".join(f"{n:,} {true} images fell in the cluster matched to {pred}"
                      for n, true, pred in largest_confusions(table, config.confusions_named))
    return Chapter("Conclusion", [Paragraph(
        f"{METHODS[best]} recovers the classes best: test ACC {test[best]['acc']:.3f}, "
        f"{test[best]['acc'] - test[second]['acc']:.3f} above {METHODS[second]} and "
        f"{test[best]['acc'] - test['baseline_kmeans']['acc']:.3f} above K-Means on raw pixels; its "
        f"NMI is {test[best]['nmi']:.3f}. Its largest confusions on the test split: {worst}.")])


def _test_scores(scores: Scores) -> dict[str, Mapping[str, float]]:
    return {m: scores[m]["test"] for m in METHODS}


def _totals(run: Run) -> dict[str, int]:
    return {split: sum(run.class_counts[split].values()) for split in SPLITS}


def compose(run: Run, config: ReportConfig, figures: Mapping[str, Path], confusion_dir: Path) -> Document:
    """The report's text, tables and figures; figure paths are as ``figures`` and
    ``confusion_dir`` give them (relative to the report's folder)."""
    return Document("Clustering Fashion-MNIST without labels", [
        abstract(run), introduction(run.settings), dataset(run, config, figures), architecture(run),
        results(run, config, figures, confusion_dir), conclusion(run, config)])
