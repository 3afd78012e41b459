"""Stage choose_k: the K guide, how many clusters the training features hold without labels
(a Gaussian mixture's BIC over a range of K, and the K it points to), as metrics/choose_k.json
and a plot, which the report shows."""

from fashion_clustering.evaluation.choose_k import ChooseKConfig, choose_k, k_guide_figure
from fashion_clustering.evaluation.figures import save_figure
from fashion_clustering.files import load_arrays, write_json
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(features_file: str, guide_file: str, plot_file: str) -> None:
    with Section.load("choose_k") as section:
        config = ChooseKConfig.from_params(section)
    guide = choose_k(load_arrays(features_file, ("train",))["train"], config)
    save_figure(k_guide_figure(guide), plot_file)
    write_json(guide_file, guide)


if __name__ == "__main__":
    run_stage(main)
