"""The representation the clusterers see: the autoencoder and its training terms, the exact encoder that computes its codes, and the manifold step (UMAP) on them."""
