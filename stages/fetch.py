"""Stage fetch: the four official Fashion-MNIST files, decompressed and verified."""

from fashion_clustering.fetch import fetch_dataset
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(out_dir: str) -> None:
    with Section.load("fetch") as p:
        source_dirs = [d for d in (p.text("source_dir", optional=True), p.text("debian_dir")) if d]
        base_url = p.text("base_url", optional=True)
        timeout = p.number("timeout_seconds", minimum=0, exclusive=True)
    fetch_dataset(out_dir, source_dirs, base_url, timeout=timeout)


if __name__ == "__main__":
    run_stage(main)
