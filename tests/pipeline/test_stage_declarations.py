"""The stages as dvc.yaml declares them: honest code dependencies, strict params, and the
interpreter check. Fast: nothing here runs a stage past reading its params."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_ROOT, stage_command
from fashion_clustering.errors import PipelineError

PACKAGE = "fashion_clustering"
STAGES = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
PARAM_STAGES = [name for name, stage in STAGES.items() if stage.get("params")]


def _module_files(module: str) -> set[str]:
    """The files that importing the package's ``module`` (dotted) runs: the module, or a
    subpackage's ``__init__.py``, and the ``__init__.py`` of every package above it."""
    parts = module.split(".")
    files = {"/".join(parts[:i]) + "/__init__.py" for i in range(1, len(parts))}
    path = PROJECT_ROOT.joinpath(*parts)
    if path.with_suffix(".py").is_file():
        return files | {"/".join(parts) + ".py"}
    if (path / "__init__.py").is_file():
        return files | {"/".join(parts) + "/__init__.py"}
    return set()


def package_imports(path: Path) -> set[str]:
    """The package's files that the file at ``path`` runs by its imports, anywhere in it
    (lazy imports run too), as paths relative to the project."""
    here = path.relative_to(PROJECT_ROOT).parts[:-1]  # the package a relative import starts from
    files = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join((*here[:len(here) - node.level + 1], *filter(None, [node.module])))
            else:
                base = node.module or ""
            if base != PACKAGE and not base.startswith(PACKAGE + "."):
                continue
            files |= _module_files(base)
            for alias in node.names:  # from package import module
                files |= _module_files(f"{base}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    files |= _module_files(alias.name)
    return files


def code_closure(script: str) -> set[str]:
    """The script, and every package file it runs: ``stages/__init__.py`` (``python -m``
    runs it first), their imports, theirs, and the ``__init__.py`` of each package on the way."""
    found, todo = set(), [script, "stages/__init__.py"]
    while todo:
        path = todo.pop()
        if path not in found:
            found.add(path)
            todo.extend(package_imports(PROJECT_ROOT / path))
    return found | {f"{PACKAGE}/__init__.py"}


@pytest.mark.parametrize("name", STAGES)
def test_stage_lists_exactly_the_code_it_runs(name):
    stage = STAGES[name]
    listed = {dep for dep in stage["deps"] if dep.startswith(("stages/", f"{PACKAGE}/"))}
    assert "requirements.lock" in stage["deps"], f"{name}: the pinned packages compute its outputs too"
    expected = code_closure(stage_command(stage)[0])
    assert not expected - listed, f"{name}: add to its deps in dvc.yaml: {sorted(expected - listed)}"
    assert not listed - expected, f"{name}: not code it runs: {sorted(listed - expected)}"


def test_import_scan_sees_every_form():
    """The scan must not miss an import form the code uses, or the test above would pass."""
    assert package_imports(PROJECT_ROOT / "stages/train_autoencoder.py") >= {
        f"{PACKAGE}/representation/__init__.py", f"{PACKAGE}/representation/autoencoder.py",
        f"{PACKAGE}/stage.py"}
    assert package_imports(PROJECT_ROOT / PACKAGE / "evaluation/cluster_classes.py") == {
        f"{PACKAGE}/__init__.py", f"{PACKAGE}/evaluation/__init__.py",
        f"{PACKAGE}/evaluation/figures.py", f"{PACKAGE}/evaluation/metrics.py"}


def load_stage_module(name: str):
    script = PROJECT_ROOT / stage_command(STAGES[name])[0]
    spec = importlib.util.spec_from_file_location(f"stage_{name}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", PARAM_STAGES)
def test_stage_rejects_a_misspelt_key_before_reading_anything(name, tmp_path, monkeypatch):
    section = name  # a stage's own section (the report stage also reads the others' values)
    assert section in STAGES[name]["params"]
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    for key in list(params[section]):  # each key, misspelt, beside the right one
        typo = key + key[-1]
        params[section][typo] = params[section][key]
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        shutil.copy(PROJECT_ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
        monkeypatch.chdir(tmp_path)
        main = load_stage_module(name).main
        with pytest.raises(PipelineError) as info:
            main(*["absent"] * main.__code__.co_argcount)
        assert str(info.value) == (f"params.yaml: unknown key '{section}.{typo}'; "
                                   f"did you mean '{key}'?")
        del params[section][typo]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dvc.yaml", "params.yaml"]


def test_wrong_interpreter_fails_in_one_line(tmp_path):
    """`python -S` has no site-packages, like a Python the project is not installed in."""
    for name in ("stages", PACKAGE):
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-S", "-m", "stages.fetch", "data/raw"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {sys.executable} is not the project's Python (fashion-clustering is not installed "
        "in it); run 'source .venv/bin/activate' first"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fashion_clustering", "stages"]
