"""The machine a result was measured on: floating-point results and times depend on the CPU
(its vector extensions decide which kernels run) and on how many threads ran."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# Beside the training losses: which machine trained the model.
MACHINE_FILE = "machine.json"
# The extensions that select different numeric kernels (TensorFlow's Eigen and oneDNN,
# OpenBLAS, Numba), in order of appearance.
VECTOR_EXTENSIONS = ("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def describe_cpu(cpuinfo: str | None = None) -> dict[str, object]:
    """CPU model, the vector extensions of :data:`VECTOR_EXTENSIONS` it has, and the number
    of CPUs this process may run on; from ``/proc/cpuinfo`` unless ``cpuinfo`` is given."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "model": fields.get("model name", platform.processor() or platform.machine()),
        "vector_extensions": [ext for ext in VECTOR_EXTENSIONS if ext in flags],
        "cpus": available_cpus(),
    }


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def describe_training_machine(threads: int) -> dict[str, object]:
    """:func:`describe_cpu`, and the ``threads`` TensorFlow trained with."""
    return {**describe_cpu(), "tensorflow_threads": threads}
