"""One exception hierarchy for every user-facing failure.

The CLI prints ``str(error)`` on one line and exits non-zero; a traceback is
shown only with ``--verbose``. Every message says what was expected, what was
found, and how to fix it.
"""


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, at most ``limit`` characters ('' when it has none): for one-line
    messages and logs that quote a library's error."""
    text = str(exc)
    return text.splitlines()[0][:limit] if text.strip() else ""


class StanceError(Exception):
    """Base class: a user mistake or bad input, reported without a traceback."""

    exit_code = 2


class ConfigError(StanceError):
    """A config file or override is invalid (unknown key, wrong type, bad value)."""


class DataError(StanceError):
    """An input file, label file or dataset is missing or malformed."""


class ModelError(StanceError):
    """A model folder or base model cannot be used."""


class ReportError(StanceError):
    """A report folder is missing, from another format version, or not comparable."""


class WorseError(StanceError):
    """``stance compare --fail-if-worse``: model B is significantly worse."""

    exit_code = 1
