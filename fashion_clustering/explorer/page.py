"""The explorer page: a directory with ``index.html`` (the map and the views, plain
JavaScript on a canvas, see docs/explorer.md for why), ``data.js`` (every row's
coordinates, classes, clusters and scores as base64 typed arrays) and the images as PNG
sprite sheets, at the data's size, grey or in colour. It opens from ``file://`` with nothing
fetched from the network. Without labels the page has no classes: no confusion view, no
colouring by class, and two methods disagree on a row when its clusters are not the ones
matched to each other (Hungarian matching of the two methods' clusters)."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from ..clustering.fit import cluster_sizes_prior
from ..data.dataset import SPLITS
from ..errors import not_found
from ..evaluation.metrics import match_clusters
from ..files import atomic_path
from ..methods import METHODS
from ..params import PARAMS_FILE, Settings, setting
from .layout import LayoutConfig
from .run import PROBABILISTIC, ExplorerRun
from .template import PAGE_HTML

INDEX = "index.html"
IMAGE_BITS = (1, 2, 4, 8)
# The page's real values (map coordinates, typicality, memberships) are kept at 2**16 levels
# across their range: finer than a map's pixel or the digits shown, half of float32's bytes.
LEVELS = 2 ** 16 - 1
# Unsigned types a page's class and cluster numbers may take, and the first number beyond each.
UNSIGNED = (("uint8", 2 ** 8), ("uint16", 2 ** 16), ("uint32", 2 ** 32))
# The params that say what a run is, shown at the top of the page.
KEY_PARAMS = {
    "train_autoencoder": ("architecture", "latent_dim", "epochs", "seed"),
    "encode": ("manifold",),
    "cluster_kmeans": ("cluster_sizes", "standardize"),
    "cluster_gmm": ("cluster_sizes", "covariance_type", "start"),
}


@dataclass(frozen=True)
class ExploreConfig(Settings):
    """The settings in the explore section of params.yaml."""

    layout_sample: int = setting("integer", minimum=10)
    layout_neighbors: int = setting("integer", minimum=2)
    layout_epochs: int = setting("integer", minimum=1)
    seed: int = setting("integer", minimum=0)
    # grey levels of the embedded images are 2**image_bits
    image_bits: int = setting("integer", minimum=1, options=IMAGE_BITS)
    # images per row and per column of a sprite sheet
    sheet_side: int = setting("integer", minimum=1)
    # images of each split in the least-typical view
    least_typical: int = setting("integer", minimum=1)
    # map points, in CSS pixels
    point_size: float = setting("number", minimum=0.5, maximum=20)
    # the hovered image is drawn this many times its width in pixels
    hover_zoom: int = setting("integer", minimum=1)

    @property
    def layout(self) -> LayoutConfig:
        """The settings of the 2-D map's layout."""
        return LayoutConfig(sample=self.layout_sample, neighbors=self.layout_neighbors, epochs=self.layout_epochs,
                            seed=self.seed)


def quantize(images: np.ndarray, bits: int) -> np.ndarray:
    """uint8 values to ``2**bits`` levels, as level indices."""
    top = 2 ** bits - 1
    return np.round(images.astype(np.float32) * top / 255).astype(np.uint8)


def _sheet_png(grid: np.ndarray, bits: int) -> bytes:
    """One sheet of level indices, ``(height, width, channels)``: grey as a palette PNG of
    ``bits`` bits (a quarter of the size of 8-bit greys at 4 bits), colour as RGB whose values
    are the levels' 8-bit values."""
    top = 2 ** bits - 1
    if grid.shape[2] == 1:
        picture = Image.fromarray(np.ascontiguousarray(grid[:, :, 0]), "P")
        picture.putpalette([round(255 * i / top) for i in range(top + 1) for _ in range(3)])
        options = {"bits": bits}
    else:
        picture = Image.fromarray(np.round(grid.astype(np.float32) * 255 / top).astype(np.uint8), "RGB")
        options = {}
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=6, **options)
    return buffer.getvalue()


def sprite_sheets(images: np.ndarray, side: int, bits: int) -> list[bytes]:
    """PNG sheets of ``side`` × ``side`` images (``(n, height, width, channels)`` uint8), row by
    row, with ``2**bits`` levels of grey, or of each colour."""
    levels = quantize(images, bits)
    _, height, width, channels = levels.shape
    per_sheet, sheets = side * side, []
    for start in range(0, len(levels), per_sheet):
        chunk = levels[start:start + per_sheet]
        padded = np.zeros((per_sheet, height, width, channels), dtype=np.uint8)
        padded[:len(chunk)] = chunk
        rows = -(-len(chunk) // side)
        grid = padded[:rows * side].reshape(rows, side, height, width, channels).transpose(0, 2, 1, 3, 4)
        sheets.append(_sheet_png(grid.reshape(rows * height, side * width, channels), bits))
    return sheets


def _encoded(array: np.ndarray, dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "b64": base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()}


def _indices(array: np.ndarray) -> dict[str, Any]:
    """Non-negative integers in the smallest unsigned type that holds them."""
    top = int(array.max(initial=0))
    return _encoded(array, next(t for t, limit in UNSIGNED if top < limit))


def _span(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)


def quantized(values: np.ndarray) -> dict[str, Any]:
    """Real values as :data:`LEVELS` + 1 evenly spaced levels between their least and greatest,
    two bytes each (the page turns them back into numbers: :func:`dequantized`)."""
    low, high = _span(values)
    step = (high - low) / LEVELS or 1.0
    levels = np.round((np.asarray(values, np.float64) - low) / step)
    return _encoded(levels, "uint16") | {"min": low, "max": high, "levels": LEVELS}


def dequantized(values: np.ndarray) -> np.ndarray:
    """The values the page shows and orders by for ``values`` (float32, as it holds them)."""
    low, high = _span(values)
    step = (high - low) / LEVELS or 1.0
    return (low + np.round((np.asarray(values, np.float64) - low) / step) * step).astype(np.float32)


def key_params(params: Mapping[str, Any], path: str | Path = PARAMS_FILE) -> dict[str, dict[str, Any]]:
    """The params of :data:`KEY_PARAMS` (those of the file at ``path``), section by section;
    ``cluster_sizes`` as the prior the run used (``auto`` resolved)."""
    return {section: {key: cluster_sizes_prior(params[section][key], path) if key == "cluster_sizes"
                      else params[section][key] for key in keys} for section, keys in KEY_PARAMS.items()}


def cluster_matches(clusters: Mapping[str, np.ndarray]) -> dict[str, dict[str, list[int]]]:
    """For each ordered pair of methods ``(a, b)``, each of ``b``'s clusters as the cluster of
    ``a`` it is matched to (Hungarian matching on every row; -1: unmatched): where two methods
    without classes disagree."""
    matches: dict[str, dict[str, list[int]]] = {}
    for a, first in clusters.items():
        for b, second in clusters.items():
            mapping = match_clusters(first, second)
            matches.setdefault(a, {})[b] = [mapping.get(c, -1) for c in range(int(second.max()) + 1)]
    return matches


def page_data(run: ExplorerRun, xy: np.ndarray, config: ExploreConfig, params: Mapping[str, Any],
              sheets: int) -> dict[str, Any]:
    """What ``data.js`` holds: the run's tables as JSON, every row's values as typed arrays."""
    description = run.description
    arrays = {"x": quantized(xy[:, 0]), "y": quantized(xy[:, 1]), "split": _encoded(run.split, "uint8"),
              "typicality": quantized(run.typicality)}
    if description.labelled:
        arrays["label"] = _indices(run.label)
    for method in METHODS:
        arrays[f"cluster_{method}"] = _indices(run.clusters[method])
        arrays[f"membership_{method}"] = quantized(run.membership[method])
    return {
        "rows": int(len(run.label)), "splits": list(SPLITS), "name": description.name,
        "classes": None if description.class_names is None else list(description.class_names),
        "height": description.height, "width": description.width,
        "matches": None if description.labelled else cluster_matches(run.clusters),
        "methods": dict(METHODS), "probabilistic": PROBABILISTIC,
        "cluster_classes": run.cluster_classes, "scores": run.scores, "params": key_params(params),
        "sheets": [f"images_{i}.png" for i in range(sheets)], "sheet_side": config.sheet_side,
        "least_typical": config.least_typical, "point_size": config.point_size,
        "hover_zoom": config.hover_zoom, "arrays": arrays,
    }


def write_page(out_dir: str | Path, run: ExplorerRun, xy: np.ndarray, config: ExploreConfig,
               params: Mapping[str, Any]) -> None:
    """The page's directory, written atomically."""
    sheets = sprite_sheets(run.images, config.sheet_side, config.image_bits)
    data = page_data(run, xy, config, params, len(sheets))
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for i, sheet in enumerate(sheets):
            (tmp / f"images_{i}.png").write_bytes(sheet)
        (tmp / "data.js").write_text("window.EXPLORER_DATA = " + json.dumps(data, sort_keys=True) + ";\n")
        (tmp / INDEX).write_text(PAGE_HTML)


def page_url(page_dir: str | Path) -> str:
    """The ``file://`` address of a written page; one line naming the stage if there is none."""
    index = Path(page_dir) / INDEX
    if not index.is_file():
        raise not_found(index, "run `dvc repro explore` to make it")
    return index.resolve().as_uri()
