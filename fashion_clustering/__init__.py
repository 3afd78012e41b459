"""Unsupervised clustering of Fashion-MNIST: the library behind the DVC stages.

Importing it prepares the process; the stages (``python -m stages.<name>``) import it before
anything else.
"""

import importlib.metadata
import os
import sys

# DVC runs each stage command with whatever `python` is first on PATH. If that is not an
# interpreter the project is installed in (say, the venv is not activated), stop with one
# line that says so, rather than a traceback about the first missing package.
try:
    importlib.metadata.distribution("fashion-clustering")
except importlib.metadata.PackageNotFoundError:
    sys.exit(f"error: {sys.executable} is not the project's Python (fashion-clustering is not "
             "installed in it); run 'source .venv/bin/activate' first")

# Numba (under UMAP) compiles for the host CPU by default, so its float results depend on
# the CPU's vector extensions: the same codes gave different UMAP embeddings on an AVX-512
# machine and (emulated with NUMBA_CPU_NAME=haswell) on the AVX2 machine that wrote an
# earlier dvc.lock. Code for a generic CPU does not depend on them.
os.environ["NUMBA_CPU_NAME"] = "generic"
