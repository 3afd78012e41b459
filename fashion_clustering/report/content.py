"""What the report says: one function per section, each reading a loaded run (:mod:`.run`)
and the paths of its pictures (:mod:`.pictures`); every number comes from the run's files.
The data set is named by its description; without labels the report leaves out what needs
classes (scores, confusions, classes of clusters) and shows the clusters, the methods'
agreement, the least typical images and the K guide."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..data.dataset import SPLITS
from ..data.fetch import OFFICIAL_SHA256
from ..evaluation.cluster_classes import cluster_title, confusion_counts, largest_confusions
from ..typicality.outliers import OUTLIERS
from ..methods import METHODS
from ..representation.autoencoder import AutoencoderConfig, for_collection
from ..representation.clustering_layer import ClusteringLayerConfig
from ..representation.views import ViewsConfig
from .document import Chapter, Document, Figure, Paragraph, Table
from .pictures import ReportConfig
from .run import Run, RunSettings

FIGURES = "figures"
AUTOENCODER_PAIR = "ae_kmeans vs ae_gmm"  # metrics/clusters.json's key of the two autoencoder methods' agreement
Scores = Mapping[str, Mapping[str, Mapping[str, float]]]

# What each set of metrics/typicality.json is, for the report's table and figure.
FLAGGED_SETS = {"train": "training images", "val": "validation images (the calibration)", "test": "test images",
                "test_turned": "test images turned a quarter turn"} | {
    name: f"made up: {kind.title}" for name, kind in OUTLIERS.items()}
MOVED_PREFIX = "test_moved_"  # metrics/typicality.json's test images moved by N pixels: test_moved_Npx


def flagged_sets(flagged: Mapping[str, float]) -> list[tuple[str, str]]:
    """The sets of metrics/typicality.json and their titles: the splits and made-up kinds (the
    turned test images only where the run has them: square images), then the moved test images
    by distance."""
    moved = sorted((name for name in flagged if name.startswith(MOVED_PREFIX)),
                   key=lambda name: int(name[len(MOVED_PREFIX):-2]))
    return [(name, title) for name, title in FLAGGED_SETS.items() if name in flagged] + [
        (name, f"test images moved {name[len(MOVED_PREFIX):-2]} pixels") for name in moved]


def cluster_rows(y_true: np.ndarray, clusters: np.ndarray, names: Mapping[str, str],
                 class_names: Sequence[str]) -> list[list[str]]:
    """Per cluster: id, size, matched class (training split), most common class, purity."""
    rows = []
    for cluster in np.unique(clusters).tolist():
        members = y_true[clusters == cluster]
        counts = np.bincount(members, minlength=len(class_names))
        rows.append([str(cluster), f"{len(members):,}", cluster_title(names, cluster),
                     class_names[counts.argmax()], f"{counts.max() / len(members):.1%}"])
    return rows


def size_rows(sizes: Mapping[str, Sequence[int]]) -> list[list[str]]:
    """Per cluster: id, then its images in each split and their share of the split
    (``sizes``: metrics/clusters.json's sizes of one method)."""
    totals = {split: sum(counts) for split, counts in sizes.items()}
    return [[str(c), *(f"{sizes[s][c]:,} ({sizes[s][c] / totals[s]:.1%})" for s in SPLITS)]
            for c in range(len(sizes[SPLITS[0]]))]


def agreement_rows(label_free: Mapping[str, Any]) -> list[list[str]]:
    """Per pair of methods: their ARI on each split measured (metrics/clusters.json)."""
    agreement = label_free["agreement_ari"]
    pairs = list(next(iter(agreement.values())))
    names = {pair: " and ".join(METHODS[m] for m in pair.split(" vs ")) for pair in pairs}
    return [[names[pair], *(f"{agreement[split][pair]:.3f}" for split in agreement)] for pair in pairs]


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
    """The report's abstract: what was clustered, how, and the best method's test scores, or,
    without labels, how much the methods agree and the K the guide points to."""
    totals = run.description.counts
    opening = (f"We cluster the {sum(totals.values()):,} images of {run.description.name} into groups without "
               f"showing any model a label, in three ways: K-Means on the raw pixels, and K-Means or a "
               f"Gaussian mixture on the representation learned by an autoencoder. ")
    if not run.description.labelled:
        ari = run.label_free["agreement_ari"]["test"][AUTOENCODER_PAIR]
        summary = (f"The images have no labels, so the clusters are not scored against classes: "
                   f"on the {totals['test']:,} held-out test images the two autoencoder methods agree with "
                   f"an adjusted Rand index of {ari:.3f}, and a label-free guide over "
                   f"{run.k_guide['k'][0]} to {run.k_guide['k'][-1]} clusters points to "
                   f"{run.k_guide['chosen_k']}.")
    else:
        test = _test_scores(run.scores)
        best = ranked_methods(run.scores)[0]
        summary = (f"On the {totals['test']:,} held-out test images the best is {METHODS[best]}, with a "
                   f"clustering accuracy (ACC) of {test[best]['acc']:.3f} and an NMI of {test[best]['nmi']:.3f}, "
                   f"against {test['baseline_kmeans']['acc']:.3f} and {test['baseline_kmeans']['nmi']:.3f} "
                   f"for K-Means on raw pixels.")
    return Chapter("Abstract", [Paragraph(opening + summary)], numbered=False)


def introduction(settings: RunSettings, labelled: bool) -> Chapter:
    """The report's introduction: why cluster a learned representation, and the methods compared."""
    scoring = ("Labels are used only to score the "
               "clusters: each cluster is matched to one class (Hungarian matching) and ACC is the share "
               "of images whose cluster is matched to their class; NMI, ARI and completeness measure the "
               "agreement without a matching." if labelled else
               "These images have no labels: the clusters are described by their sizes, their "
               "pictures, how well they are separated (the silhouette) and how much the methods agree "
               "with each other (the adjusted Rand index, ARI: 1 for the same partition, about 0 for "
               "partitions no more alike than chance).")
    return Chapter("Introduction", [Paragraph(
        "Clustering groups images by what they look like, with no labels. Distances between raw "
        "pixels reflect brightness and position more than shape, so we also cluster a compact "
        "representation: an autoencoder learns to reconstruct each image through a code of a few "
        "numbers, and the clusterers work on those codes. " + scoring + " Every number and picture "
        "in this report is generated from the pipeline's own output files."), Paragraph(
        f"The three methods: **{METHODS['baseline_kmeans']}** ({settings.baseline.n_clusters} "
        f"clusters); **{METHODS['ae_kmeans']}** and **{METHODS['ae_gmm']}** "
        f"({settings.kmeans.n_clusters} clusters and {settings.gmm.n_components} "
        f"components), both on {manifold_phrase(settings)}.")])


def image_phrase(description) -> str:
    """``8×8 colour images in 10 classes``: the data set's images, from its description."""
    colour = "grey" if description.channels == 1 else "colour"
    classes = f"in {len(description.class_names)} classes" if description.labelled else "without labels"
    return f"{description.height}×{description.width} {colour} images {classes}"


def origin_phrase(run: Run) -> str:
    """Where the images came from: the official files and their checksums, or the source's path."""
    if not run.checksums:
        return f"They are read from the {run.settings.source.kind} source `{run.settings.source.path}`. "
    fetch = run.settings.fetch
    sources = ", then ".join(str(s) for s in (*fetch.source_dirs, fetch.base_url) if s)
    return (f"The {len(run.checksums)} official files come from the first of these sources that "
            f"has them: {sources}. Their decompressed contents are checked against the official "
            f"SHA-256 checksums. ")


def dataset(run: Run, config: ReportConfig, figures: Mapping[str, Path]) -> Chapter:
    """The report's dataset chapter: the images, where they came from, the splits and their class counts."""
    counts, description = run.class_counts, run.description
    totals = description.counts
    drawn = "stratified by class" if description.labelled else "drawn at random"
    blocks = [Paragraph(f"{description.name}: {image_phrase(description)}. {origin_phrase(run)}"
                        f"Of the {totals['train'] + totals['val']:,} training images, "
                        f"{run.settings.preprocess.val_fraction:.0%} are held out for validation, {drawn}; "
                        f"models are fitted on the training split only.")]
    if run.checksums:
        blocks.append(Table("SHA-256 of the decompressed files of this run.", ["file", "SHA-256", "official"],
                            widths=(3, 8, 1.2), rows=[[name, digest, "yes" if OFFICIAL_SHA256[name] == digest else "NO"]
                                                      for name, digest in run.checksums.items()]))
    if description.labelled:
        blocks.append(Table("Images per class and split.", ["class", *SPLITS],
                            [[name, *(f"{counts[s][name]:,}" for s in SPLITS)] for name in description.class_names]
                            + [["total", *(f"{totals[s]:,}" for s in SPLITS)]]))
        caption = f"{config.samples_per_class} training images of each class."
    else:
        blocks.append(Table("Images per split.", list(SPLITS), [[f"{totals[s]:,}" for s in SPLITS]]))
        caption = "Training images chosen at random."
    return Chapter("Dataset", [*blocks, Figure(figures["samples"], caption)])


def clustering_table(settings: RunSettings) -> Table:
    """The three methods' settings."""
    gmm, manifold = settings.gmm, manifold_phrase(settings)
    equal = ("equal" in (settings.kmeans.cluster_sizes, gmm.cluster_sizes))
    return Table("Clustering settings." + (
        " With cluster_sizes equal, every cluster receives the same share of the training "
        "images: the mixture's weights, or offsets on K-Means' distances, are solved so that "
        "it does, and kept to assign new images." if equal else ""), ["method", "clusters", "settings"], widths=(1, 1.4, 1.6), rows=[
        [METHODS["baseline_kmeans"], "raw pixels",
         _settings(settings.baseline, ("n_clusters", "n_init", "max_iter", "seed"))],
        [METHODS["ae_kmeans"], manifold,
         _settings(settings.kmeans, ("n_clusters", "cluster_sizes", "standardize", "n_init", "max_iter", "seed"))],
        [METHODS["ae_gmm"], manifold,
         _settings(gmm, ("n_components", "cluster_sizes", "covariance_type", "start",
                         *(("n_init",) if gmm.start != "kmeans_clusters" else ()),
                         "standardize", "reg_covar", "max_iter", "seed"))],
    ])


def size_prior(settings: RunSettings) -> str:
    """Which prior on the clusters' sizes each method used, and what it assumes."""
    used = {METHODS["ae_kmeans"]: settings.kmeans.cluster_sizes, METHODS["ae_gmm"]: settings.gmm.cluster_sizes}
    said = "; ".join(f"{method}, {sizes} sizes" for method, sizes in used.items())
    return (f"The sizes of the clusters are a prior: {said}; {METHODS['baseline_kmeans']} fits "
            f"its sizes freely. Equal sizes give every cluster the same share of the training images, "
            f"which assumes the classes are about equally common (balanced); on a collection whose "
            f"classes are not, free sizes let each cluster take the share it finds.")


def architecture(run: Run) -> Chapter:
    """The report's architecture chapter: the autoencoder as saved, its training, UMAP and the clusterers' settings."""
    settings, description = run.settings, run.description
    colour = ", 3 colour channels" if description.channels > 1 else ""
    ae, training, umap = settings.autoencoder, settings.training, settings.encode.umap
    umap_extension = (f" The clusterers see the UMAP embedding of the training codes; any other image "
                      f"is placed at the mean of the embeddings of its {umap.n_neighbors} "
                      f"nearest training codes." if umap is not None else "")
    extras = training_extras(for_collection(ae, settings.small_collection, description.counts["train"]),
                             settings.views, settings.clustering_layer)
    return Chapter("Architecture", [
        Paragraph(f"The autoencoder ({ae.architecture}) as saved by the run: its encoder maps "
                  f"the {description.row_length:,} values of an image ({description.height}×{description.width} "
                  f"pixels{colour}) to the code, its decoder maps the code back to pixels. "
                  f"It is trained with Adam (learning rate {training.learning_rate}, "
                  f"{training.learning_rate_schedule} schedule) on the mean "
                  f"squared reconstruction error for {len(run.losses[0])} epochs of batches of "
                  f"{training.batch_size} training images.{extras} It was trained on "
                  f"{machine_phrase(run.machine)}: the weights depend on the CPU's vector extensions, "
                  f"so another kind of CPU trains a slightly different model from the same seed.{umap_extension}"),
        Table("Layers of the saved autoencoder.", ["part", "layer", "type", "output shape", "parameters"],
              layer_rows(run.autoencoder)),
        Paragraph(size_prior(settings)),
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
                  f"{run.description.counts['val']:,} validation images' scores, the image's "
                  f"worst rank counts, and its typicality is the share of validation images whose "
                  f"worst rank is worse. Two limits come beside them, from the pixels alone: an image "
                  f"smoother than every validation image (shading, flat fills) or whose blank margins "
                  f"are further off centre than any validation image's (an image moved in its frame) "
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
    """A method's clusters: their sizes, and with labels their classes and purity on the test
    split; and a gallery."""
    title, description = METHODS[method], run.description
    if description.labelled:
        table = Table(f"{title}: clusters of the test split, named by the class matched on the training split.",
                      ["cluster", "test images", "matched class", "most common class", "purity"],
                      rows=cluster_rows(run.splits["test"][1], run.test_clusters[method], run.cluster_classes[method],
                                        description.class_names))
    else:
        table = Table(f"{title}: images of each split in each cluster, and their share of the split.",
                      ["cluster", *SPLITS], rows=size_rows(run.label_free["cluster_sizes"][method]))
    named = " and matched class" if description.labelled else ""
    return [
        table,
        Figure(figures[f"gallery_{method}"],
               f"{title}: per cluster, its size on the test split{named}, then the "
               f"{config.gallery_size} test images " + ("it gives the highest probability."
               if method == "ae_gmm" else "nearest its centre."), 0.8),
    ]


def label_free_blocks(run: Run, figures: Mapping[str, Path]) -> list:
    """What needs no labels: each method's silhouette, the methods' agreement, and the K guide."""
    free, guide = run.label_free, run.k_guide
    silhouettes = free["silhouette_test"]
    return [
        Table(f"How well each method's test clusters are separated in what it clustered (raw pixels, or "
              f"the features): the mean silhouette of {free['silhouette_rows']:,} test images (-1 to 1, "
              f"higher is better separated).", ["method", "silhouette"],
              [[METHODS[m], "–" if silhouettes[m] is None else f"{silhouettes[m]:.3f}"] for m in METHODS]),
        Table("How much the methods agree with each other: the adjusted Rand index of their clusters "
              "(1: the same partition; about 0: no more alike than chance).",
              ["methods", *(f"{split} ARI" for split in free["agreement_ari"])], agreement_rows(free)),
        Figure(figures["disagreements"], f"Where {METHODS['ae_kmeans']} and {METHODS['ae_gmm']} disagree: test "
                                         f"images they put in clusters not matched to each other (Hungarian "
                                         f"matching of the two methods' clusters), a sample of them, each "
                                         f"with its cluster of the first above that of the second.", 0.9),
        Paragraph(f"How many clusters? Without labels, the K guide (the `choose_k` stage) fits a Gaussian "
                  f"mixture of each K from {guide['k'][0]} to {guide['k'][-1]} components to "
                  f"{guide['rows']:,} training feature rows and measures its BIC, which falls steeply "
                  f"while one more component captures a real group, then flattens. It points to the "
                  f"smallest K after which one more component lowers the BIC by less than "
                  f"{guide['tolerance']:.0%} of its whole fall: **K = {guide['chosen_k']}**. This run "
                  f"made {run.settings.kmeans.n_clusters} clusters."),
        Figure(figures["k_guide"], f"The K guide: the BIC against K; the dashed line is the K it points to "
                                   f"({guide['chosen_k']}), the dotted one the run's.", 0.7),
    ]


def results(run: Run, config: ReportConfig, figures: Mapping[str, Path], confusion_dir: Path) -> Chapter:
    """The report's results chapter: every score (with labels), the loss curves, the
    confusions (with labels), each method's clusters and gallery, the map, the reconstructions,
    what needs no labels, and the typicality figures."""
    scores, (train_loss, val_loss) = run.scores, run.losses
    blocks = []
    if run.description.labelled:
        blocks.append(Table("Scores of every method on every split (ACC after Hungarian matching).",
                            ["method", "split", "ACC", "NMI", "ARI", "completeness"], widths=(3, 1, 1, 1, 1, 1.5), rows=
                            [[METHODS[m], s, *(f"{scores[m][s][k]:.3f}" for k in ("acc", "nmi", "ari", "completeness"))]
                             for m in ranked_methods(scores) for s in SPLITS]))
    blocks.append(Figure(figures["loss"], f"Reconstruction loss per epoch: {train_loss[-1]:.4f} on the training "
                                          f"split and {val_loss[-1]:.4f} on the validation split after the last epoch.", 0.7))
    if run.description.labelled:
        blocks += [Figure(confusion_dir / f"confusion_{method}.png",
                          f"{title}: confusion matrix of the test split, each cluster named by the "
                          f"class it is matched to on the test split.", 0.65) for method, title in METHODS.items()]
    for method in METHODS:
        blocks += method_blocks(run, config, figures, method)
    coloured = ("by the cluster of each method (in its matched class's colour) and by the true class"
                if run.description.labelled else "by the cluster of each method")
    shown = "of each class" if run.description.labelled else "chosen at random"
    return Chapter("Results", [
        *blocks,
        Figure(figures["map"], f"The test representation in two dimensions: coloured {coloured}."),
        Figure(figures["reconstructions"], f"What the autoencoder keeps: test images {shown} "
                                           "above their reconstructions.", 0.9),
        *label_free_blocks(run, figures),
        *typicality_blocks(run, config, figures["typicality"]),
    ])


def conclusion(run: Run, config: ReportConfig) -> Chapter:
    """The report's conclusion: the best method, its margin and its largest confusions; without
    labels, how much the methods agree and the K the guide points to."""
    guide = f"The K guide points to {run.k_guide['chosen_k']} clusters; this run made {run.settings.kmeans.n_clusters}."
    if not run.description.labelled:
        agreement = run.label_free["agreement_ari"]["test"]
        pairs = "; ".join(f"{row[0]}, {row[1]}" for row in agreement_rows(run.label_free))
        return Chapter("Conclusion", [Paragraph(
            f"Without labels no method can be said to recover the classes best. On the test split the "
            f"methods agree with these adjusted Rand indices: {pairs}. The autoencoder methods "
            + ("agree more with each other than with K-Means on raw pixels. "
               if agreement[AUTOENCODER_PAIR] >= max(agreement.values()) else "do not agree most with each other. ")
            + guide)])
    names = run.description.class_names
    test = _test_scores(run.scores)
    best, second = ranked_methods(run.scores)[:2]
    table = confusion_counts(run.splits["test"][1], run.test_clusters[best], len(names))
    worst = "; ".join(f"{n:,} {true} images fell in the cluster matched to {pred}"
                      for n, true, pred in largest_confusions(table, config.confusions_named, names))
    return Chapter("Conclusion", [Paragraph(
        f"{METHODS[best]} recovers the classes best: test ACC {test[best]['acc']:.3f}, "
        f"{test[best]['acc'] - test[second]['acc']:.3f} above {METHODS[second]} and "
        f"{test[best]['acc'] - test['baseline_kmeans']['acc']:.3f} above K-Means on raw pixels; its "
        f"NMI is {test[best]['nmi']:.3f}. Its largest confusions on the test split: {worst}. " + guide)])


def _test_scores(scores: Scores) -> dict[str, Mapping[str, float]]:
    return {m: scores[m]["test"] for m in METHODS}


def compose(run: Run, config: ReportConfig, figures: Mapping[str, Path], confusion_dir: Path) -> Document:
    """The report's text, tables and figures; figure paths are as ``figures`` and
    ``confusion_dir`` give them (relative to the report's folder)."""
    return Document(f"Clustering {run.description.name} without labels", [
        abstract(run), introduction(run.settings, run.description.labelled), dataset(run, config, figures),
        architecture(run), results(run, config, figures, confusion_dir), conclusion(run, config)])
