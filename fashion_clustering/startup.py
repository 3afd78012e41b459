"""What a program of the project does before anything else: the stages (``stages/__init__.py``),
the ``fashion-clustering`` command and the benchmark scripts that fit UMAP call
:func:`start_program`. Only the standard library is imported here, so that the interpreter
check can speak before a missing package would.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys

# Numba (under UMAP) compiles for the host CPU by default, so its float results depend on
# the CPU's vector extensions: the same codes gave different UMAP embeddings on an AVX-512
# machine and (emulated with NUMBA_CPU_NAME=haswell) on the AVX2 machine that wrote an
# earlier dvc.lock. Code for a generic CPU does not depend on them. Numba reads the variable
# when it is first imported, which the package does only inside functions (``import_umap``).
NUMBA_CPU_NAME = "generic"


def check_interpreter() -> None:
    """Exit with one line if this Python is not one the project is installed in.

    DVC runs each stage command with whatever ``python`` is first on PATH; if that is not the
    venv's, this says so, rather than a traceback about the first missing package.
    """
    try:
        importlib.metadata.distribution("fashion-clustering")
    except importlib.metadata.PackageNotFoundError:
        sys.exit(f"error: {sys.executable} is not the project's Python (fashion-clustering is not "
                 "installed in it); run 'source .venv/bin/activate' first")


def start_program() -> None:
    """Check the interpreter, then have Numba compile for a generic CPU (see
    :data:`NUMBA_CPU_NAME`)."""
    check_interpreter()
    os.environ["NUMBA_CPU_NAME"] = NUMBA_CPU_NAME
