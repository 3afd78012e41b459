"""Stage preprocess: scaled pixel arrays for train, val and test, and their class counts."""

from pathlib import Path

from fashion_clustering.dataset import class_counts, prepare, save_splits
from fashion_clustering.files import atomic_path, write_json
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(raw_dir: str, out_dir: str, counts_file: str) -> None:
    with Section.load("preprocess") as p:
        options = dict(
            val_fraction=p.number("val_fraction", 0, 1, exclusive=True), seed=p.integer("seed", minimum=0),
            max_train_images=p.integer("max_train_images", minimum=20, optional=True),
            max_test_images=p.integer("max_test_images", minimum=10, optional=True),
        )
    splits = prepare(Path(raw_dir), **options)
    with atomic_path(out_dir) as tmp:
        save_splits(tmp, splits)
    write_json(counts_file, {name: class_counts(y) for name, (_, y) in splits.items()})


if __name__ == "__main__":
    run_stage(main)
