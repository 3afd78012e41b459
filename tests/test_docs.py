"""The README and docs/: relative links resolve, every measured figure is its results file's
(docs/figures.py), the benchmark pages are their JSON's, and the README stays a short front door."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from fashion_clustering.methods import METHODS

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path):
    """A script of the repository (docs/, benchmarks/) as a module."""
    sys.path.insert(0, str(path.parent))  # benchmarks/seeds.py imports its neighbour preset.py
    try:
        spec = importlib.util.spec_from_file_location(f"repository_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))


figures = load(ROOT / "docs" / "figures.py")
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
    """Each of our rows is its variant's (`default`, or the one named in the row, such as
    `free_sizes`); every method has a row of the defaults; '–' where a variant has no 70k scores."""
    variants = json.loads(BENCHMARK.read_text())["variants"]
    header, rows = results_table()
    found, wrong = set(), []
    for row in rows:
        method = next((m for m in METHODS if f"`{m}`" in row[0]), None)
        if method is None:
            continue  # a published figure, not ours
        variant = next((v for v in variants if v != "default" and f"`{v}`" in row[0]), "default")
        if variant == "default":
            found.add(method)
        scores = variants[variant]
        for column, (protocol, metric) in COLUMNS.items():
            if protocol == "test":
                source = scores["scores"][method]["test"]
            else:
                source = scores["all_images"][method] if scores["all_images"] else None
            expected = f"{source[metric]['mean']:.3f} ± {source[metric]['std']:.3f}" if source else "–"
            cell = re.sub(r"<!--.*?-->", "", row[header.index(column)]).replace("*", "").strip()
            if cell != expected:
                wrong.append(f"row {row[0]!r}, column {column!r}: README has {cell!r}, "
                             f"{BENCHMARK.relative_to(ROOT)} ({variant}) gives {expected!r}")
    assert found == set(METHODS), f"README results table lacks rows for {sorted(set(METHODS) - found)}"
    assert not wrong, "README results table differs from the benchmark:\n" + "\n".join(wrong)


def test_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= 150, f"README.md has {lines} lines; at most 150 (move the rest into docs/)"


def test_figures_are_their_sources():
    differences, count = figures.render_all()
    assert count >= 100, f"only {count} figures carry a marker; the pages lost theirs"
    assert not differences, ("figures differ from their results files (run `make docs`):\n"
                             + "\n".join(map(str, differences)))


def test_a_changed_result_fails_naming_page_and_line(tmp_path):
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    for name in ("dvc.lock", "params.yaml"):
        (tmp_path / name).write_text("{}\n")
    result = tmp_path / "benchmarks" / "results" / "run.json"
    result.write_text(json.dumps({"acc": {"mean": 0.7171, "std": 0.0027}, "seconds": [60, 90]}))
    page = ("# Page\n\n<!--figures r=bench.run-->\nACC <!--fig ±.3f r.acc-->0.717 ± 0.003<!--/fig-->,\n"
            "in <!--fig .1f sum(r.seconds) / 60-->2.5<!--/fig--> minutes\n")
    (tmp_path / "README.md").write_text(page)
    assert figures.render_all(tmp_path) == ([], 2)

    result.write_text(json.dumps({"acc": {"mean": 0.7201, "std": 0.0027}, "seconds": [60, 90]}))
    differences, _ = figures.render_all(tmp_path)
    assert [str(d) for d in differences] == [
        "README.md:4: shows '0.717 ± 0.003', its source gives '0.720 ± 0.003' (r.acc)"]
    figures.render_all(tmp_path, write=True)
    assert "ACC <!--fig ±.3f r.acc-->0.720 ± 0.003<!--/fig-->," in (tmp_path / "README.md").read_text()
    assert figures.render_all(tmp_path) == ([], 2)

    result.write_text(json.dumps({"accuracy": {"mean": 0.7201, "std": 0.0027}, "seconds": [60, 90]}))
    with pytest.raises(SystemExit, match=r"README.md:4: figure `r.acc`: .*run.json has no key 'acc'"):
        figures.render_all(tmp_path)
    (tmp_path / "README.md").write_text("<!--fig .3f 1-->1.000<!--/fig--> at a line's start\n")
    with pytest.raises(SystemExit, match="README.md:1: a line must not begin"):
        figures.render_all(tmp_path)


def test_pages_say_which_benchmark_figures_are_stale():
    problems = figures.unannounced_stale_figures()
    assert not problems, "\n".join(problems)


def stale_project(root: Path, lock_md5: str, lock_seed: int, page: str, evaluate_md5: str = "bbb") -> None:
    """A project of two stages, `train` and `score` (which reads train's model), a benchmark of
    one run that recorded train's code `aaa` and seed 0, and `page` as its README."""
    (root / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    lock = {"schema": "2.0", "stages": {
        "train": {"deps": [{"path": "train.py", "md5": lock_md5}], "params": {"params.yaml": {"train": {"seed": lock_seed}}},
                  "outs": [{"path": "model", "md5": "m1"}]},
        "evaluate": {"deps": [{"path": "evaluate.py", "md5": evaluate_md5}, {"path": "model", "md5": "m1"}],
                     "outs": [{"path": "scores.json", "md5": "s1"}]}}}
    (root / "dvc.lock").write_text(json.dumps(lock))
    (root / "params.yaml").write_text(f"train:\n  seed: {lock_seed}\n")
    stage = lambda deps, seconds: {"seconds": seconds, "peak_mib": 100, "ran": True, "deps": deps, "params": {}}
    run = {"seed": 0, "variant": "default", "overrides": {}, "params": {"train": {"seed": 0}},
           "scores": {"acc": 0.7}, "outputs": {"model": "m1", "scores.json": "s1"},
           "stages": {"train": stage({"train.py": "aaa"}, 60), "evaluate": stage({"evaluate.py": "bbb"}, 6)}}
    (root / "benchmarks" / "results" / "run.json").write_text(json.dumps({"variants": {}, "seeds": [0], "runs": [run]}))
    (root / "README.md").write_text(page)


def test_a_stale_benchmark_fails_unless_the_page_says_so(tmp_path):
    times = "Training takes <!--fig .0f bench.run.runs[0].stages.train.seconds-->60<!--/fig--> s.\n"
    scores = "\nACC <!--fig .1f bench.run.runs[0].scores.acc-->0.7<!--/fig-->.\n"
    evaluate = "\nScoring takes <!--fig .0f bench.run.runs[0].stages.evaluate.seconds-->6<!--/fig--> s.\n"
    stale_project(tmp_path, "aaa", 0, times + scores + evaluate)
    assert figures.unannounced_stale_figures(tmp_path) == []  # measured at today's code and params

    stale_project(tmp_path, "ccc", 0, times + scores + evaluate)  # train.py changed since
    problems = figures.unannounced_stale_figures(tmp_path)
    assert [p.split(":")[:2] for p in problems] == [["README.md", "1"], ["README.md", "3"]]  # not evaluate's time
    assert "train: its code differs from dvc.lock's: train.py" in problems[0]
    assert "<!--stale run: train-->" in problems[0]
    stale_project(tmp_path, "aaa", 1, times + scores + evaluate)  # a default changed since
    assert "params train differ from params.yaml's" in figures.unannounced_stale_figures(tmp_path)[0]

    said = ("Training took <!--fig .0f bench.run.runs[0].stages.train.seconds-->60<!--/fig--> s, "
            "measured at `45fb119`, before train.py changed.<!--stale run: train-->\n")
    stale_project(tmp_path, "ccc", 0, said + scores.replace(".\n", " (at commit `45fb119`).<!--stale run: train-->\n"))
    assert figures.unannounced_stale_figures(tmp_path) == []
    stale_project(tmp_path, "ccc", 0, said.replace("<!--stale run: train-->", ""))  # the commit alone is not enough
    assert len(figures.unannounced_stale_figures(tmp_path)) == 1
    stale_project(tmp_path, "ccc", 0, said.replace("`45fb119`", "45fb119"))  # nor the note without the commit
    assert len(figures.unannounced_stale_figures(tmp_path)) == 1
    noted_scores = scores.replace(".\n", " (at commit `45fb119`).<!--stale run: train-->\n")
    stale_project(tmp_path, "ccc", 0, said + noted_scores, evaluate_md5="ddd")  # evaluate.py changed later
    [problem] = figures.unannounced_stale_figures(tmp_path)
    assert problem.startswith("README.md:3: a figure of bench.run read from evaluate, measured before")
    stale_project(tmp_path, "ccc", 1, said)  # a default changed too: the note still names only the code
    assert figures.unannounced_stale_figures(tmp_path) == []  # train: its params and code, one stage
    stale_project(tmp_path, "aaa", 0, said.replace("run: train", "run: train evaluate"))
    [problem] = figures.unannounced_stale_figures(tmp_path)
    assert "says bench.run's evaluate, train stale, but it measured today's code and params" in problem
    stale_project(tmp_path, "aaa", 0, said)  # rerun at today's code: the page must drop its note
    assert [p.split(": ", 1)[1] for p in figures.unannounced_stale_figures(tmp_path)] == [
        "says bench.run's train stale, but it measured today's code and params there: drop them from the note"]


def test_benchmark_pages_are_their_results():
    seeds = load(ROOT / "benchmarks" / "seeds.py")
    machines = load(ROOT / "benchmarks" / "compare_machines.py")
    stale = [path.with_suffix(".md").name for path in seeds.benchmark_results()
             if path.with_suffix(".md").read_text() != seeds.markdown(json.loads(path.read_text()))]
    emulation = ROOT / "benchmarks" / "results" / "cpu_emulation.md"
    if emulation.read_text() != machines.page("default", list(machines.EMULATED)):
        stale.append(emulation.name)
    assert len(seeds.benchmark_results()) >= 10
    assert not stale, f"benchmark pages differ from their JSON (run `make docs`): {stale}"


# A measured number in prose: a decimal; a count with a unit of time, memory, size or share;
# a ratio ("15 times"); a count of pixels; a power of ten (1e-6, 10^6, 10⁶, ×10).
MEASURED = re.compile(
    r"\b\d+(?:\.\d+)?[eE][-+]?\d+\b|\b10 ?\^ ?[-−]?\d+|\b10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+|× ?10\b"
    r"|\b\d[\d,]*(?:\.\d+)? ?(?:s|ms|µs|h|hours?|min|minutes|seconds?|%|[kKMGT]i?B|bytes?)(?!\w)"
    r"|\b\d[\d,]*(?:\.\d+)? ?(?:times|x|×)(?![\w\d])"
    r"|\b\d[\d,]* ?(?:px|pixels?)\b"
    r"|\b\d+\.\d+\b")
NOT_MEASURED = [figures.FIGURE, CODE_SPAN, re.compile(r"\]\([^)]*\)"),  # figures, code, link targets
                re.compile(r"(?:arXiv:|Python )[\d.]+(?:(?:–|, | or )[\d.]+)*")]  # identifiers, versions


def unchecked(line: str) -> list[str]:
    """The measured numbers of a line of prose outside figures' markers (none on a quoted line)."""
    if "<!--quoted-->" in line:
        return []
    for pattern in NOT_MEASURED:
        line = pattern.sub("", line)
    return [m.group(0) for m in MEASURED.finditer(line)]


def test_prose_has_no_unchecked_figure():
    """README and docs/ state no measured number outside a figure's marker, except on lines
    that say they quote a publication (`<!--quoted-->`)."""
    found = []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
            found += [f"{page.relative_to(ROOT)}:{number}: {figure!r}" for figure in unchecked(line)]
    assert not found, ("measured numbers with no source (put them in a <!--fig--> marker, "
                       "see docs/tests.md):\n" + "\n".join(found))


@pytest.mark.parametrize("figure", [
    "0.717", "6 minutes", "45 min", "122 s", "1,618 MiB", "1.9 GiB", "93 %", "16 MB", "16.5 MB",
    "512 KB", "2 GB", "300 bytes", "15 times", "3×", "2 pixels", "28 px", "1e-6", "2.5E+3", "10^6",
    "10⁻⁶", "× 10"])
def test_each_measured_form_is_caught(figure):
    line = f"The page weighs {figure} here."
    assert unchecked(line) == [figure]
    assert unchecked(f"The page weighs <!--fig s bench.x.y-->{figure}<!--/fig--> here.") == []
    assert unchecked(f"The paper reports {figure} here. <!--quoted-->") == []
    assert unchecked(f"The page weighs `{figure}` here.") == []  # code: a setting or a command


def test_the_images_a_run_read_are_not_the_code_of_its_stages():
    """A benchmark on other images (benchmarks/scale.py's) recorded fetch's dependency on its
    own `fetch.source.path`: that is data, so only a change of code makes fetch stale."""
    lock = {"schema": "2.0", "stages": {"fetch": {
        "deps": [{"path": "fetch.py", "md5": "aaa"}, {"path": "data/own_images", "md5": "d1"}],
        "params": {"params.yaml": {"fetch": {"source": {"path": "data/own_images"}}}}, "outs": []}}}
    params = {"fetch": {"source": {"path": "data/own_images"}}}
    run = {"overrides": {"fetch.source.path": "data/images.npz"}, "params": {"fetch": {"source": {"path": "data/images.npz"}}},
           "stages": {"fetch": {"deps": {"fetch.py": "aaa", "data/images.npz": "d2"}, "params": {}}}}
    assert figures.stale_stages({"runs": [run]}, lock, params) == {}
    run["stages"]["fetch"]["deps"]["fetch.py"] = "bbb"
    assert figures.stale_stages({"runs": [run]}, lock, params) == {
        "fetch": "its code differs from dvc.lock's: fetch.py"}
