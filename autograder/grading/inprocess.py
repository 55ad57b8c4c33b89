"""The in-process mode: a submission's tests run in this process with no isolation.

For project tests, the reference checks and the benchmark's in-process limit only: never for
student code that is not trusted (the pool and the sandbox are for that).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gradekit.direct import DirectProvider
from gradekit.plugin import Provider
from gradekit.scoring import Outcome

from ..config import Assignment
from ..course import CourseDir
from .runner import TestRun, reference_provider, run_tests


def run_inprocess(
    course: CourseDir,
    assignment: Assignment,
    student_dir: Path,
    *,
    student_id: str = "public",
    hidden: bool = True,
    public: bool = True,
    select: str | None = None,
    quiet: bool = True,
) -> TestRun:
    """All tests for one submission in this process, no isolation: for project tests and the bench."""
    student = DirectProvider(Path(student_dir), assignment.spec.modules)
    reference = reference_provider(course, assignment)
    try:
        with _silenced(quiet):
            return run_tests(course, assignment, student, student_id=student_id, reference=reference,
                             hidden=hidden, public=public, select=select)
    finally:
        student.close()
        reference.close()


@contextmanager
def _silenced(quiet: bool = True) -> Iterator[None]:
    """Send this process's stdout/stderr (file descriptors 1 and 2) to /dev/null for a while."""
    if not quiet:
        yield
        return
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


class DirectBatch:
    """Students' folders imported directly, one after another, in one session (no isolation)."""

    def __init__(self, folders: dict[str, Path], modules: tuple[str, ...]) -> None:
        self.folders = folders
        self.modules = modules
        self.student_ids = list(folders)
        self.outcomes: dict[str, list[Outcome]] = {}

    def open(self, student_id: str) -> Provider:
        return DirectProvider(self.folders[student_id], self.modules)

    def close(self, student_id: str, provider: Provider) -> None:
        provider.close()

    def done(self, student_id: str, outcomes: list[Outcome]) -> None:
        self.outcomes[student_id] = outcomes


def run_inprocess_batch(course: CourseDir, assignment: Assignment, folders: dict[str, Path], *,
                        public: bool = True, questions: frozenset[str] | None = None) -> dict[str, list[Outcome]]:
    """All tests of all submissions in one process and one pytest session: the in-process limit.

    `public=False` runs the hidden tests only; `questions` only those questions' tests.
    """
    batch = DirectBatch(folders, assignment.spec.modules)
    reference = reference_provider(course, assignment)
    try:
        with _silenced():
            run_tests(course, assignment, None, student_id="", reference=reference, batch=batch, on_student=batch.done,
                      public=public, questions=questions)
    finally:
        reference.close()
    return batch.outcomes
