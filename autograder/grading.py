"""`autograder grade`: grade every submission in a folder, isolated, in parallel, resumable.

The grader process is the warm parent: it imports torch (no op) and the reference solutions once,
then forks one runner per submission. A runner stages the submission, gets a sandboxed worker for
the student's code, runs the public and hidden tests in-process with pytest, and writes that
student's JSON atomically. Failures are data: a bad submission becomes an error result with a
reason; only a problem with the grader itself (its tests, its sandbox) is reported as such.

One student never costs another: staging, filing and writing are guarded per student; a runner
runs under a memory limit and a deadline, and the students a dead runner left are graded again
alone. An internal error is never final: the next run grades that student again.
"""

from __future__ import annotations

import os
import resource
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
from .sandbox.limits import vm_size
from .submissions import Staged, Submission, SubmissionError, discover, file_names, stage
from .warm import warm_up

RUNNER_DEADLINE = 600.0  # seconds a runner may go without finishing a student
RUNNER_MEMORY = 1 << 30  # address space a runner may add to the grader's at fork (see docs/architecture.md)
MAX_BATCH = 25


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
    gradebook_run: int | None = None  # the run's id in <out>/gradebook.sqlite


def choose_assignment(course: CourseDir, subs: list[Submission], name: str | None) -> Assignment:
    """The named assignment, or the only one whose file names the submissions use."""
    if name:
        return course.assignment(name)
    names: set[str] = set()
    for sub in subs:
        names |= file_names(sub)
    matches = [a for a in course.assignments() if names & set(a.spec.files)]
    if len(matches) == 1:
        return matches[0]
    candidates = ", ".join(a.name for a in matches) or "none"
    raise GradingError(f"cannot tell which assignment these submissions are for (matching: {candidates}); pass --assignment NAME")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _done(path: Path, assignment: str) -> Result | None:
    """A finished result from an earlier run, or None (missing, unreadable, other assignment, or an
    internal error: those are never final, so a plain re-run grades those students again)."""
    try:
        result = serialize.read_result(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return result if result.assignment == assignment and not result.internal_error else None


def _written(path: Path, assignment: str) -> Result | None:
    """The result a runner has just written (an internal error too), or None."""
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
    warm_up()
    with tempfile.TemporaryDirectory(prefix="autograder-") as work:
        os.chmod(work, 0o711)
        try:
            sandbox = Sandbox.start(work_dir=Path(work) / "sandbox", unsafe=options.unsafe)
        except IsolationUnavailable as exc:
            raise GradingError(str(exc)) from None
        try:
            report = GradeReport(assignment, out, tuple(sandbox.protections), sandbox.describe(),
                                 skipped=found.skipped)
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
            for module in assignment.spec.modules:  # import once here; runners inherit them
                reference.module(module)
            for result in _run_all(course, assignment, sandbox, reference, todo, Path(work), out, options, report):
                report.results.append(result)
                report.graded.append(result.student)
                if result.internal_error:  # the grader failed for this student: the run exits 1
                    report.grader_errors.append(f"{result.student}: {result.error}")
                if on_result:
                    on_result(result)
        finally:
            sandbox.close()
    report.results.sort(key=lambda r: r.student)
    grades_csv.write(out / "grades.csv", assignment.spec, report.results)
    from .lms.gradebook import record_run

    report.gradebook_run = record_run(out, assignment=assignment.name)  # every run, so regrades can be diffed
    if options.gradescope_results is not None and report.results:
        from .lms.gradescope import to_gradescope

        serialize.write_json_atomic(
            options.gradescope_results,
            to_gradescope(serialize.to_dict(report.results[0]), assignment.spec.questions),
        )
    return report


def _batches(todo: list[Submission], jobs: int, size: int = 0) -> list[list[Submission]]:
    """Batches small enough to balance the cores, large enough to share a pytest session."""
    size = size or max(1, min(MAX_BATCH, -(-len(todo) // (jobs * 4))))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _run_all(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
             todo: list[Submission], work: Path, out: Path, options: GradeOptions,
             report: GradeReport) -> Iterator[Result]:
    """Fork up to `jobs` runners, each grading a batch; yield each student's result as it lands.

    When a runner dies before reporting every student of its batch (killed at the deadline, or by a
    failure at its memory limit), each student it left is graded again alone in a fresh runner: a
    runaway costs its classmates one retry, and only the runaway itself gets the internal error.
    """
    jobs = options.jobs or os.cpu_count() or 1
    queue = _batches(todo, jobs, options.batch_size)
    running: dict[int, _Running] = {}
    while queue or running:
        while queue and len(running) < jobs:
            batch = queue.pop(0)
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # runner
                code = 1
                try:
                    os.close(read_end)
                    code = _runner(course, assignment, sandbox, reference, batch, work, out, report.protections, write_end)
                finally:
                    os._exit(code)
            os.close(write_end)
            os.set_blocking(read_end, False)
            running[pid] = _Running(batch, read_end)
        for pid, run in list(running.items()):
            yield from run.collect(out, assignment.name)
            waited, status = os.waitpid(pid, os.WNOHANG)
            if waited == 0:
                if time.monotonic() - run.last_progress > RUNNER_DEADLINE:
                    os.kill(pid, signal.SIGKILL)
                    run.why = f"no student finished within {RUNNER_DEADLINE:g} s"
                continue
            yield from run.collect(out, assignment.name)  # lines written just before exiting
            os.close(run.fd)
            del running[pid]
            left = [sub for sub in run.batch if sub.student not in run.reported]
            broken = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3  # TestsBroken: a retry fails the same
            if len(left) > 1 and not broken:  # the runaway is one of them: each is graded again alone
                queue.extend([sub] for sub in left)
                continue
            for sub in left:
                why = run.why or _describe_status(status)
                result = error_result(assignment.spec, sub.student, f"internal grader error: the runner failed ({why}); "
                                      "this is not the student's fault: report it; the next run grades it again",
                                      cause="test_error", protections=report.protections, graded_at=_now())
                serialize.write_result(out / f"{sub.student}.json", result)
                yield result
        time.sleep(0.005)


class _Running:
    """A runner process as the parent sees it: its batch and the students it reported done."""

    def __init__(self, batch: list[Submission], fd: int) -> None:
        self.batch = batch
        self.fd = fd
        self.why = ""  # why the parent killed it
        self.reported: set[str] = set()
        self.buffer = b""
        self.last_progress = time.monotonic()

    def poll(self) -> list[str]:
        try:
            while chunk := os.read(self.fd, 65536):
                self.buffer += chunk
        except BlockingIOError:
            pass
        *lines, self.buffer = self.buffer.split(b"\n")
        if lines:
            self.last_progress = time.monotonic()
        return [line.decode() for line in lines if line]

    def collect(self, out: Path, assignment: str) -> Iterator[Result]:
        """The results of the students this runner has reported done since the last call."""
        for student in self.poll():
            result = _written(out / f"{student}.json", assignment)
            if result is not None:
                self.reported.add(student)
                yield result


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _SandboxBatch:
    """The runner's batch: a sandboxed worker per student, a JSON file and a pipe line when done."""

    def __init__(self, assignment: Assignment, sandbox: object, staged: dict[str, Staged], out: Path,
                 protections: tuple[str, ...], notify: int) -> None:
        self.spec = assignment.spec
        self.sandbox = sandbox
        self.staged = staged
        self.out = out
        self.protections = protections
        self.notify = notify
        self.student_ids = list(staged)
        self.started: dict[str, float] = {}

    def open(self, student_id: str) -> object:
        self.started[student_id] = time.perf_counter()
        return self.sandbox.provider(self.staged[student_id].folder, student_id=student_id)  # type: ignore[attr-defined]

    def close(self, student_id: str, provider: object, outcomes: list) -> None:
        """File this student's result. Never raises for the student: a failure here would land in
        the next student's first test (this runs as that test's fixture setup)."""
        try:
            provider.close()  # type: ignore[attr-defined]  # kill first: a flood cannot hold the drain
            output = provider.output()  # type: ignore[attr-defined]
            staged = self.staged[student_id]
            result = build_result(self.spec, student_id, outcomes, protections=self.protections, output=output,
                                  sha256=staged.sha256, graded_at=_now(), warnings=staged.warnings,
                                  duration_s=time.perf_counter() - self.started[student_id])
        except Exception as exc:  # noqa: BLE001 - the per-student boundary
            result = _internal_error(self.spec, student_id, f"while filing the result ({type(exc).__name__})",
                                     self.protections)
        if result.max_score != self.spec.max_score:
            raise TestsBroken(f"{student_id}: tests ran for {result.max_score} of {self.spec.max_score} points")
        _file(self.out, self.spec, result, self.protections, self.notify)


def _internal_error(spec: object, student: str, where: str, protections: tuple[str, ...]) -> Result:
    return error_result(spec, student, f"internal grader error {where}; this is not the student's fault: "  # type: ignore[arg-type]
                        "report it; the next run grades it again", cause="test_error", protections=protections,
                        graded_at=_now())


def _file(out: Path, spec: object, result: Result, protections: tuple[str, ...], notify: int) -> None:
    """Write the result and tell the parent; if even that fails, the parent files an internal error."""
    path = out / f"{result.student}.json"
    try:
        serialize.write_result(path, result)
    except Exception as exc:  # noqa: BLE001 - e.g. a value JSON cannot hold
        try:
            serialize.write_result(path, _internal_error(spec, result.student,
                                                         f"while writing the result ({type(exc).__name__})", protections))
        except Exception:  # noqa: BLE001 - the disk itself: say nothing, the parent reports it
            return
    _tell(notify, result.student)


def _tell(fd: int, student: str) -> None:
    os.write(fd, student.encode() + b"\n")


def _runner(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
            batch: list[Submission], work: Path, out: Path, protections: tuple[str, ...], notify: int) -> int:
    """In a forked runner: grade a batch of students, writing each one's JSON. Returns the exit code."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grader
    limit = vm_size() + RUNNER_MEMORY  # a runaway fails an allocation here, not the machine or the grader
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import torch

    torch.set_num_threads(1)  # runners share the cores with each other and the workers
    spec = assignment.spec
    staged: dict[str, Staged] = {}
    for sub in batch:
        try:
            staged[sub.student] = stage(sub, spec.files, work / "students" / str(os.getpid()) / sub.student)
        except SubmissionError as exc:
            _file(out, spec, error_result(spec, sub.student, str(exc), protections=protections, graded_at=_now()),
                  protections, notify)
        except Exception as exc:  # noqa: BLE001 - stage raises only SubmissionError; if not, still only this student
            _file(out, spec, _internal_error(spec, sub.student, f"while staging ({type(exc).__name__})", protections),
                  protections, notify)
    if not staged:
        return 0
    runner_batch = _SandboxBatch(assignment, sandbox, staged, out, protections, notify)
    try:
        run_tests(course, assignment, None, student_id="", reference=reference, batch=runner_batch)  # type: ignore[arg-type]
    except TestsBroken:
        return 3
    return 0
