"""The CPU description the benchmark records beside every run."""

import os

from fashion_clustering.machine import describe_cpu

CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse4_2 avx fma avx2 avx512f avx512_vnni
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse4_2 avx fma avx2 avx512f avx512_vnni
"""


def test_model_extensions_in_order_and_usable_cpus():
    assert describe_cpu(CPUINFO) == {
        "model": "AMD EPYC", "vector_extensions": ["sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_vnni"],
        "cpus": len(os.sched_getaffinity(0))}

