"""What every stage script shares: logging, its path arguments, one-line errors."""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Callable

from .errors import PipelineError
from .files import outputs_together


def run_stage(main: Callable[..., None]) -> None:
    """Call ``main`` with the script's path arguments, one per parameter of ``main``.

    A :class:`PipelineError` or :class:`OSError` becomes a single ``error: ...`` line and exit
    status 1; Ctrl-C the line ``interrupted`` and status 130 (128 + SIGINT, as a shell reports
    it). Either way every output of the stage is left as it was.
    """
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    names = list(inspect.signature(main).parameters)
    args = sys.argv[1:]
    if len(args) != len(names):
        print(f"usage: {sys.argv[0]} {' '.join(n.upper() for n in names)}", file=sys.stderr)
        sys.exit(2)
    try:
        with outputs_together():  # an error leaves every output of the stage as it was
            main(*args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except OSError as error:  # the system's refusal (a full disk, an unreadable file): one line too
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def describe_os_error(error: OSError) -> str:
    """``<path>: <what the system said>`` on one line, or the message alone if no path."""
    what = error.strerror or " ".join(str(error).split())
    return what if error.filename is None else f"{error.filename}: {what}"
