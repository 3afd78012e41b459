"""TensorFlow imported without its C++ log lines, and with thread pools of a set size.

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
# TensorFlow sizes its pools by the CPUs it may use, and splits its work (hence its float
# rounding) by them: a run on one core, or on sixteen, trained another model than the
# committed one. A set size gives every machine the same split; 2 is what the machines the
# committed results come from have. The training stage takes its size from params.yaml
# (train_autoencoder.threads); whatever else imports TensorFlow uses this one.
TF_THREADS = 2


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


def import_tensorflow(threads: int = TF_THREADS) -> None:
    """Import TensorFlow once, quietly unless ``FASHION_CLUSTERING_TF_LOG=1``, and set its
    intra- and inter-op pools to ``threads`` threads (the first import decides)."""
    if "tensorflow" in sys.modules:
        return
    if os.environ.get(TF_LOG_VARIABLE) == "1":
        import tensorflow
    else:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # TensorFlow's own C++ logging, for good
        with _stderr_discarded():  # absl's start-up lines ignore that level
            import tensorflow
    tensorflow.config.threading.set_intra_op_parallelism_threads(threads)
    tensorflow.config.threading.set_inter_op_parallelism_threads(threads)
