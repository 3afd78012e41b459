"""The report's pictures, one function each, drawn from a loaded run (:mod:`.run`) with the
plotting helpers of :mod:`..evaluation.figures`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.dataset import per_class_sample
from ..data.idx import CLASS_NAMES
from ..evaluation.cluster_classes import UNMATCHED, cluster_class_index, most_typical_rows
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


def samples_figure(run: Run, config: ReportConfig):
    """The dataset figure: seeded training images of each class, a row per class."""
    x_train, y_train = run.splits["train"]
    samples = per_class_sample(y_train, config.samples_per_class, config.seed)
    return image_grid([x_train[i] for i in samples], CLASS_NAMES, "Training images, chosen at random, by class")


def gallery_figure(run: Run, config: ReportConfig, method: str):
    """The test images most typical of each of ``method``'s clusters."""
    clusters, names = run.test_clusters[method], run.cluster_classes[method]
    gallery = most_typical_rows(run.closeness[method], clusters, config.gallery_size)
    labels = [f"cluster {c}, {int((clusters == c).sum()):,} images\n→ {names.get(str(c), UNMATCHED)}"
              for c in gallery]
    typical = "it gives the highest probability" if method == "ae_gmm" else "nearest its centre"
    return image_grid([run.splits["test"][0][i] for i in gallery.values()], labels,
                      f"{METHODS[method]}: per cluster, the test images {typical}")


def map_picture(run: Run, config: ReportConfig):
    """A seeded sample of the test representation in 2-D, by each method's clusters and by class."""
    y_test = run.splits["test"][1]
    chosen = seeded_sample(len(y_test), config.map_points, config.seed)
    xy = two_d_map(run.test_features[chosen], config.map_neighbors, config.seed)
    panels = [(f"{METHODS[m]} clusters", cluster_class_index(run.cluster_classes[m], run.test_clusters[m][chosen]))
              for m in ON_FEATURES] + [("true class", y_test[chosen])]
    return map_figure(xy, panels, f"2-D UMAP of the test representation ({len(chosen):,} images); "
                                  "a cluster has the colour of its matched class")


def reconstructions_figure(run: Run, config: ReportConfig):
    """Test images of each class above the autoencoder's reconstructions of them."""
    x_test, y_test = run.splits["test"]
    picks = per_class_sample(y_test, config.reconstructions_per_class, config.seed)
    rows, row_labels = [], []
    for k in range(config.reconstructions_per_class):
        originals = x_test[[rows_of_class[k] for rows_of_class in picks]]
        rows += [originals, reconstruct(run.autoencoder, originals)]
        row_labels += ["original", "reconstruction"]
    return image_grid(rows, row_labels, "Test images above their reconstructions", column_labels=CLASS_NAMES)


def typicality_figure(run: Run, config: ReportConfig):
    """The least typical test images, above images of each kind the flag is measured on."""
    x_test, y_test = run.splits["test"]
    count, seed = config.least_typical, run.settings.typicality.seed
    rarest = least_typical(run.test_typicality, count)
    rows = [x_test[rarest], turned(x_test[:count])] + [kind.make(count, seed) for kind in OUTLIERS.values()]
    row_labels = [f"{title}\n{run.flagged[name]:.1%} flagged" for name, title in (
        ("test", "least typical test"), ("test_turned", "test, turned"),
        *((name, kind.title) for name, kind in OUTLIERS.items()))]
    return image_grid(rows, row_labels, "The least typical test images, and images unlike them",
                      column_labels=[f"{CLASS_NAMES[y_test[i]]}\n{run.test_typicality[i]:.4f}" for i in rarest])


def make_figures(run: Run, config: ReportConfig, out_dir: Path) -> dict[str, Path]:
    """Write every picture of the report into ``out_dir``; return their paths by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"samples": lambda: samples_figure(run, config),
               "loss": lambda: loss_figure(*run.losses, "Autoencoder reconstruction loss per epoch")}
    figures |= {f"gallery_{method}": lambda method=method: gallery_figure(run, config, method)
                for method in METHODS}
    figures |= {"map": lambda: map_picture(run, config),
                "reconstructions": lambda: reconstructions_figure(run, config),
                "typicality": lambda: typicality_figure(run, config)}
    paths = {}
    for name, draw in figures.items():  # one at a time: each figure is closed once saved
        paths[name] = out_dir / f"{name}.png"
        save_figure(draw(), paths[name], config.dpi)
    return paths
