"""What every stage script shares: logging, its path arguments, one-line errors."""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Callable

from .errors import PipelineError


def run_stage(main: Callable[..., None]) -> None:
    """Call ``main`` with the script's path arguments, one per parameter of ``main``.

    A :class:`PipelineError` becomes a single ``error: ...`` line and exit status 1; Ctrl-C
    the line ``interrupted`` and status 130 (128 + SIGINT, as a shell reports it). Outputs are
    written atomically, so either way nothing half-written is left.
    """
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    names = list(inspect.signature(main).parameters)
    args = sys.argv[1:]
    if len(args) != len(names):
        print(f"usage: {sys.argv[0]} {' '.join(n.upper() for n in names)}", file=sys.stderr)
        sys.exit(2)
    try:
        main(*args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
