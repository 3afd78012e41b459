"""Importing the package changes nothing in the process; the programs built on it (the stages,
``fashion-clustering``) prepare their process themselves, before anything else."""

import os
import subprocess
import sys

from conftest import PROJECT_ROOT
from fashion_clustering.startup import NUMBA_CPU_NAME


def run_python(code: str, *flags: str) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter at the project's root, without the variable a program sets."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CPU_NAME"}
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_importing_every_module_leaves_the_environment_as_it_was():
    """scikit-learn sets two variables of Intel's OpenMP when imported: it is imported first."""
    result = run_python(
        "import importlib, os, pkgutil, sklearn\n"
        "before = dict(os.environ)\n"
        "import fashion_clustering\n"
        "names = [m.name for m in pkgutil.walk_packages(fashion_clustering.__path__, 'fashion_clustering.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), sorted(k for k in {*before, *os.environ} if before.get(k) != os.environ.get(k)))\n")
    assert result.returncode == 0, result.stderr
    count, changed = result.stdout.split(" ", 1)
    assert int(count) > 40 and changed.strip() == "[]"


def test_importing_the_package_without_it_installed_does_not_exit():
    """`python -S` has no site-packages, like a Python the project is not installed in."""
    result = run_python("import fashion_clustering, fashion_clustering.startup; print('imported')", "-S")
    assert (result.returncode, result.stdout) == (0, "imported\n")


def test_a_stage_and_the_command_start_with_numba_on_a_generic_cpu():
    stage = run_python("import os, stages; print(os.environ['NUMBA_CPU_NAME'])")
    command = run_python("import contextlib, os\n"
                         "from fashion_clustering.prediction.cli import main\n"
                         "with contextlib.suppress(SystemExit):\n"
                         "    main(['--help'])\n"
                         "print(os.environ['NUMBA_CPU_NAME'])")
    assert stage.stdout == f"{NUMBA_CPU_NAME}\n"
    assert command.stdout.splitlines()[-1] == NUMBA_CPU_NAME
