"""Stage preprocess: scaled pixel arrays for train, val and test, the data set's description
and its class counts."""

from dataclasses import asdict
from pathlib import Path

from fashion_clustering.data.dataset import PreprocessConfig
from fashion_clustering.data.prepare import class_counts, prepare, save_splits
from fashion_clustering.data.description import write_description
from fashion_clustering.files import atomic_path, write_json
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(raw_dir: str, out_dir: str, description_file: str, counts_file: str) -> None:
    with Section.load("preprocess") as section:
        config = PreprocessConfig.from_params(section)
    splits, description = prepare(Path(raw_dir), **asdict(config))
    with atomic_path(out_dir) as tmp:
        save_splits(tmp, splits)
    write_description(description_file, description)
    write_json(counts_file, {name: class_counts(y, description.class_names) for name, (_, y) in splits.items()})


if __name__ == "__main__":
    run_stage(main)
