"""`grade()`: grade every submission in a folder, isolated, in parallel, resumable; return results.

The stages, top to bottom: `submissions` finds the submissions (and `choose_assignment` the
assignment); this process, the warm parent, imports torch (no op) while the sandbox's zygote
starts, then imports the reference solutions, collects the tests and freezes its heap once
(`pool.ready_to_fork`); `pool` forks one runner process per batch; each runner stages its
students (`submissions.stage`), gets a sandboxed worker per student, runs the public and hidden
tests in one pytest session (`runner`), and writes each student's JSON atomically (`store`).
Failures are data: a bad submission becomes an error result with a reason; only a
problem with the grader itself (its tests, its sandbox) is reported as such. `grade()` knows no
export format: the CLI and the Gradescope bundle make their files from the returned results.
With `ray` set, the runners live on a Ray cluster's nodes instead (`cluster`), and this process
writes each result as it streams back; resume and the returned report are the same.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..config import Assignment
from ..course import CourseDir
from ..errors import GradingError, ResultsError
from ..results import Result
from ..sandbox.host import IsolationUnavailable, Sandbox
from ..store import read_finished, read_result
from .pool import ready_to_fork, run_all
from .submissions import Submission, discover, file_names
from .warm import warm_up_while


@dataclass(frozen=True)
class GradeOptions:
    out: Path = Path("grades")
    assignment: str | None = None
    jobs: int = 0  # 0: one per core
    regrade: bool = False
    unsafe: bool = False
    one_submission: bool = False  # refuse a folder with several (Gradescope's results.json holds one student)
    batch_size: int = 0  # students per runner (one pytest session); 0: chosen from the count and jobs
    ray: str | None = None  # a Ray cluster's address: grade there (grading/cluster.py); jobs are per node


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
    warnings: list[str] = field(default_factory=list)  # files in --out that could not be read, and the like
    tests_broken: str = ""  # why, when the assignment's own tests could not run (exit code 3)
    rerun: list[str] = field(default_factory=list)  # --ray: students re-run after their node was lost


def choose_assignment(course: CourseDir, subs: list[Submission], name: str | None) -> Assignment:
    """The named assignment, or the only one whose file names the submissions use."""
    if name:
        return course.assignment(name)
    names: set[str] = set()
    for sub in subs:
        names |= {n.lower() for n in file_names(sub)}  # bounded, never raises: not trusted yet
    # notebooks match by `<assignment>.ipynb` (the released notebook's name, as nbgrader keeps it)
    matches = [a for a in course.assignments() if names & {f.lower() for f in (*a.spec.files, f"{a.name}.ipynb")}]
    if len(matches) == 1:
        return matches[0]
    candidates = ", ".join(a.name for a in matches) or "none"
    raise GradingError(f"cannot tell which assignment these submissions are for (matching: {candidates}); pass "
                       "--assignment NAME (always needed for a folder of <student>.ipynb notebooks)")


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
    named = course.assignment(options.assignment) if options.assignment else None  # a bad name first
    if not subs:
        skipped = f" (skipped, not submissions: {', '.join(found.skipped[:5])})" if found.skipped else ""
        raise GradingError(f"no submissions found in {submissions_dir}{skipped}: it should hold one <student>/ "
                           "folder or <student>.zip per student")
    if options.one_submission and len(subs) > 1:
        names = ", ".join(s.student for s in subs[:3]) + (", ..." if len(subs) > 3 else "")
        raise GradingError(f"--gradescope-results writes one student's results.json, but {submissions_dir} holds "
                           f"{len(subs)} submissions ({names}); pass one student's folder, or grade the class "
                           "without --gradescope-results")
    assignment = named or choose_assignment(course, subs, None)
    out = Path(options.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradingError(f"cannot create the output folder {out}: {exc.strerror}") from None
    if options.ray:  # hook: the same run on a Ray cluster; the head writes every result (grading/cluster.py)
        from .cluster import RayCluster

        with RayCluster.connect(options.ray, course, assignment, jobs=options.jobs, unsafe=options.unsafe,
                                batch_size=options.batch_size) as cluster:
            report = GradeReport(assignment, out, cluster.protections, cluster.describe(), skipped=found.skipped)
            todo = _resume(report, subs, options)
            if on_start:
                on_start(report, len(todo))
            why_broken: list[str] = []
            _collect(report, cluster.run(todo, out, report.grader_errors, why_broken, report.rerun), on_result)
            report.tests_broken = "; ".join(dict.fromkeys(why_broken))
        report.results.sort(key=lambda r: r.student)
        report.warnings += unreadable_files(out, {s.student for s in subs})
        return report
    with tempfile.TemporaryDirectory(prefix="autograder-") as work:
        os.chmod(work, 0o711)
        try:  # the zygote starts (a fresh interpreter importing torch) while this process warms up
            sandbox = warm_up_while(lambda: Sandbox.start(work_dir=Path(work) / "sandbox", unsafe=options.unsafe))
        except IsolationUnavailable as exc:
            raise GradingError(str(exc)) from None
        try:
            report = GradeReport(assignment, out, tuple(sandbox.protections), sandbox.describe(),
                                 skipped=found.skipped)
            todo = _resume(report, subs, options)
            if on_start:
                on_start(report, len(todo))
            broken: list[str] = []
            with ready_to_fork(course, assignment) as reference:  # what every runner inherits
                _collect(report, run_all(course, assignment, sandbox, reference, todo, Path(work), out, options.jobs,
                                         report.protections, report.grader_errors, broken, options.batch_size),
                         on_result)
            report.tests_broken = "; ".join(dict.fromkeys(broken))
        finally:
            sandbox.close()
    report.results.sort(key=lambda r: r.student)
    report.warnings += unreadable_files(out, {s.student for s in subs})
    return report


def _resume(report: GradeReport, subs: list[Submission], options: GradeOptions) -> list[Submission]:
    """Keep the finished results of an earlier run (unless --regrade); return the students still to grade."""
    todo = []
    for sub in subs:
        earlier = None if options.regrade else _resumable(report.out / f"{sub.student}.json", report.assignment.name,
                                                          report.warnings)
        if earlier is not None:
            report.results.append(earlier)
            report.resumed.append(sub.student)
        else:
            todo.append(sub)
    return todo


def _collect(report: GradeReport, results: Iterable[Result], on_result: Callable[[Result], None] | None) -> None:
    for result in results:
        report.results.append(result)
        report.graded.append(result.student)
        if on_result:
            on_result(result)


def _resumable(path: Path, assignment: str, warnings: list[str]) -> Result | None:
    """An earlier finished result to keep; a damaged one is named in `warnings` and graded again."""
    if not path.exists():
        return None
    try:
        read_result(path)
    except ResultsError as exc:
        warnings.append(f"could not read {path} ({exc}); graded {path.stem} again")
        return None
    return read_finished(path, assignment)  # the one rule for what is final (not an internal error)


def unreadable_files(out: Path, students: set[str]) -> list[str]:
    """Other `*.json` in --out that the after-grading commands would refuse; named, never fatal."""
    warnings = []
    for path in sorted(out.glob("*.json")):
        if path.stem in students or path.name.startswith(".") or not path.is_file():
            continue
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            warnings.append(f"could not read {path} ({type(exc).__name__}); it is not a result of this run: "
                            "remove it before `autograder report`/`export`, which read every *.json in the folder")
    return warnings
