"""The explorer: a page of every image of a run, its 2-D map, clusters, confusions and
typicality, written by the ``explore`` stage."""
