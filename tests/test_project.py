"""Packaging: the CPU and GPU extras install the same TensorFlow, the one the lock pins."""

import ast
import re
import tomllib

from conftest import PROJECT_ROOT


def test_cpu_and_gpu_extras_pin_the_locked_tensorflow():
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["cpu"] == [f"tensorflow-cpu=={version}" for version in re.findall(
        r"^tensorflow[-_]cpu==(\S+)$", (PROJECT_ROOT / "requirements.lock").read_text(), re.M)]
    assert extras["gpu"] == [extras["cpu"][0].replace("tensorflow-cpu", "tensorflow[and-cuda]")]


def public_names_without_docstring() -> tuple[list[str], int]:
    """Each public class, function and method of the package (names not starting with ``_``,
    in classes themselves public) that has no docstring, as ``path:line name``; and how many
    public names there are."""
    missing, seen = [], []

    def visit(node: ast.AST, path: str, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and not child.name.startswith("_"):
                seen.append(child.name)
                if ast.get_docstring(child) is None:
                    missing.append(f"{path}:{child.lineno} {prefix}{child.name}")
                if isinstance(child, ast.ClassDef):
                    visit(child, path, f"{prefix}{child.name}.")

    for path in sorted((PROJECT_ROOT / "fashion_clustering").rglob("*.py")):
        visit(ast.parse(path.read_text()), str(path.relative_to(PROJECT_ROOT)), "")
    return missing, len(seen)


def test_every_public_name_has_a_docstring():
    missing, count = public_names_without_docstring()
    assert count > 200, f"only {count} public names found: the scan lost the package"
    assert missing == [], "public names without a docstring:\n" + "\n".join(missing)
