"""`grade()`: grade every submission in a folder, isolated, in parallel, resumable; return results.

The stages, top to bottom: `submissions` finds the submissions (and `choose_assignment` the
assignment); this process, the warm parent, imports torch (no op) while the sandbox's zygote
starts, imports the reference solutions once and freezes its heap; `pool` forks one runner process per batch; each runner
stages its students (`submissions.stage`), gets a sandboxed worker per student, runs the public
and hidden tests in one pytest session (`runner`), and writes each student's JSON atomically
(`store`). Failures are data: a bad submission becomes an error result with a reason; only a
problem with the grader itself (its tests, its sandbox) is reported as such. `grade()` knows no
export format: the CLI and the Gradescope bundle make their files from the returned results.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import Assignment
from ..course import CourseDir
from ..errors import GradingError
from ..results import Result
from ..sandbox.host import IsolationUnavailable, Sandbox
from ..store import read_finished
from .pool import run_all
from .runner import reference_provider
from .submissions import Submission, discover, file_names
from .warm import frozen_heap, warm_up_while


@dataclass(frozen=True)
class GradeOptions:
    out: Path = Path("grades")
    assignment: str | None = None
    jobs: int = 0  # 0: one per core
    regrade: bool = False
    unsafe: bool = False
    batch_size: int = 0  # students per runner (one pytest session); 0: chosen from the count and jobs


@dataclass
class GradeReport:
    assignment: Assignment
    out: Path
    protections: tuple[str, ...]
    isolation: str
    results: list[Result] = field(default_factory=list)  # every student, this run and resumed
    graded: list[str] = field(default_factory=list)  # graded in this run
    resumed: list[str] = field(default_factory=list)
    grader_errors: list[str] = field(default_factory=list)
    skipped: tuple[str, ...] = ()  # entries of SUBMISSIONS that are not submissions (README.md, notes.txt)


def choose_assignment(course: CourseDir, subs: list[Submission], name: str | None) -> Assignment:
    """The named assignment, or the only one whose file names the submissions use."""
    if name:
        return course.assignment(name)
    names: set[str] = set()
    for sub in subs:
        names |= {n.lower() for n in file_names(sub)}  # bounded, never raises: not trusted yet
    matches = [a for a in course.assignments() if names & {f.lower() for f in a.spec.files}]
    if len(matches) == 1:
        return matches[0]
    candidates = ", ".join(a.name for a in matches) or "none"
    raise GradingError(f"cannot tell which assignment these submissions are for (matching: {candidates}); pass --assignment NAME")


def grade(
    course: CourseDir,
    submissions_dir: Path,
    options: GradeOptions,
    *,
    on_start: Callable[[GradeReport, int], None] | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> GradeReport:
    """Grade every submission and return the results; see the module docstring.

    Writes only `<out>/<student>.json` (the resumable record); every other output (grades.csv, the
    gradebook, Gradescope's results.json) is made from the returned results by `exports`.
    Raises GradingError if the grader cannot run.
    """
    try:
        found = discover(submissions_dir)
    except FileNotFoundError as exc:
        raise GradingError(str(exc)) from None
    subs = list(found.submissions)
    assignment = choose_assignment(course, subs, options.assignment)
    out = Path(options.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradingError(f"cannot create the output folder {out}: {exc.strerror}") from None
    with tempfile.TemporaryDirectory(prefix="autograder-") as work:
        os.chmod(work, 0o711)
        try:  # the zygote starts (a fresh interpreter importing torch) while this process warms up
            sandbox = warm_up_while(lambda: Sandbox.start(work_dir=Path(work) / "sandbox", unsafe=options.unsafe))
        except IsolationUnavailable as exc:
            raise GradingError(str(exc)) from None
        try:
            report = GradeReport(assignment, out, tuple(sandbox.protections), sandbox.describe(),
                                 skipped=found.skipped)
            todo = []
            for sub in subs:
                earlier = None if options.regrade else read_finished(out / f"{sub.student}.json", assignment.name)
                if earlier is not None:
                    report.results.append(earlier)
                    report.resumed.append(sub.student)
                else:
                    todo.append(sub)
            if on_start:
                on_start(report, len(todo))
            reference = reference_provider(course, assignment)
            for module in assignment.spec.modules:  # import once here; runners inherit them
                reference.module(module)
            with frozen_heap():  # runners inherit a frozen heap: their collections skip it
                for result in run_all(course, assignment, sandbox, reference, todo, Path(work), out, options.jobs,
                                      report.protections, report.grader_errors, options.batch_size):
                    report.results.append(result)
                    report.graded.append(result.student)
                    if on_result:
                        on_result(result)
        finally:
            sandbox.close()
    report.results.sort(key=lambda r: r.student)
    return report
