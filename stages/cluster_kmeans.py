"""Stage cluster_kmeans: K-Means on the autoencoder representation of train, applied to all splits."""

from fashion_clustering.clustering.fit import KMeansConfig, fit_kmeans, save_assignments
from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.files import load_arrays, write_pickle
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(features_file: str, model_file: str, assignments_file: str) -> None:
    with Section.load("cluster_kmeans") as section:
        config = KMeansConfig.from_params(section, sizes=True)
    features = load_arrays(features_file, SPLITS)
    model = fit_kmeans(features["train"], config, name="K-Means on codes")
    write_pickle(model_file, model)
    save_assignments(assignments_file, model, features)


if __name__ == "__main__":
    run_stage(main)
