"""One error tree for everything after grading, so the CLI maps it to exit codes in one place.

Every message names the file (and the row or student when there is one) and says what to do,
because the person reading it is an instructor at a terminal, not a developer.
"""

from __future__ import annotations


class ExportError(Exception):
    """Base: the input or the options are wrong; nothing was written. Exit code 2."""

    exit_code = 2


class ResultsError(ExportError):
    """The result JSON files are missing, unreadable or inconsistent."""


class RosterError(ExportError):
    """The roster CSV has missing columns, duplicates or empty identities."""


class UnknownRunError(ExportError):
    """The gradebook has no run with that id."""


class GradebookError(ExportError):
    """The gradebook database is missing or cannot be used."""


class OutputPathError(ExportError):
    """The output path cannot be written (missing folder, no permission, is a folder...)."""


class GradescopeError(ExportError):
    """Gradescope metadata or the autograder bundle cannot be produced."""


class UnmatchedStudentsError(RosterError):
    """--strict was given and some students are only on one side of the roster match. Exit code 1."""

    exit_code = 1


class CanvasUploadError(ExportError):
    """Canvas refused or failed the upload (network, token, ids). Exit code 1."""

    exit_code = 1


__all__ = [
    "ExportError", "ResultsError", "RosterError", "UnknownRunError", "GradebookError", "OutputPathError",
    "GradescopeError", "UnmatchedStudentsError", "CanvasUploadError",
]
