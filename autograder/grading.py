"""`autograder grade`: grade every submission in a folder, isolated, in parallel, resumable.

The grader process is the warm parent: it imports torch (no op) and the reference solutions once,
then forks one runner per submission. A runner stages the submission, gets a sandboxed worker for
the student's code, runs the public and hidden tests in-process with pytest, and writes that
student's JSON atomically. Failures are data: a bad submission becomes an error result with a
reason; only a problem with the grader itself (its tests, its sandbox) is reported as such.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from . import serialize
from .config import Assignment
from .exporters import grades_csv
from .layout import CourseDir
from .model import Result
from .results import build_result, error_result
from .runner import TestsBroken, reference_provider, run_tests
from .submissions import Submission, SubmissionError, discover, stage
from .warm import warm_up

RUNNER_DEADLINE = 600.0  # seconds for all tests of one student, on top of per-call limits


class GradingError(RuntimeError):
    """The grader itself cannot run (bad options, no assignment, broken tests, no isolation)."""


@dataclass(frozen=True)
class GradeOptions:
    out: Path = Path("grades")
    assignment: str | None = None
    jobs: int = 0  # 0: one per core
    regrade: bool = False
    unsafe: bool = False
    gradescope_results: Path | None = None


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


def choose_assignment(course: CourseDir, subs: list[Submission], name: str | None) -> Assignment:
    """The named assignment, or the only one whose file names the submissions use."""
    if name:
        return course.assignment(name)
    names = set()
    for sub in subs:
        if sub.path.is_dir():
            names |= {p.name for p in sub.path.rglob("*.py")}
        elif sub.path.suffix.lower() == ".zip":
            import zipfile

            try:
                with zipfile.ZipFile(sub.path) as z:
                    names |= {Path(n).name for n in z.namelist()}
            except (zipfile.BadZipFile, OSError):
                continue
    matches = [a for a in course.assignments() if names & set(a.spec.files)]
    if len(matches) == 1:
        return matches[0]
    candidates = ", ".join(a.name for a in matches) or "none"
    raise GradingError(f"cannot tell which assignment these submissions are for (matching: {candidates}); pass --assignment NAME")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _done(path: Path, assignment: str) -> Result | None:
    """A finished result from an earlier run, or None (missing, unreadable, other assignment)."""
    try:
        result = serialize.read_result(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return result if result.assignment == assignment else None


def grade(
    course: CourseDir,
    submissions_dir: Path,
    options: GradeOptions,
    *,
    on_start: Callable[[GradeReport, int], None] | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> GradeReport:
    """Grade every submission; see the module docstring. Raises GradingError if the grader cannot run."""
    from .sandbox import IsolationUnavailable, Sandbox

    try:
        subs = discover(submissions_dir)
    except FileNotFoundError as exc:
        raise GradingError(str(exc)) from None
    assignment = choose_assignment(course, subs, options.assignment)
    out = Path(options.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradingError(f"cannot create the output folder {out}: {exc.strerror}") from None
    warm_up()
    with tempfile.TemporaryDirectory(prefix="autograder-") as work:
        os.chmod(work, 0o711)
        try:
            sandbox = Sandbox.start(work_dir=Path(work) / "sandbox", unsafe=options.unsafe)
        except IsolationUnavailable as exc:
            raise GradingError(str(exc)) from None
        try:
            report = GradeReport(assignment, out, tuple(sandbox.protections), sandbox.describe())
            todo = []
            for sub in subs:
                earlier = None if options.regrade else _done(out / f"{sub.student}.json", assignment.name)
                if earlier is not None:
                    report.results.append(earlier)
                    report.resumed.append(sub.student)
                else:
                    todo.append(sub)
            if on_start:
                on_start(report, len(todo))
            reference = reference_provider(course, assignment)
            for result in _run_all(course, assignment, sandbox, reference, todo, Path(work), out, options, report):
                report.results.append(result)
                report.graded.append(result.student)
                if on_result:
                    on_result(result)
        finally:
            sandbox.close()
    report.results.sort(key=lambda r: r.student)
    grades_csv.write(out / "grades.csv", assignment.spec, report.results)
    if options.gradescope_results is not None and report.results:
        from .lms.gradescope import to_gradescope

        serialize.write_json_atomic(
            options.gradescope_results,
            to_gradescope(serialize.to_dict(report.results[0]), assignment.spec.questions),
        )
    return report


def _run_all(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
             todo: list[Submission], work: Path, out: Path, options: GradeOptions,
             report: GradeReport) -> Iterator[Result]:
    jobs = options.jobs or os.cpu_count() or 1
    running: dict[int, tuple[Submission, float]] = {}
    queue = list(todo)
    while queue or running:
        while queue and len(running) < jobs:
            sub = queue.pop(0)
            pid = os.fork()
            if pid == 0:  # runner
                code = 1
                try:
                    code = _runner(course, assignment, sandbox, reference, sub, work, out, report.protections)
                finally:
                    os._exit(code)
            running[pid] = (sub, time.monotonic())
        pid, status = _wait(running)
        if pid == 0:
            continue
        sub, _ = running.pop(pid)
        path = out / f"{sub.student}.json"
        result = _done(path, assignment.name) if os.waitstatus_to_exitcode(status) == 0 else None
        if result is None:
            why = _describe_status(status)
            report.grader_errors.append(f"{sub.student}: the grader's runner failed ({why})")
            result = error_result(assignment.spec, sub.student, f"internal grader error ({why}); "
                                  "this is not the student's fault: report it and regrade",
                                  cause="test_error", protections=report.protections, graded_at=_now())
            serialize.write_result(path, result)
        yield result


def _wait(running: dict[int, tuple[Submission, float]]) -> tuple[int, int]:
    """Wait for a runner; kill runners past the deadline (their result becomes a grader error)."""
    deadline = min(start for _, start in running.values()) + RUNNER_DEADLINE
    while True:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid in running:
            return pid, status
        if pid != 0:
            continue  # not ours (should not happen)
        if time.monotonic() > deadline:
            for rpid, (_, start) in running.items():
                if time.monotonic() > start + RUNNER_DEADLINE:
                    os.kill(rpid, signal.SIGKILL)
        time.sleep(0.002)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _runner(course: CourseDir, assignment: Assignment, sandbox: object, reference: object, sub: Submission,
            work: Path, out: Path, protections: tuple[str, ...]) -> int:
    """In the forked runner: grade one student and write their JSON. Returns the exit code."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grader
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    started = time.perf_counter()
    path = out / f"{sub.student}.json"
    spec = assignment.spec
    try:
        staged = stage(sub, spec.files, work / "students" / sub.student)
    except SubmissionError as exc:
        serialize.write_result(path, error_result(spec, sub.student, str(exc), protections=protections, graded_at=_now()))
        return 0
    provider = sandbox.provider(staged.folder, student_id=sub.student)  # type: ignore[attr-defined]
    try:
        run = run_tests(course, assignment, provider, student_id=sub.student, reference=reference)  # type: ignore[arg-type]
        output = provider.output()
    except TestsBroken:
        return 3
    finally:
        provider.close()
    result = build_result(spec, sub.student, run.outcomes, protections=protections, output=output,
                          sha256=staged.sha256, graded_at=_now(), duration_s=time.perf_counter() - started)
    serialize.write_result(path, result)
    return 0
