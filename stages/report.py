"""Stage report: report/report.md and report/report.pdf, with their pictures in
report/figures/, generated from the run's files alone, for the data set data/dataset.json
describes (with labels or without)."""

import os
from pathlib import Path

from fashion_clustering.files import atomic_path
from fashion_clustering.params import Section
from fashion_clustering.report.content import FIGURES, compose
from fashion_clustering.report.document import to_markdown, write_pdf
from fashion_clustering.report.pictures import ReportConfig, make_figures
from fashion_clustering.report.run import load_run
from fashion_clustering.stage import run_stage


def main(description_file: str, raw_dir: str, prepared_dir: str, models_dir: str, features_file: str,
         assignments_dir: str, typicality_file: str, metrics_dir: str, report_dir: str) -> None:
    with Section.load("report") as section:
        config = ReportConfig.from_params(section)
    run = load_run(description_file, raw_dir, prepared_dir, models_dir, features_file, assignments_dir, typicality_file, metrics_dir)
    with atomic_path(report_dir) as tmp:
        figures = make_figures(run, config, tmp / FIGURES)
        relative = {name: path.relative_to(tmp) for name, path in figures.items()}
        confusion_dir = Path(os.path.relpath(Path(metrics_dir) / "confusion", report_dir))
        document = compose(run, config, relative, confusion_dir)
        (tmp / "report.md").write_text(to_markdown(document))
        write_pdf(document, tmp / "report.pdf", base_dir=tmp)


if __name__ == "__main__":
    run_stage(main)
