"""Stage evaluate: the figures of every method's clusters that need no labels
(metrics/clusters.json: sizes, the methods' agreement, silhouettes, typicality rates) and,
when the data set has labels, ACC, NMI, ARI and completeness of every method on every split,
confusion matrices on the test split, and each cluster's class matched on the training split
(what `fashion-clustering predict` names clusters by). Labels are used here and nowhere
upstream; without them evaluate.json is empty, the confusion folder holds no file and every
cluster's class is null."""

from pathlib import Path

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.data.description import read_description
from fashion_clustering.evaluation.cluster_classes import (
    cluster_class_names, confusion_csv, unnamed_clusters, write_confusion_png,
)
from fashion_clustering.evaluation.clusters import EvaluateConfig, label_free_figures
from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import atomic_path, load_arrays, read_json, write_json
from fashion_clustering.methods import METHODS, ON_FEATURES
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(description_file: str, prepared_dir: str, features_file: str, assignments_dir: str,
         typicality_metrics: str, metrics_file: str, plots_dir: str, classes_file: str,
         clusters_file: str) -> None:
    with Section.load("evaluate") as section:
        config = EvaluateConfig.from_params(section)
    description = read_description(description_file)
    splits = {split: load_split(prepared_dir, split) for split in SPLITS}
    labels = {split: y for split, (_, y) in splits.items()}
    features = load_arrays(features_file, ("test",))["test"]
    flagged = read_json(typicality_metrics, "run `dvc repro typicality` to make it")["flagged"]
    clusters = {method: load_arrays(Path(assignments_dir) / f"{method}.npz", SPLITS) for method in METHODS}
    scores, classes = {}, {}
    with atomic_path(plots_dir) as plots:
        plots.mkdir()
        for method, title in METHODS.items():
            if not description.labelled:
                classes[method] = unnamed_clusters(clusters[method]["train"])
                continue
            names = description.class_names
            scores[method] = {split: clustering_scores(labels[split], clusters[method][split]) for split in SPLITS}
            classes[method] = cluster_class_names(labels["train"], clusters[method]["train"], names)
            (plots / f"confusion_{method}.csv").write_text(confusion_csv(labels["test"], clusters[method]["test"], names))
            write_confusion_png(plots / f"confusion_{method}.png", labels["test"], clusters[method]["test"],
                                title=f"{title} (test split)", class_names=names)
    clustered = {method: features if method in ON_FEATURES else splits["test"][0] for method in METHODS}
    write_json(clusters_file, label_free_figures(clusters, clustered, flagged, SPLITS, config))
    write_json(metrics_file, scores)
    write_json(classes_file, classes)


if __name__ == "__main__":
    run_stage(main)
