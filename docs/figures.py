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
"""

from __future__ import annotations

import argparse
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
        return wrap(dict.__getitem__(self, key), f"{self.path}.{key}")

    def values(self):
        return [self[key] for key in self]

    def items(self):
        return [(key, self[key]) for key in self]


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


def render_page(text: str, names: dict[str, object], page: str) -> tuple[str, list[Difference], int]:
    """The page with every figure rewritten from its source, what differed, and how many figures."""
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
            count += 1
            value = evaluate(expression, scope, page, number)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is out of date")
    args = parser.parse_args()
    differences, count = render_all(write=not args.check)
    for difference in differences:
        print(difference, file=sys.stderr)
    verb = "out of date" if args.check else "rewritten"
    print(f"{count} figures in {len(pages())} pages; {len(differences)} {verb}", file=sys.stderr)
    sys.exit(1 if args.check and differences else 0)


if __name__ == "__main__":
    main()
