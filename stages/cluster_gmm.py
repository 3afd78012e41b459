"""Stage cluster_gmm: a Gaussian mixture on the autoencoder representation of train,
started from the cluster_kmeans stage's clusters of the same training rows (its
assignments), applied to all splits (hard assignments and membership probabilities)."""

from fashion_clustering.clustering.fit import GmmConfig, fit_gmm, save_assignments
from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.files import load_arrays, write_pickle
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(features_file: str, kmeans_assignments_file: str, model_file: str, assignments_file: str) -> None:
    with Section.load("cluster_gmm") as section:
        config = GmmConfig.from_params(section)
    features = load_arrays(features_file, SPLITS)
    start_labels = load_arrays(kmeans_assignments_file, ("train",))["train"]
    model = fit_gmm(features["train"], config, name="GMM on codes", start_labels=start_labels)
    write_pickle(model_file, model)
    save_assignments(assignments_file, model, features, probabilities=True)


if __name__ == "__main__":
    run_stage(main)
