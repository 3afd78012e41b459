"""Stage evaluate: ACC, NMI, ARI and completeness of every method on every split,
confusion matrices on the test split, and each cluster's class matched on the training
split (what `fashion-clustering predict` names clusters by). Labels are used here and
nowhere upstream."""

from pathlib import Path

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.evaluation.cluster_classes import cluster_class_names, confusion_csv, write_confusion_png
from fashion_clustering.evaluation.metrics import clustering_scores
from fashion_clustering.files import atomic_path, load_arrays, write_json
from fashion_clustering.methods import METHODS
from fashion_clustering.stage import run_stage


def main(prepared_dir: str, assignments_dir: str, metrics_file: str, plots_dir: str,
         classes_file: str) -> None:
    labels = {split: load_split(prepared_dir, split)[1] for split in SPLITS}
    scores, classes = {}, {}
    with atomic_path(plots_dir) as plots:
        plots.mkdir()
        for method, title in METHODS.items():
            clusters = load_arrays(Path(assignments_dir) / f"{method}.npz", SPLITS)
            scores[method] = {split: clustering_scores(labels[split], clusters[split]) for split in SPLITS}
            classes[method] = cluster_class_names(labels["train"], clusters["train"])
            (plots / f"confusion_{method}.csv").write_text(confusion_csv(labels["test"], clusters["test"]))
            write_confusion_png(plots / f"confusion_{method}.png", labels["test"], clusters["test"],
                                title=f"{title} (test split)")
    write_json(metrics_file, scores)
    write_json(classes_file, classes)


if __name__ == "__main__":
    run_stage(main)
