"""The report's pictures, one function each, drawn from a loaded run (:mod:`.run`) with the
plotting helpers of :mod:`..evaluation.figures`, at the data set's image shape, grey or
colour. Without labels the pictures that need classes show clusters instead: the samples are
drawn from all training images, the map is coloured by cluster, the reconstructions and the
least typical images are captioned without classes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.dataset import per_class_sample
from ..evaluation.cluster_classes import cluster_class_index, cluster_title, most_typical_rows
from ..evaluation.choose_k import k_guide_figure
from ..evaluation.clusters import disagreeing_rows
from ..evaluation.figures import image_grid, loss_figure, map_figure, save_figure
from ..methods import METHODS, ON_FEATURES
from ..params import Settings, setting
from ..representation.autoencoder import reconstruct
from ..representation.manifold import seeded_sample, two_d_map
from ..typicality.outliers import OUTLIERS
from ..typicality.scores import turned
from .run import Run


@dataclass(frozen=True)
class ReportConfig(Settings):
    """The settings in the report section of params.yaml."""

    samples_per_class: int = setting("integer", minimum=1)
    gallery_size: int = setting("integer", minimum=1)
    reconstructions_per_class: int = setting("integer", minimum=1)
    map_points: int = setting("integer", minimum=10)
    map_neighbors: int = setting("integer", minimum=2)
    confusions_named: int = setting("integer", minimum=1)
    least_typical: int = setting("integer", minimum=1)
    dpi: int = setting("integer", minimum=30)
    seed: int = setting("integer", minimum=0)


def least_typical(typicalities: np.ndarray, count: int) -> np.ndarray:
    """The indices of the ``count`` least typical rows, least typical first (ties: by index)."""
    return np.argsort(typicalities, kind="stable")[:count]


def sample_rows(run: Run, split: str, per_row: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """Seeded rows of ``split`` to show: ``per_row`` of each class, a row per class; without
    labels, as many rows of ``per_row`` images drawn from all, as there are clusters."""
    labels, shape = run.splits[split][1], run.description
    if shape.labelled:
        return per_class_sample(labels, per_row, seed, len(shape.class_names)), list(shape.class_names)
    n_rows = len(next(iter(run.cluster_classes.values())))
    drawn = seeded_sample(len(labels), per_row * n_rows, seed)
    drawn = np.random.default_rng(seed).permutation(drawn)
    return [drawn[i:i + per_row] for i in range(0, len(drawn), per_row)], [""] * -(-len(drawn) // per_row)


def samples_figure(run: Run, config: ReportConfig):
    """The dataset figure: seeded training images of each class, a row per class (without
    labels: drawn from all)."""
    x_train = run.splits["train"][0]
    rows, labels = sample_rows(run, "train", config.samples_per_class, config.seed)
    title = "by class" if run.description.labelled else "from all"
    return image_grid([x_train[i] for i in rows], labels, f"Training images, chosen at random, {title}",
                      run.description.image_shape)


def gallery_figure(run: Run, config: ReportConfig, method: str):
    """The test images most typical of each of ``method``'s clusters."""
    clusters, names = run.test_clusters[method], run.cluster_classes[method]
    gallery = most_typical_rows(run.closeness[method], clusters, config.gallery_size)
    labels = [f"cluster {c}, {int((clusters == c).sum()):,} images"
              + (f"\n→ {cluster_title(names, c)}" if run.description.labelled else "") for c in gallery]
    typical = "it gives the highest probability" if method == "ae_gmm" else "nearest its centre"
    return image_grid([run.splits["test"][0][i] for i in gallery.values()], labels,
                      f"{METHODS[method]}: per cluster, the test images {typical}", run.description.image_shape)


def map_picture(run: Run, config: ReportConfig):
    """A seeded sample of the test representation in 2-D, by each method's clusters and by
    class; without labels, by each method's clusters alone, each in its own colour."""
    y_test = run.splits["test"][1]
    chosen = seeded_sample(len(y_test), config.map_points, config.seed)
    xy = two_d_map(run.test_features[chosen], config.map_neighbors, config.seed)
    names = run.description.class_names
    title = f"2-D UMAP of the test representation ({len(chosen):,} images); "
    if names is None:
        n_clusters = max(len(run.cluster_classes[m]) for m in ON_FEATURES)
        return map_figure(xy, [(f"{METHODS[m]} clusters", run.test_clusters[m][chosen]) for m in ON_FEATURES],
                          title + "colours are cluster numbers", [f"cluster {c}" for c in range(n_clusters)])
    panels = [(f"{METHODS[m]} clusters", cluster_class_index(run.cluster_classes[m], run.test_clusters[m][chosen], names))
              for m in ON_FEATURES] + [("true class", y_test[chosen])]
    return map_figure(xy, panels, title + "a cluster has the colour of its matched class", names)


def disagreement_figure(run: Run, config: ReportConfig):
    """A seeded sample of the test images that the two feature methods put in clusters not
    matched to each other, each captioned with its two clusters."""
    first, second = (run.test_clusters[m] for m in ON_FEATURES)
    rows = disagreeing_rows(first, second)
    shown = rows[seeded_sample(len(rows), config.gallery_size, config.seed)]
    names = [run.cluster_classes[m] for m in ON_FEATURES]
    labels = [f"{cluster_title(names[0], first[i])}\n{cluster_title(names[1], second[i])}" for i in shown]
    return image_grid([run.splits["test"][0][shown]], [f"{len(rows):,} of {len(first):,}"],
                      f"Test images that {METHODS[ON_FEATURES[0]]} and {METHODS[ON_FEATURES[1]]} cluster differently",
                      run.description.image_shape, column_labels=labels)


def reconstructions_figure(run: Run, config: ReportConfig):
    """Test images of each class (without labels: drawn from all) above the autoencoder's
    reconstructions of them."""
    x_test = run.splits["test"][0]
    picks, names = sample_rows(run, "test", config.reconstructions_per_class, config.seed)
    rows, row_labels = [], []
    for k in range(config.reconstructions_per_class):
        originals = x_test[[rows_of_class[k] for rows_of_class in picks if k < len(rows_of_class)]]
        rows += [originals, reconstruct(run.autoencoder, originals)]
        row_labels += ["original", "reconstruction"]
    return image_grid(rows, row_labels, "Test images above their reconstructions", run.description.image_shape,
                      column_labels=names)


def unlike_rows(run: Run, count: int) -> list[tuple[str, str, np.ndarray]]:
    """``(set of metrics/typicality.json, title, images)`` of the images the flag is measured on
    beside the test images, drawn at the data's shape: the test images turned (a set only for
    square images), then each made-up kind."""
    x_test, seed, shape = run.splits["test"][0], run.settings.typicality.seed, run.description.image_shape
    candidates = [("test_turned", "test, turned", lambda: turned(x_test[:count], shape))]
    candidates += [(name, kind.title, lambda kind=kind: kind.make(count, seed, shape)) for name, kind in OUTLIERS.items()]
    return [(name, title, make()) for name, title, make in candidates if name in run.flagged]


def typicality_figure(run: Run, config: ReportConfig):
    """The least typical test images, above images of each kind the flag is measured on."""
    (x_test, y_test), names = run.splits["test"], run.description.class_names
    rarest = least_typical(run.test_typicality, config.least_typical)
    sets = [("test", "least typical test", x_test[rarest]), *unlike_rows(run, config.least_typical)]
    return image_grid([images for _, _, images in sets],
                      [f"{title}\n{run.flagged[name]:.1%} flagged" for name, title, _ in sets],
                      "The least typical test images, and images unlike them", run.description.image_shape,
                      column_labels=[(f"{names[y_test[i]]}\n" if names else "") + f"{run.test_typicality[i]:.4f}"
                                     for i in rarest])


def make_figures(run: Run, config: ReportConfig, out_dir: Path) -> dict[str, Path]:
    """Write every picture of the report into ``out_dir``; return their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"samples": lambda: samples_figure(run, config),
               "loss": lambda: loss_figure(*run.losses, "Autoencoder reconstruction loss per epoch")}
    figures |= {f"gallery_{method}": lambda method=method: gallery_figure(run, config, method)
                for method in METHODS}
    figures |= {"map": lambda: map_picture(run, config),
                "k_guide": lambda: k_guide_figure(run.k_guide, run.settings.kmeans.n_clusters),
                "disagreements": lambda: disagreement_figure(run, config),
                "reconstructions": lambda: reconstructions_figure(run, config),
                "typicality": lambda: typicality_figure(run, config)}
    paths = {}
    for name, draw in figures.items():  # one at a time: each figure is closed once saved
        paths[name] = out_dir / f"{name}.png"
        save_figure(draw(), paths[name], config.dpi)
    return paths
