"""Run an assignment's tests in this process, for one submission, through a given provider.

The grader calls this in a forked runner process with the sandbox's remote provider; project tests
and the benchmark's in-process limit call it with the direct provider.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from gradekit.direct import DirectProvider
from gradekit.plugin import SESSION, Batch, Provider, Session
from gradekit.scoring import Outcome

from .config import Assignment
from .layout import CourseDir


class TestsBroken(RuntimeError):
    """The assignment's own tests could not be collected or run: a grader problem, not a student's."""


@dataclass(frozen=True)
class TestRun:
    outcomes: tuple[Outcome, ...]
    exit_code: int


class _Host:
    """Hands the prepared session to gradekit's plugin before it would build its own."""

    def __init__(self, session: Session, questions: frozenset[str] | None = None) -> None:
        self.session = session
        self.questions = questions

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Keep only the tests of the chosen questions (all when none were chosen)."""
        if self.questions is None:
            return
        keep, drop = [], []
        for item in items:
            marker = item.get_closest_marker("question")
            (keep if marker is not None and marker.args and marker.args[0] in self.questions else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SESSION] = self.session

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            raise TestsBroken(f"cannot collect {report.nodeid}: {str(report.longrepr)[-2000:]}")


def reference_provider(course: CourseDir, assignment: Assignment) -> DirectProvider:
    return DirectProvider(course.solutions_dir(assignment.name), assignment.spec.modules, prefix="gradekit_reference_")


def run_tests(
    course: CourseDir,
    assignment: Assignment,
    student: Provider | None,
    *,
    student_id: str,
    reference: Provider | None,
    hidden: bool = True,
    public: bool = True,
    select: str | None = None,
    batch: Batch | None = None,
    questions: frozenset[str] | None = None,
) -> TestRun:
    """Run the public and/or hidden tests against `student` (or every student of `batch`).

    `questions` limits the run to those questions' tests (the mutant bank runs only what a bug touches).
    """
    name = assignment.name
    session = Session(spec=assignment.spec, student=student, reference=reference, student_id=student_id,
                      summary=False, batch=batch)
    root = course.assignments_dir / name / "tests"
    paths = [course.tests_dir(name, hidden=h) for h in (False, True) if (h and hidden) or (not h and public)]
    args: list[Any] = [str(p) for p in paths if p.is_dir()]
    args += ["-q", "-p", "no:cacheprovider", "--import-mode=importlib", f"--rootdir={root}", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if select:
        args += ["-k", select]
    code = pytest.main(args, plugins=[_Host(session, questions)])
    if code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise TestsBroken(f"pytest could not run the tests of {name} (exit code {int(code)})")
    return TestRun(tuple(session.outcomes), int(code))


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

    def close(self, student_id: str, provider: Provider, outcomes: list[Outcome]) -> None:
        provider.close()
        self.outcomes[student_id] = outcomes


def run_inprocess_batch(course: CourseDir, assignment: Assignment, folders: dict[str, Path], *,
                        public: bool = True, questions: frozenset[str] | None = None) -> dict[str, list[Outcome]]:
    """All tests of all submissions in one process and one pytest session: the in-process limit."""
    batch = DirectBatch(folders, assignment.spec.modules)
    reference = reference_provider(course, assignment)
    try:
        with _silenced():
            run_tests(course, assignment, None, student_id="", reference=reference, batch=batch, public=public,
                      questions=questions)
    finally:
        reference.close()
    return batch.outcomes
