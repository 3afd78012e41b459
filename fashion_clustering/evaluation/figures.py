"""The report's pictures, as byte-stable PNG files: image grids (samples per class,
cluster galleries, reconstructions) of any image shape, grey or colour, loss curves and 2-D
maps of the representation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from ..files import atomic_path

TITLE_TOP = 0.1  # inches from a grid figure's top edge to its title's top


def pyplot():
    """Matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str | Path, dpi: int = 100) -> None:
    """Write ``figure`` as PNG without a version stamp (same figure, same bytes) and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    pyplot().close(figure)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def show_image(ax, row: np.ndarray, image_shape: tuple[int, int, int]) -> None:
    """Draw one prepared row on ``ax`` as an ``(height, width, channels)`` image: grey on a grey
    scale, colour as it is."""
    image = np.asarray(row).reshape(image_shape)
    if image_shape[2] == 1:
        ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(image, 0, 1))


def image_grid(rows: Sequence[np.ndarray], row_labels: Sequence[str], title: str,
               image_shape: tuple[int, int, int], column_labels: Sequence[str] | None = None):
    """One row of images (given as prepared pixel rows of ``image_shape``) per entry of
    ``rows``, labelled on the left; a row shorter than the longest leaves its last cells empty."""
    plt = pyplot()
    n_cols = max(len(r) for r in rows)
    label_width = 1.6 if any(row_labels) else 0.1  # inches left of the images for the row labels
    # Room, in inches, for the column labels' lines after the first.
    extra = 0.14 * max((label.count("\n") for label in column_labels), default=0) if column_labels else 0.0
    figure, axes = plt.subplots(len(rows), n_cols, squeeze=False,
                                figsize=(label_width + 0.75 * n_cols, 0.5 + extra + 0.8 * len(rows)))
    for r, (images, label) in enumerate(zip(rows, row_labels)):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                show_image(ax, images[c], image_shape)
            if column_labels is not None and r == 0:
                ax.set_title(column_labels[c], fontsize=8)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    # The title a fixed distance from the top, so that it clears the column labels however tall the grid.
    figure.suptitle(title, fontsize=11, y=1 - TITLE_TOP / figure.get_figheight())
    figure.subplots_adjust(left=label_width / figure.get_figwidth(), right=0.99, wspace=0.05,
                           hspace=0.3 if column_labels else 0.1, top=1 - (0.45 + extra) / figure.get_figheight(),
                           bottom=0.02)
    return figure


def loss_figure(train: Sequence[float], val: Sequence[float], title: str):
    """Training and validation loss against the epoch."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 3.8))
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, marker="o", markersize=3, label="training")
    ax.plot(epochs[:len(val)], val, marker="o", markersize=3, label="validation")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return figure


def map_figure(xy: np.ndarray, panels: Sequence[tuple[str, np.ndarray]], title: str, legend: Sequence[str]):
    """Scatter plots of the same 2-D points side by side, one per panel, each point coloured
    by an index into ``legend`` (a class, or a cluster; -1, an unmatched cluster, in black);
    one shared legend. Beyond ten entries the colours repeat."""
    plt = pyplot()
    palette = plt.get_cmap("tab10").colors
    colours = [palette[i % len(palette)] for i in range(len(legend))]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.9), squeeze=False)
    for ax, (panel_title, classes) in zip(axes[0], panels):
        rgb = np.array([colours[c] if c >= 0 else (0.0, 0.0, 0.0) for c in classes])
        ax.scatter(xy[:, 0], xy[:, 1], c=rgb, s=3, linewidths=0)
        ax.set_title(panel_title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colours[i], label=name)
               for i, name in enumerate(legend)]
    figure.legend(handles=handles, loc="lower center", ncol=5, fontsize=9, frameon=False)
    figure.suptitle(title, fontsize=11)
    figure.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.16, wspace=0.05)
    return figure
