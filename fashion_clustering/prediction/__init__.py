"""Clusters for new images: the pipeline's models applied to one image at a time (``predict``) and the ``fashion-clustering`` command (``cli``)."""
