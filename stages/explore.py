"""Stage explore: explorer/, a page of every image of the run (train, validation, test) on a
2-D map, with each method's clusters, the confusions, the methods' disagreements and the
least typical images, written from the run's outputs alone."""

import logging

import numpy as np

from fashion_clustering.data.dataset import SPLITS
from fashion_clustering.explorer.layout import two_d_layout
from fashion_clustering.explorer.page import ExploreConfig, write_page
from fashion_clustering.explorer.run import load_explorer_run
from fashion_clustering.params import Section, load_params
from fashion_clustering.stage import run_stage

log = logging.getLogger("explore")


def main(description_file: str, prepared_dir: str, features_file: str, assignments_dir: str, models_dir: str,
         typicality_file: str, metrics_dir: str, out_dir: str) -> None:
    with Section.load("explore") as p:
        config = ExploreConfig.from_params(p)
    run = load_explorer_run(description_file, prepared_dir, features_file, assignments_dir, models_dir, typicality_file, metrics_dir)
    log.info("%d images read; laying them out in 2-D", len(run.label))
    train = run.features[run.split == SPLITS.index("train")]
    xy = two_d_layout(train, run.features, config.layout)
    write_page(out_dir, run, xy, config, load_params())
    log.info("wrote %s (%d images)", out_dir, int(np.size(run.label)))


if __name__ == "__main__":
    run_stage(main)
