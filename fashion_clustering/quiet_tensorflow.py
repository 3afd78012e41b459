"""TensorFlow imported without its C++ log lines.

Those (absl's pre-initialisation warning and oneDNN notices while importing, then
graph-optimizer ``E0000`` lines) read like errors and drown the pipeline's own lines.
``FASHION_CLUSTERING_TF_LOG=1`` keeps them; only log lines depend on it, never outputs.
An import error still shows (it is raised after stderr is restored); warnings printed while
importing do not. umap-learn imports TensorFlow too (for its parametric UMAP), so whatever
imports umap calls :func:`import_tensorflow` first.
"""

from __future__ import annotations

import contextlib
import os
import sys

TF_LOG_VARIABLE = "FASHION_CLUSTERING_TF_LOG"


@contextlib.contextmanager
def _stderr_discarded():
    """Send what C code writes to file descriptor 2 to /dev/null for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow() -> None:
    """Import TensorFlow once, quietly unless ``FASHION_CLUSTERING_TF_LOG=1``."""
    if "tensorflow" not in sys.modules and os.environ.get(TF_LOG_VARIABLE) != "1":
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # TensorFlow's own C++ logging, for good
        with _stderr_discarded():  # absl's start-up lines ignore that level
            import tensorflow  # noqa: F401
