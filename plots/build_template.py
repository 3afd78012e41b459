"""Regenerate offline_template.html, the page `dvc plots show` and `dvc plots diff` fill (see
.dvc/config), and the licences in licenses/, from the npm packages pinned in package.json and
package-lock.json.

DVC's default page loads vega, vega-lite and vega-embed from a CDN, so without network its plots
stay blank; this one is the same page with their minified builds inlined. Needs npm and access
to its registry; the pipeline's users need neither. Run it from the project's venv (it takes the
page from the installed dvc-render):

    python plots/build_template.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dvc_render.html import HTML, PAGE_HTML

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "offline_template.html"
LICENSES = HERE / "licenses"
# In the order the page must load them: vega-lite needs vega, vega-embed needs both.
BUILDS = {"vega": "build/vega.min.js", "vega-lite": "build/vega-lite.min.js",
          "vega-embed": "build/vega-embed.min.js"}
LICENCE_FILE = re.compile(r"^(licen[cs]e|copying)([-.].*)?$", re.IGNORECASE)
SOURCE_MAP_LINE = re.compile(r"\n//# sourceMappingURL=\S+\s*$")
# Text that would end the inline <script> early, or that DVC would replace inside the code.
FORBIDDEN = ("</script", "<!--", *(f"{{{name}}}" for name in (
    HTML.SCRIPTS_PLACEHOLDER, HTML.PLOTS_PLACEHOLDER, HTML.REFRESH_PLACEHOLDER)))


def install(target: Path) -> Path:
    """Install exactly the locked packages into ``target``; return its node_modules."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / name, target / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target, check=True)
    return target / "node_modules"


def manifest(package: Path) -> dict:
    return json.loads((package / "package.json").read_text())


def repository(package: Path) -> str:
    repo = manifest(package).get("repository", "")
    return repo.get("url", "") if isinstance(repo, dict) else repo


def licence(package: Path, modules: Path) -> tuple[str, str]:
    """The package's licence text, and the package it was found in: some packages of vega's
    monorepo (vega itself, vega-util, ...) ship none, so theirs is taken from a sibling of the
    same repository that does."""
    siblings = sorted(p for p in modules.iterdir() if (p / "package.json").is_file()
                      and repository(p) == repository(package) != "")
    for candidate in (package, *siblings):
        texts = sorted(f for f in candidate.iterdir() if LICENCE_FILE.match(f.name) and f.is_file())
        if texts:
            return texts[0].read_text().strip() + "\n", candidate.name
    raise SystemExit(f"error: {package.name}: no licence file, nor in a package of its repository")


def bundled(build: Path) -> list[str]:
    """The third-party packages a minified build contains, from its source map's sources."""
    sources = json.loads(build.with_name(build.name + ".map").read_text())["sources"]
    return sorted({m[-1] for s in sources if (m := re.findall(r"node_modules/((?:@[^/]+/)?[^/]+)/", s))})


def code(build: Path) -> str:
    text = SOURCE_MAP_LINE.sub("\n", build.read_text())  # the maps are not shipped beside the page
    for forbidden in FORBIDDEN:
        if forbidden in text.lower():
            raise SystemExit(f"error: {build}: contains {forbidden!r}, which cannot be inlined")
    return text


def page(modules: Path) -> str:
    versions = ", ".join(f"{name} {manifest(modules / name)['version']}" for name in BUILDS)
    scripts = "\n".join(f"<script>\n{code(modules / name / path)}</script>" for name, path in BUILDS.items())
    comment = (f"<!-- {versions}, inlined by plots/build_template.py from npm so that the plots "
               "draw without network; their licences are in plots/licenses/ -->")
    placeholder = f"{{{HTML.SCRIPTS_PLACEHOLDER}}}"
    if PAGE_HTML.count(placeholder) != 1:
        raise SystemExit(f"error: dvc-render's default page no longer has one {placeholder}")
    return PAGE_HTML.replace(placeholder, f"{comment}\n{scripts}")


def notices(modules: Path) -> str:
    """Every third-party package inside the builds, grouped by identical licence text."""
    lines = ["The builds inlined into offline_template.html, written by build_template.py. Each",
             "build's own code, with the packages of its own repository, is under LICENSE-<name>;",
             "the third-party packages inside it (from its source map) and their licences follow.", ""]
    by_text: dict[str, list[str]] = {}
    for name, path in BUILDS.items():
        inside = bundled(modules / name / path)
        source = licence(modules / name, modules)[1]
        origin = f"; LICENSE-{name} from {source}, same repository" if source != name else ""
        lines.append(f"{path.rsplit('/', 1)[-1]} ({name} {manifest(modules / name)['version']}{origin}): "
                     f"{', '.join(inside) or 'no third-party package'}")
        for package in inside:
            directory = modules / name / "node_modules" / package
            directory = directory if directory.is_dir() else modules / package
            text, source = licence(directory, modules)
            label = f"{package} ({manifest(directory)['license']}"
            label += f"; licence file from {source}, same repository)" if source != package else ")"
            by_text.setdefault(text, []).append(label)
    for text, packages in by_text.items():
        lines += ["", "-" * 78, ", ".join(sorted(set(packages))), "", text.rstrip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        modules = install(Path(scratch))
        TEMPLATE.write_text(page(modules))
        shutil.rmtree(LICENSES, ignore_errors=True)
        LICENSES.mkdir()
        for name in BUILDS:
            (LICENSES / f"LICENSE-{name}").write_text(licence(modules / name, modules)[0])
        (LICENSES / "THIRD-PARTY-NOTICES").write_text(notices(modules))
    print(f"wrote {TEMPLATE.relative_to(HERE.parent)} and {LICENSES.relative_to(HERE.parent)}/")


if __name__ == "__main__":
    main()
