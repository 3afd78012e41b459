"""Unsupervised clustering of Fashion-MNIST: the library behind the DVC stages.

DVC runs each stage command (``python -m stages.<name>``) with whatever ``python`` is first on
``PATH``. If that is not an interpreter the project is installed in (say, the venv is not
activated), importing the package stops with one line that says so, rather than a traceback
about the first missing package.
"""

import importlib.metadata
import sys

try:
    importlib.metadata.distribution("fashion-clustering")
except importlib.metadata.PackageNotFoundError:
    sys.exit(f"error: {sys.executable} is not the project's Python (fashion-clustering is not "
             "installed in it); run 'source .venv/bin/activate' first")
