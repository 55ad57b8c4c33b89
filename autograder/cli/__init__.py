"""The `autograder` command: a thin layer over the library, with one error handler.

Every command parses options, builds the course once (`CourseDir.find()`) where it needs one, and
calls the library. Errors from the library are `autograder.errors.AutograderError`s; the group
below maps them to exit codes in this one place (see `autograder.errors` for the codes).
"""

from __future__ import annotations

from typing import Any

import click

from .. import __version__
from ..errors import AutograderError
from .course import grade, new, release
from .exports import EXPORT_COMMANDS


class _Exit(click.ClickException):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code


class _Group(click.Group):
    """Runs a command; an AutograderError becomes its message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AutograderError as exc:
            raise _Exit(str(exc), exc.exit_code) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def main() -> None:
    """Release, grade and export deep-learning assignments.

    \b
    Exit codes: 0 done; 1 the grader failed for some submission (or an upload or a --strict
    roster match failed); 2 could not run (bad options, no course or assignment, no
    submissions, bad input; nothing written); 3 the assignment's own tests are broken.
    The course is the folder holding assignments/ (found from the current folder upwards);
    elsewhere set AUTOGRADER_COURSE=/path/to/course.
    """


for _command in (new, release, grade, *EXPORT_COMMANDS):
    main.add_command(_command)

__all__ = ["main"]
