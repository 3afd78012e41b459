"""Unsupervised clustering of Fashion-MNIST: the library behind the DVC stages.

Importing it, or any of its modules, changes nothing in the process; the programs built on it
(the stages, ``fashion-clustering``) first call :func:`fashion_clustering.startup.start_program`.
"""
