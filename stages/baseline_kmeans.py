"""Stage baseline_kmeans: K-Means on raw pixels, fitted on train, applied to every split."""

from fashion_clustering.clustering.fit import KMeansConfig, fit_kmeans, save_assignments
from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.files import write_pickle
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(prepared_dir: str, model_file: str, assignments_file: str) -> None:
    with Section.load("baseline_kmeans") as section:
        config = KMeansConfig.from_params(section)
    pixels = {split: load_split(prepared_dir, split)[0] for split in SPLITS}
    model = fit_kmeans(pixels["train"], config, name="baseline K-Means on pixels")
    write_pickle(model_file, model)
    save_assignments(assignments_file, model, pixels)


if __name__ == "__main__":
    run_stage(main)
