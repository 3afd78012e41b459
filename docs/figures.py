"""The measured figures of the Markdown pages, written from the results files.

A figure in a page is a marker around its rendered value:

    <!--fig .3f metrics.evaluate.ae_gmm.test.acc-->0.718<!--/fig-->

HTML comments, so a reader sees only `0.718` (a line must not begin with one: Markdown would
read the line as raw HTML). After `fig` comes a format, then a Python
expression over the results files:

- `bench.NAME`: `benchmarks/results/NAME.json`; `metrics.NAME` (or `metrics.DIR.NAME`):
  `metrics/**/NAME.json`; `lock`: `dvc.lock`; `params`: `params.yaml`. Keys read as
  attributes (`x.scores.ae_gmm`) or, when not identifiers, as subscripts (`x["cold, one image"]`);
- `len min max sum abs round sorted mean median` and the names a page defines, in order, with
  `<!--figures NAME=EXPR; NAME=EXPR-->` (say `d=bench.default.variants.default`).

Formats: any of Python's format specs (`.3f`, `,.0f`, `d`); `±.3f` for a `{mean, std}` pair
(`0.717 ± 0.003`); `%.1f` for a share as a percentage (`0.9 %`); `s` for text as it is.

`python docs/figures.py` rewrites every page's figures (`make docs`); `--check` rewrites
nothing and lists, page and line, each figure whose page differs from its source (what
`tests/test_docs.py` asserts).

A benchmark of the pipeline (`benchmarks/seeds.py`'s results) is *stale* for a stage when the
stage's code or params, as the benchmark recorded them, are not today's (`dvc.lock`,
`params.yaml`), or when the stage did not exist then (`stale_stages`). A figure read from such
a stage (its times, or the scores of the stages before `evaluate`) must have, in its paragraph
or table, `<!--stale NAME: STAGE STAGE-->` naming those stages, and the commit it was measured
at ("measured at `b36c349`")
(`unannounced_stale_figures`, which `--check` also lists).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIGURE = re.compile(r"<!--fig (\S+) (.+?)-->(.*?)<!--/fig-->")
DEFINITIONS = re.compile(r"<!--figures (.+?)-->")
STALE = re.compile(r"<!--stale (\w+):([\w ,]*)-->")
MEASURED_AT = re.compile(r"\bat (?:commit )?`([0-9a-f]{7,40})`")  # "measured at `b36c349`"
# The keys of a benchmark run of seeds.py that set a seed (its runs set them all to the run's).
SEED_KEYS = ("baseline_kmeans.seed", "train_autoencoder.seed", "encode.umap.seed",
             "cluster_kmeans.seed", "cluster_gmm.seed")
# The images a run reads: a dependency of fetch that is data, not code.
SOURCE_PATH = "fetch.source.path"
# Every key a figure's expression reads, as `file.json.key.key` (None: not recording).
READS: list[str] | None = None


def pages(root: Path = ROOT) -> list[Path]:
    """Every page whose figures are kept: the README, docs/ and the benchmark pages."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md")),
            *sorted((root / "benchmarks" / "results").glob("*.md"))]


class Node(dict):
    """A JSON object whose keys also read as attributes; a missing key names itself."""

    path: str = ""

    def __getattr__(self, key: str):
        return self[key]

    def __getitem__(self, key):
        if key not in self:
            raise KeyError(f"{self.path or 'the source'} has no key {key!r} "
                           f"(it has {', '.join(map(str, self)) or 'none'})")
        if READS is not None:
            READS.append(f"{self.path}.{key}")
        return wrap(dict.__getitem__(self, key), f"{self.path}.{key}")

    def values(self):
        if READS is not None:
            READS.append(f"{self.path}.*")  # every key: a whole pipeline, today's stages included
        return [self[key] for key in self]

    def items(self):
        return [(key, value) for key, value in zip(self, self.values())]


def wrap(value, path: str):
    if isinstance(value, dict):
        node = Node(value)
        node.path = path
        return node
    if isinstance(value, list):
        return [wrap(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


class Folder:
    """The JSON files of a folder as attributes, read when first named."""

    def __init__(self, folder: Path, label: str):
        self._folder, self._label = folder, label

    def __getitem__(self, name: str):
        return getattr(self, name)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if (self._folder / name).is_dir():
            return Folder(self._folder / name, f"{self._label}/{name}")
        path = self._folder / f"{name}.json"
        if not path.exists():
            raise KeyError(f"no results file {self._label}/{name}.json")
        return wrap(json.loads(path.read_text(encoding="utf-8")), f"{self._label}/{name}.json")


def sources(root: Path = ROOT) -> dict[str, object]:
    def yaml_file(name: str):
        return wrap(yaml.safe_load((root / name).read_text(encoding="utf-8")), name)

    return {"bench": Folder(root / "benchmarks" / "results", "benchmarks/results"),
            "metrics": Folder(root / "metrics", "metrics"),
            "lock": yaml_file("dvc.lock"), "params": yaml_file("params.yaml"),
            "__builtins__": {}, "len": len, "min": min, "max": max, "sum": sum, "abs": abs,
            "round": round, "sorted": sorted, "mean": statistics.fmean, "median": statistics.median}


def render_value(form: str, value) -> str:
    if form.startswith("±"):
        return f"{value['mean']:{form[1:]}} ± {value['std']:{form[1:]}}"
    if form.startswith("%"):
        return f"{100 * value:{form[1:]}} %"
    return str(value) if form == "s" else f"{value:{form}}"


@dataclass
class Difference:
    page: str
    line: int
    shown: str
    expected: str
    expression: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: shows {self.shown!r}, its source gives {self.expected!r} ({self.expression})"


def render_page(text: str, names: dict[str, object], page: str,
                reads: list[tuple[int, str, list[str]]] | None = None) -> tuple[str, list[Difference], int]:
    """The page with every figure rewritten from its source, what differed, and how many figures;
    `reads` gets each figure's line, expression and the keys it read."""
    scope = dict(names)
    lines, differences, count = [], [], 0
    for number, line in enumerate(text.split("\n"), 1):
        if FIGURE.match(line.lstrip()):  # Markdown would take the whole line for raw HTML
            raise SystemExit(f"error: {page}:{number}: a line must not begin with a figure's marker")
        for definitions in DEFINITIONS.findall(line):
            for definition in filter(None, (d.strip() for d in definitions.split(";"))):
                name, _, expression = definition.partition("=")
                scope[name.strip()] = evaluate(expression, scope, page, number)

        def replace(match: re.Match) -> str:
            nonlocal count
            form, expression, shown = match.groups()
            global READS
            count += 1
            READS = []
            try:
                value = evaluate(expression, scope, page, number)
            finally:
                if reads is not None:
                    reads.append((number, expression.strip(), READS))
                READS = None
            try:
                expected = render_value(form, value)
            except (ValueError, TypeError, KeyError) as error:
                raise SystemExit(f"error: {page}:{number}: figure `{expression.strip()}`: "
                                 f"format {form!r} does not fit {value!r}: {error}") from None
            if shown != expected:
                differences.append(Difference(page, number, shown, expected, expression.strip()))
            return f"<!--fig {form} {expression}-->{expected}<!--/fig-->"

        lines.append(FIGURE.sub(replace, line))
    return "\n".join(lines), differences, count


def evaluate(expression: str, scope: dict, page: str, line: int):
    try:
        return eval(expression.strip(), scope)  # the pages' own expressions, over the results files
    except Exception as error:  # a figure whose source moved: say where, and what is missing
        raise SystemExit(f"error: {page}:{line}: figure `{expression.strip()}`: {error}") from None


def render_all(root: Path = ROOT, write: bool = False) -> tuple[list[Difference], int]:
    names, differences, count = sources(root), [], 0
    for path in pages(root):
        text = path.read_text(encoding="utf-8")
        rendered, found, figures = render_page(text, names, str(path.relative_to(root)))
        differences += found
        count += figures
        if write and rendered != text:
            path.write_text(rendered, encoding="utf-8")
    return differences, count


def lookup(tree, dotted: str):
    """`tree`'s value at a dotted key (`encode.umap.seed`); MISSING where it has none."""
    for key in dotted.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return MISSING
        tree = tree[key]
    return tree


MISSING = object()


def set_key(tree: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[last] = value


def is_pipeline_benchmark(results) -> bool:
    """Results of `benchmarks/seeds.py`: runs of the pipeline, stage by stage."""
    return (isinstance(results, dict) and isinstance(results.get("runs"), list)
            and all(isinstance(run, dict) and "stages" in run for run in results["runs"]))


def outputs(lock: dict) -> dict[str, str]:
    """Each stage output of `dvc.lock`: the stage that writes it."""
    return {out["path"]: stage for stage, entry in lock["stages"].items() for out in entry.get("outs", [])}


def code_deps(lock: dict, stage: str) -> dict[str, str]:
    """The MD5 of each file a stage reads that no stage writes: its code (and any other input)."""
    written = outputs(lock)
    return {dep["path"]: dep.get("md5") for dep in lock["stages"][stage].get("deps", [])
            if dep["path"] not in written}


def upstream(lock: dict, stage: str) -> set[str]:
    """The stage and every stage whose outputs it reads, directly or not."""
    written, found, todo = outputs(lock), set(), [stage]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += [written[d["path"]] for d in lock["stages"][current].get("deps", []) if d["path"] in written]
    return found


def expected_params(run: dict, params: dict) -> dict:
    """params.yaml as the benchmark would have run it today: the run's seed and overrides set."""
    expected = copy.deepcopy(params)
    if "seed" in run:
        for key in SEED_KEYS:
            if lookup(expected, key) is not MISSING:
                set_key(expected, key, run["seed"])
    for key, value in (run.get("overrides") or {}).items():
        set_key(expected, key, value)
    return expected


def stale_stages(results: dict, lock: dict, params: dict) -> dict[str, str]:
    """Each stage of today's pipeline that the benchmark did not measure as it is today, and why:
    it did not exist, its params differ, or its code (recorded per stage from the run's dvc.lock
    since seeds.py records it; before, only the outputs' hashes of the run with today's params)."""
    stale: dict[str, str] = {}
    runs = results["runs"]
    reference = next((run for run in runs if expected_params(run, params) == params), None)
    for stage, entry in lock["stages"].items():
        reasons = []
        if any(stage not in run["stages"] for run in runs):
            reasons.append("it is not in the benchmark (it did not exist, or did not run)")
        for run in runs:
            expected = expected_params(run, params)
            keys = [k for k in (entry.get("params") or {}).get("params.yaml", {})
                    if lookup(run.get("params", {}), k) != lookup(expected, k)]
            if keys:
                reasons.append(f"params {', '.join(keys)} differ from params.yaml's")
                break
        recorded = [run["stages"][stage]["deps"] for run in runs
                    if stage in run["stages"] and "deps" in run["stages"][stage]]
        if recorded:
            today = code_deps(lock, stage)
            # the images a run read (fetch.source.path) are its data, not the stage's code
            images = {lookup(run.get("params", {}), SOURCE_PATH) for run in runs} | {lookup(params, SOURCE_PATH)}
            changed = sorted({path for deps in recorded for path in set(deps) | set(today)
                              if deps.get(path) != today.get(path) and path not in images})
            if changed:
                reasons.append(f"its code differs from dvc.lock's: {', '.join(changed)}")
        elif reference is not None and "outputs" in reference:
            changed = [out["path"] for out in entry.get("outs", [])
                       if reference["outputs"].get(out["path"]) != out.get("md5")]
            if changed and stage in reference["stages"]:
                reasons.append(f"no code recorded, and seed {reference.get('seed')}'s "
                               f"{', '.join(changed)} differ from dvc.lock's")
        elif stage in runs[0]["stages"] if runs else False:
            reasons.append("no code recorded, and no run with today's params.yaml to compare outputs")
        if reasons:
            stale[stage] = "; ".join(dict.fromkeys(reasons))
    return stale


def stages_read(key: str, lock: dict) -> set[str]:
    """The stages of the pipeline a key of a benchmark's results measured (`...seconds.encode`:
    encode; `...stages.*`: all of them; `...scores...`: the stages before `evaluate`)."""
    tokens = [re.sub(r"\[\d+\]$", "", t) for t in key.split(".json.", 1)[-1].split(".")]
    stages = set()
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token in ("stages", "seconds", "peak_mib") and following == "*":
            stages |= set(lock["stages"])
        elif token in ("stages", "seconds", "peak_mib") and following in lock["stages"]:
            stages.add(following)
        elif token == "scores" or token.startswith("all_images"):
            stages |= upstream(lock, "evaluate") if "evaluate" in lock["stages"] else set()
    return stages


def blocks(lines: list[str]) -> list[range]:
    """The line numbers (1-based) of each paragraph, list or table; a table also holds the
    paragraphs just before and after it (where a page says what the table's figures are)."""
    found, start = [], None
    for number, line in enumerate([*lines, ""], 1):
        if line.strip() and start is None:
            start = number
        elif not line.strip() and start is not None:
            found.append(range(start, number))
            start = None
    merged: list[range] = []
    for i, block in enumerate(found):
        if all(lines[n - 1].lstrip().startswith("|") for n in block):
            first = found[i - 1].start if i > 0 else block.start
            last = found[i + 1].stop if i + 1 < len(found) else block.stop
            merged.append(range(first, last))
        else:
            merged.append(block)
    return merged


def unannounced_stale_figures(root: Path = ROOT) -> list[str]:
    """Each figure read from stages a benchmark measured before today's code or params whose
    paragraph does not say so (`<!--stale NAME: STAGE STAGE-->`, naming every such stage, and
    "measured at `<commit>`"), and each such note that names a stage which is today's, or that
    sits beside no stale figure."""
    names = sources(root)
    lock, params = json.loads(json.dumps(names["lock"])), json.loads(json.dumps(names["params"]))
    cache: dict[str, dict[str, str] | None] = {}

    def stale_of(name: str):
        if name not in cache:
            path = root / "benchmarks" / "results" / f"{name}.json"
            results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
            cache[name] = stale_stages(results, lock, params) if is_pipeline_benchmark(results) else None
        return cache[name]

    problems: dict[tuple, str] = {}
    for path in pages(root):
        text = path.read_text(encoding="utf-8")
        page, reads = str(path.relative_to(root)), []
        render_page(text, names, page, reads)
        lines = text.split("\n")
        notes, commits = {}, {}  # block -> {benchmark: the stages it says are stale}; block -> names a commit
        for block in blocks(lines):
            joined = "\n".join(lines[n - 1] for n in block)
            notes[block] = {}
            for name, listed in STALE.findall(re.sub(r"`[^`\n]*`", "", joined)):  # not notes quoted as code
                notes[block].setdefault(name, set()).update(filter(None, re.split(r"[\s,]+", listed)))
            commits[block] = bool(MEASURED_AT.search(joined))
        needed = set()  # (block, benchmark, stage) that a figure in the block reads stale
        for number, expression, keys in reads:
            hits: dict[str, set[str]] = {}
            for key in keys:
                match = re.match(r"benchmarks/results/(\w+)\.json", key)
                hit = set(stale_of(match.group(1)) or ()) & stages_read(key, lock) if match else set()
                if hit:
                    hits.setdefault(match.group(1), set()).update(hit)
            for name, stages in hits.items():
                around = [b for b in notes if number in b]
                needed |= {(b, name, stage) for b in around for stage in stages}
                if any(stages <= notes[b].get(name, set()) and commits[b] for b in around):
                    continue
                stale = stale_of(name)
                missing = sorted(stages - set().union(*(notes[b].get(name, set()) for b in around))) or sorted(stages)
                first = min(missing, key=lambda stage: (not stale[stage].startswith("it is not"), stage))
                problems.setdefault((page, tuple(around), name, tuple(missing)), (
                    f"{page}:{number}: a figure of bench.{name} read from {', '.join(missing)}, measured before "
                    f"today's code or params ({first}: {stale[first]}); say so beside it: "
                    f"<!--stale {name}: {' '.join(sorted(stages))}--> and \"measured at `<commit>`\""))
        for block, said in notes.items():
            for name, listed in said.items():
                today = sorted(listed - set(stale_of(name) or ()))
                if today:
                    problems[(page, block, name, "today")] = (
                        f"{page}:{block.start}: says bench.{name}'s {', '.join(today)} stale, but it measured "
                        "today's code and params there: drop them from the note")
                elif not any((b, name, stage) in needed for b in notes for stage in listed
                             if b.start <= block.start < b.stop or block.start <= b.start < block.stop):
                    problems[(page, block, name, "none")] = (
                        f"{page}:{block.start}: says bench.{name} is stale, but no figure beside it reads a "
                        "stage it measured before today's code or params")
    return list(dict.fromkeys(problems.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is out of date")
    args = parser.parse_args()
    differences, count = render_all(write=not args.check)
    for difference in differences:
        print(difference, file=sys.stderr)
    verb = "out of date" if args.check else "rewritten"
    print(f"{count} figures in {len(pages())} pages; {len(differences)} {verb}", file=sys.stderr)
    stale = unannounced_stale_figures()
    for problem in stale:
        print(problem, file=sys.stderr)
    sys.exit(1 if args.check and (differences or stale) else 0)


if __name__ == "__main__":
    main()
