"""Unsupervised clustering of Fashion-MNIST: the library behind the DVC stages."""

import os

# Numba (under UMAP) compiles for the host CPU by default, so its float results depend on
# the CPU's vector extensions: the same codes gave different UMAP embeddings on an AVX-512
# machine and (emulated with NUMBA_CPU_NAME=haswell) on the AVX2 machine that wrote an
# earlier dvc.lock. Code for a generic CPU does not depend on them.
os.environ["NUMBA_CPU_NAME"] = "generic"
