"""The clusterers: K-Means and Gaussian mixtures fitted on training rows (``fit``), with clusters of equal size (``equal_size``), each row predicted on its own (``rowwise``)."""
