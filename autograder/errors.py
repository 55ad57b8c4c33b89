"""One error tree for the whole instructor side, so the CLI maps it to exit codes in one place.

Every message names the file (and the student, row or question when there is one) and says what
to do, because the person reading it is an instructor at a terminal, not a developer. A problem
with one student's submission is never raised: it becomes that student's error result (data).

Exit codes (`autograder.cli` maps `exit_code` and nothing else):
  0  done; every submission got a result
  1  done, but the grader failed for some submission (or an upload/strict match failed)
  2  could not run: bad options, no course or assignment, invalid input; nothing was written
  3  the assignment's own tests are broken: fix the tests, not the submissions (TestsBroken: a runner
     found a test file it could not collect, or tests that ran for fewer points than assignment.yaml
     has, e.g. a file skipped for a missing dependency; it exits 3, the pool reports why, and the
     CLI raises TestsBroken; those students get no result, so the next run grades them)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TESTS_BROKEN = 3


class AutograderError(Exception):
    """Base: the command could not do what was asked. Exit code 2 unless a subclass says otherwise."""

    exit_code = EXIT_USAGE


# ---------------------------------------------------------------- the course and its assignments


class ConfigError(AutograderError, ValueError):
    """assignment.yaml is invalid; the message names the file, line and key."""


class LayoutError(AutograderError, LookupError):
    """A course folder or assignment is missing; the message says where we looked."""


class ReleaseError(AutograderError, ValueError):
    """A reference solution cannot be turned into a student release (markers, leaks, syntax)."""


# ---------------------------------------------------------------- grading


class GradingError(AutograderError, RuntimeError):
    """The grader itself cannot run (bad options, no assignment, no isolation)."""


class TestsBroken(AutograderError, RuntimeError):
    """The assignment's own tests could not be collected or run: a grader problem, not a student's."""

    __test__ = False  # not a pytest test class
    exit_code = EXIT_TESTS_BROKEN


# ---------------------------------------------------------------- after grading


class ExportError(AutograderError):
    """The results, the roster or the options are wrong; nothing was written. Exit code 2."""


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

    exit_code = EXIT_FAILED


class NbgraderExportError(ExportError):
    """nbgrader (the optional extra) is missing, or its gradebook refused the scores; nothing was written."""


class CanvasUploadError(ExportError):
    """Canvas refused or failed the upload (network, token, ids). Exit code 1."""

    exit_code = EXIT_FAILED


__all__ = [
    "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_TESTS_BROKEN",
    "AutograderError", "ConfigError", "LayoutError", "ReleaseError", "GradingError", "TestsBroken",
    "ExportError", "ResultsError", "RosterError", "UnknownRunError", "GradebookError", "OutputPathError",
    "GradescopeError", "UnmatchedStudentsError", "CanvasUploadError", "NbgraderExportError",
]
