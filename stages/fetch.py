"""Stage fetch: the four official Fashion-MNIST files, decompressed and verified."""

from fashion_clustering.data.fetch import FetchConfig, fetch_dataset
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(out_dir: str) -> None:
    with Section.load("fetch") as section:
        config = FetchConfig.from_params(section)
    fetch_dataset(out_dir, config.source_dirs, config.base_url, timeout=config.timeout)


if __name__ == "__main__":
    run_stage(main)
