"""The files of one run that the report reads, loaded once: its params as the stages' own
typed configs, the data set's description, its metrics (with the K guide and the figures that
need no labels), assignments, models and prepared data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..clustering.fit import GmmConfig, KMeansConfig, closeness_to_clusters
from ..data.dataset import OFFICIAL_KIND, SPLITS, PreprocessConfig, load_split
from ..data.description import DatasetDescription, read_description
from ..data.fetch import OFFICIAL_SHA256, FetchConfig
from ..data.sources import SourceConfig
from ..errors import RUN_PIPELINE, PipelineError
from ..files import load_arrays, read_json, read_pickle
from ..machine import MACHINE_FILE
from ..methods import METHODS, ON_FEATURES
from ..params import Section, load_params
from ..representation.autoencoder import (
    AutoencoderConfig, SmallCollectionConfig, TrainingConfig, load_autoencoder,
)
from ..representation.clustering_layer import ClusteringLayerConfig
from ..representation.manifold import EncodeConfig
from ..representation.views import ViewsConfig
from ..typicality.scores import TypicalityConfig, load_calibration


@dataclass(frozen=True)
class RunSettings:
    """The params of the run, read by the same configs as the stages that used them."""

    fetch: FetchConfig
    source: SourceConfig
    preprocess: PreprocessConfig
    baseline: KMeansConfig
    autoencoder: AutoencoderConfig
    small_collection: SmallCollectionConfig
    training: TrainingConfig
    views: ViewsConfig
    clustering_layer: ClusteringLayerConfig
    encode: EncodeConfig
    kmeans: KMeansConfig
    gmm: GmmConfig
    typicality: TypicalityConfig

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "RunSettings":
        """Every stage's settings, read from the params file's mapping ``params``."""
        def section(name: str) -> Section:
            if name not in params:
                raise PipelineError(f"params.yaml: missing key '{name}'")
            return Section(params[name], name)

        ae, fetch = section("train_autoencoder"), section("fetch")
        return cls(
            fetch=FetchConfig.from_params(fetch), source=SourceConfig.from_source_section(fetch.section("source")),
            preprocess=PreprocessConfig.from_params(section("preprocess")),
            baseline=KMeansConfig.from_params(section("baseline_kmeans")),
            autoencoder=AutoencoderConfig.from_params(ae), training=TrainingConfig.from_params(ae),
            small_collection=SmallCollectionConfig.from_params(ae.section("small_collection")),
            views=ViewsConfig.from_params(ae.section("views")),
            clustering_layer=ClusteringLayerConfig.from_params(ae.section("clustering")),
            encode=EncodeConfig.from_params(section("encode")),
            kmeans=KMeansConfig.from_params(section("cluster_kmeans"), sizes=True),
            gmm=GmmConfig.from_params(section("cluster_gmm")),
            typicality=TypicalityConfig.from_params(section("typicality")),
        )


@dataclass(frozen=True)
class Run:
    """The files of one run that the report reads."""

    settings: RunSettings
    description: DatasetDescription
    checksums: Mapping[str, str]  # the official files' SHA-256 (Fashion-MNIST's source only; else empty)
    class_counts: Mapping[str, Mapping[str, int]]
    scores: Mapping[str, Mapping[str, Mapping[str, float]]]  # empty without labels
    cluster_classes: Mapping[str, Mapping[str, str | None]]  # a cluster's class; None without labels
    label_free: Mapping[str, Any]  # metrics/clusters.json: sizes, agreement, silhouettes
    k_guide: Mapping[str, Any]  # metrics/choose_k.json
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
        try:  # pandas 3 parses floats to the last bit, as Python does (tested)
            return pd.read_csv(path, sep="\t")["loss"].astype(float).tolist()
        except (OSError, KeyError, ValueError) as error:
            raise PipelineError(f"{path}: expected DVCLive's step/loss TSV ({error})") from error
    return column("train"), column("eval")


def _test_clusters(assignments_dir: Path, models_dir: Path, splits: Mapping, features: np.ndarray):
    """Each method's test clusters, and how close each test row is to each cluster."""
    clusters, closeness = {}, {}
    for method in METHODS:
        names = ("test", "test_proba") if method == "ae_gmm" else ("test",)
        arrays = load_arrays(assignments_dir / f"{method}.npz", names)
        clusters[method] = arrays["test"]
        model = read_pickle(models_dir / f"{method}.pkl", RUN_PIPELINE)
        x = features if method in ON_FEATURES else splits["test"][0]
        closeness[method] = closeness_to_clusters(model, x, arrays.get("test_proba"))
    return clusters, closeness


def load_run(description_file: str, raw_dir: str, prepared_dir: str, models_dir: str, features_file: str,
             assignments_dir: str, typicality_file: str, metrics_dir: str) -> Run:
    """Everything the report shows of a finished run, read from the stages' outputs."""
    raw, models, metrics = Path(raw_dir), Path(models_dir), Path(metrics_dir)
    settings = RunSettings.from_params(load_params())
    checksums = ({name: hashlib.sha256((raw / name).read_bytes()).hexdigest() for name in OFFICIAL_SHA256}
                 if settings.source.kind == OFFICIAL_KIND else {})
    splits = {split: load_split(prepared_dir, split) for split in ("train", "test")}
    features = load_arrays(features_file, SPLITS)["test"]
    clusters, closeness = _test_clusters(Path(assignments_dir), models, splits, features)
    return Run(
        settings=settings, description=read_description(description_file), checksums=checksums,
        class_counts=read_json(metrics / "class_counts.json", RUN_PIPELINE),
        scores=read_json(metrics / "evaluate.json", RUN_PIPELINE),
        cluster_classes=read_json(metrics / "cluster_classes.json", RUN_PIPELINE),
        label_free=read_json(metrics / "clusters.json", RUN_PIPELINE),
        k_guide=read_json(metrics / "choose_k.json", RUN_PIPELINE),
        losses=read_losses(metrics / "train_autoencoder"), splits=splits, test_features=features,
        test_clusters=clusters, closeness=closeness,
        autoencoder=load_autoencoder(str(models / "autoencoder.keras")),
        machine=read_json(metrics / "train_autoencoder" / MACHINE_FILE, RUN_PIPELINE),
        test_typicality=load_arrays(typicality_file, ("test",))["test"],
        flagged=read_json(metrics / "typicality.json", RUN_PIPELINE)["flagged"],
        typicality_threshold=load_calibration(models / "typicality.npz").threshold,
    )
