"""The README and docs/: relative links resolve, the results table is the committed benchmark's,
and the README stays a short front door."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fashion_clustering.methods import METHODS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BENCHMARK = ROOT / "benchmarks" / "results" / "default.json"

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# The README table's columns: where each comes from in default.json.
COLUMNS = {"test ACC": ("test", "acc"), "test NMI": ("test", "nmi"),
           "70k ACC": ("all_images", "acc"), "70k NMI": ("all_images", "nmi")}


def prose(text: str) -> str:
    """The text without fenced code blocks (whose `#` lines are not headings)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but `-` and `_` dropped, spaces to `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(prose(path.read_text(encoding="utf-8")))}


def links(path: Path) -> list[str]:
    text = CODE_SPAN.sub("", prose(path.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not re.match(r"(https?|mailto):", t)]


def test_relative_links_resolve():
    broken = []
    for page in PAGES:
        for target in links(page):
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not linked.exists():
                broken.append(f"{where}: no file {linked}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{where}: no heading with anchor #{anchor} in {linked.name}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def results_table() -> tuple[list[str], list[list[str]]]:
    """The README table whose header names the score columns: its header and its rows."""
    lines = README.read_text(encoding="utf-8").splitlines()
    cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]
    for i, line in enumerate(lines):
        if line.startswith("|") and all(c in cells(line) for c in COLUMNS):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            return cells(line), rows
    raise AssertionError(f"README.md has no table with the columns {list(COLUMNS)}")


def test_results_table_is_the_committed_benchmark():
    scores = json.loads(BENCHMARK.read_text())["variants"]["default"]
    header, rows = results_table()
    found, wrong = set(), []
    for row in rows:
        method = next((m for m in METHODS if f"`{m}`" in row[0]), None)
        if method is None:
            continue  # a published figure, not ours
        found.add(method)
        for column, (protocol, metric) in COLUMNS.items():
            source = scores["scores"][method]["test"] if protocol == "test" else scores["all_images"][method]
            expected = f"{source[metric]['mean']:.3f} ± {source[metric]['std']:.3f}"
            cell = row[header.index(column)].replace("*", "").strip()
            if cell != expected:
                wrong.append(f"row {row[0]!r}, column {column!r}: README has {cell!r}, "
                             f"{BENCHMARK.relative_to(ROOT)} gives {expected!r}")
    assert found == set(METHODS), f"README results table lacks rows for {sorted(set(METHODS) - found)}"
    assert not wrong, "README results table differs from the benchmark:\n" + "\n".join(wrong)


def test_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= 150, f"README.md has {lines} lines; at most 150 (move the rest into docs/)"
