"""The one error type for bad input."""


class PipelineError(Exception):
    """Bad input: a file, array or parameter that is not what the pipeline expects.

    The message names the file or parameter and what was expected; a stage prints it as
    one line and exits non-zero.
    """


# What to say when a file the pipeline makes is missing.
RUN_PIPELINE = "run `dvc repro` to make it"


def not_found(path: object, hint: str = RUN_PIPELINE) -> PipelineError:
    """The error for a file the pipeline makes that is missing; ``hint``: how to make it."""
    return PipelineError(f"{path}: not found; {hint}")
