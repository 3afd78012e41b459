"""The pipeline's stage scripts, which DVC runs as ``python -m stages.<name>``.

Python imports this package before the script itself, so this is where every stage's process
starts (:func:`fashion_clustering.startup.start_program`).
"""

from fashion_clustering.startup import start_program

start_program()
