"""Unsupervised clustering of Fashion-MNIST: the library behind the DVC stages."""
