"""Run an assignment's tests in this process: one pytest session, one submission or a batch.

The pool calls this in a forked runner process with a batch of sandboxed providers; the in-process
mode (project tests, the benchmark) calls it with direct providers. Outcomes come back through the
kit's `pytest_gradekit_student_done` hook (a batch) or the session in the config's stash (one student);
the kit never calls into the grader.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from gradekit.direct import DirectProvider
from gradekit.plugin import SESSION, Batch, Provider, Session
from gradekit.scoring import Outcome

from ..config import Assignment
from ..course import CourseDir
from ..errors import TestsBroken

OnStudent = Callable[[str, list[Outcome]], None]


@dataclass(frozen=True)
class TestRun:
    outcomes: tuple[Outcome, ...]
    exit_code: int


class _Host:
    """Hands the prepared session to gradekit's plugin, and hears each batch student's outcomes."""

    def __init__(self, session: Session, on_student: OnStudent | None,
                 questions: frozenset[str] | None = None) -> None:
        self.session = session
        self.on_student = on_student
        self.broken = ""  # why the tests cannot be collected (raised as TestsBroken after the session)
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
        # Recorded, not raised: raised in a hook it would become pytest's internal error, message lost.
        # pytest itself runs no test when collection failed.
        if report.failed and not self.broken:
            self.broken = f"cannot collect {report.nodeid}: {str(report.longrepr)[-2000:]}"

    @pytest.hookimpl
    def pytest_gradekit_student_done(self, student_id: str, outcomes: list[Outcome]) -> None:
        if self.on_student is not None:
            self.on_student(student_id, outcomes)


def reference_provider(course: CourseDir, assignment: Assignment) -> DirectProvider:
    return DirectProvider(course.solutions_dir(assignment.name), assignment.spec.modules, prefix="gradekit_reference_")


def _forget_foreign_tests(root: Path) -> None:
    """Forget test modules of another folder that hold the names this folder's tests will get.

    With `--import-mode=importlib` pytest names a test module by its path under the rootdir
    (`public.test_hw`) and reuses a module of that name from sys.modules; a process that ran the
    tests of another course (or a copy of this one) must not be handed that course's tests.
    """
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if len(parts) >= 2 and parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(part.replace(".", "_") for part in parts)
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if where is not None and os.path.realpath(where) != os.path.realpath(path):
            del sys.modules[name]


def _pytest_args(course: CourseDir, name: str, *, hidden: bool, public: bool) -> list[str]:
    root = course.assignments_dir / name / "tests"
    paths = [course.tests_dir(name, hidden=h) for h in (False, True) if (h and hidden) or (not h and public)]
    args = [str(p) for p in paths if p.is_dir()]
    # no logging plugin: it walks every logger (torch has hundreds) on each test phase; nothing reads its capture
    return args + ["-q", "-p", "no:cacheprovider", "-p", "no:logging", "--import-mode=importlib", f"--rootdir={root}",
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]


@contextlib.contextmanager
def preloaded_tests(course: CourseDir, assignment: Assignment) -> Iterator[None]:
    """Collect the assignment's tests once, here, printing nothing: for runners forked in the block.

    Each runner's pytest session then finds the test modules and conftests (assertion-rewritten
    here, under the same names: `--import-mode=importlib` keeps them in sys.modules) and the
    installed pytest plugins already imported, instead of parsing, rewriting, compiling and
    importing them again per batch. What the collection added to sys.modules is removed after the
    block (another course's tests may have the same module names), and at once if the collection
    failed: pytest leaves a module whose import failed in sys.modules half made, and each runner
    must import it again to report why it cannot be collected.
    """
    session = Session(spec=assignment.spec, student=None, reference=None, student_id="", summary=False)
    host = _Host(session, None)
    _forget_foreign_tests(course.assignments_dir / assignment.name / "tests")
    before = dict(sys.modules)
    code: int | pytest.ExitCode = pytest.ExitCode.INTERNAL_ERROR
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = pytest.main([*_pytest_args(course, assignment.name, hidden=True, public=True), "--collect-only"],
                               plugins=[host])
        except Exception:  # noqa: BLE001 - only a warm-up: the runners' sessions run and report the same
            pass
    try:
        if host.broken or code != pytest.ExitCode.OK:
            _forget_modules(before)
        yield
    finally:
        _forget_modules(before)


def _forget_modules(keep: dict[str, Any]) -> None:
    """Forget every module imported (or imported again under its name) since `keep` was taken."""
    for name, module in list(sys.modules.items()):
        if keep.get(name) is not module:
            del sys.modules[name]


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
    on_student: OnStudent | None = None,
    questions: frozenset[str] | None = None,
) -> TestRun:
    """Run the public and/or hidden tests against `student` (or every student of `batch`).

    With a batch, `on_student(student_id, outcomes)` is called as each student finishes.
    `questions` limits the run to those questions' tests (the mutant bank runs only what a bug touches).
    """
    name = assignment.name
    session = Session(spec=assignment.spec, student=student, reference=reference, student_id=student_id,
                      summary=False, batch=batch)
    _forget_foreign_tests(course.assignments_dir / name / "tests")
    args = _pytest_args(course, name, hidden=hidden, public=public)
    if select:
        args += ["-k", select]
    host = _Host(session, on_student, questions)
    code = pytest.main(args, plugins=[host])
    if host.broken:
        raise TestsBroken(host.broken)
    if code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise TestsBroken(f"pytest could not run the tests of {name} (exit code {int(code)})")
    return TestRun(tuple(session.outcomes), int(code))
