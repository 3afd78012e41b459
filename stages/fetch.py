"""Stage fetch: the source's images in data/raw (Fashion-MNIST: its four official files,
decompressed and verified), and the files left out as unreadable."""

from fashion_clustering.data.fetch import FetchConfig
from fashion_clustering.data.sources import SourceConfig, fetch_source
from fashion_clustering.files import write_json
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(out_dir: str, metrics_file: str) -> None:
    with Section.load("fetch") as section:
        fashion_mnist = FetchConfig.from_params(section)
        source = SourceConfig.from_source_section(section.section("source"))
    skipped = fetch_source(out_dir, fashion_mnist, source)
    write_json(metrics_file, {"skipped": len(skipped), "skipped_files": list(skipped)})


if __name__ == "__main__":
    run_stage(main)
