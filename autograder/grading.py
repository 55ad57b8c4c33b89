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
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from . import serialize
from .config import Assignment
from .exporters import grades_csv
from .layout import CourseDir
from .model import Result
from .notebook import handin as notebook_handin
from .notebook.notes import hand_in_notes
from .notebook.questions import layout as notebook_layout
from .results import build_result, error_result
from .runner import TestsBroken, reference_provider, run_tests
from .submissions import Staged, Submission, SubmissionError, discover, stage
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
    gradebook_run: int | None = None  # the run's id in <out>/gradebook.sqlite


def choose_assignment(course: CourseDir, subs: list[Submission], name: str | None) -> Assignment:
    """The named assignment, or the only one whose file names the submissions use."""
    if name:
        return course.assignment(name)
    names = set()
    for sub in subs:
        if sub.path.is_dir():
            names |= {p.name for p in sub.path.rglob("*.py")}
            names |= {p.name for p in sub.path.rglob("*") if p.suffix == ".ipynb" or p.is_dir()}  # notebooks
        elif sub.path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(sub.path) as z:
                    names |= {Path(n).name for n in z.namelist()}
            except (zipfile.BadZipFile, OSError):
                continue
    # notebooks match by `<assignment>.ipynb` or nbgrader's `<student>/<assignment>/` folder
    matches = [a for a in course.assignments() if names & {*a.spec.files, a.name, f"{a.name}.ipynb"}]
    if len(matches) == 1:
        return matches[0]
    candidates = ", ".join(a.name for a in matches) or "none"
    raise GradingError(f"cannot tell which assignment these submissions are for (matching: {candidates}); pass "
                       "--assignment NAME (always needed for a folder of <student>.ipynb notebooks)")


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
            for module in assignment.spec.modules:  # import once here; runners inherit them
                reference.module(module)
            for result in _run_all(course, assignment, sandbox, reference, todo, Path(work), out, options, report):
                report.results.append(result)
                report.graded.append(result.student)
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


def _batches(todo: list[Submission], jobs: int) -> list[list[Submission]]:
    """Batches small enough to balance the cores, large enough to share a pytest session."""
    size = max(1, min(25, -(-len(todo) // (jobs * 4))))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _run_all(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
             todo: list[Submission], work: Path, out: Path, options: GradeOptions,
             report: GradeReport) -> Iterator[Result]:
    """Fork up to `jobs` runners, each grading a batch; yield each student's result as it lands."""
    jobs = options.jobs or os.cpu_count() or 1
    queue = _batches(todo, jobs)
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
                continue
            yield from run.collect(out, assignment.name)  # lines written just before exiting
            os.close(run.fd)
            del running[pid]
            for sub in run.batch:
                if sub.student in run.reported:
                    continue
                why = _describe_status(status)
                report.grader_errors.append(f"{sub.student}: the grader's runner failed ({why})")
                result = error_result(assignment.spec, sub.student, f"internal grader error ({why}); "
                                      "this is not the student's fault: report it and regrade",
                                      cause="test_error", protections=report.protections, graded_at=_now())
                serialize.write_result(out / f"{sub.student}.json", result)
                yield result
        time.sleep(0.005)


class _Running:
    """A runner process as the parent sees it: its batch and the students it reported done."""

    def __init__(self, batch: list[Submission], fd: int) -> None:
        self.batch = batch
        self.fd = fd
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
            result = _done(out / f"{student}.json", assignment)
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
                 protections: tuple[str, ...], notify: int, notes: dict[str, tuple[str, ...]] | None = None) -> None:
        self.spec = assignment.spec
        self.notes = notes or {}
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
        try:
            output = provider.output()  # type: ignore[attr-defined]
        finally:
            provider.close()  # type: ignore[attr-defined]
        result = build_result(self.spec, student_id, outcomes, protections=self.protections, output=output,
                              sha256=self.staged[student_id].sha256, graded_at=_now(),
                              duration_s=time.perf_counter() - self.started[student_id],
                              notes=self.notes.get(student_id, ()))
        if result.max_score != self.spec.max_score:
            raise TestsBroken(f"{student_id}: tests ran for {result.max_score} of {self.spec.max_score} points")
        serialize.write_result(self.out / f"{student_id}.json", result)
        _tell(self.notify, student_id)


def _tell(fd: int, student: str) -> None:
    os.write(fd, student.encode() + b"\n")


def _runner(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
            batch: list[Submission], work: Path, out: Path, protections: tuple[str, ...], notify: int) -> int:
    """In a forked runner: grade a batch of students, writing each one's JSON. Returns the exit code."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grader
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import torch

    torch.set_num_threads(1)  # runners share the cores with each other and the workers
    spec = assignment.spec
    staged: dict[str, Staged] = {}
    copies = notebook_handin.release_copies(course, spec)  # notebooks: released stubs a notebook may carry
    for sub in batch:
        try:
            staged[sub.student] = stage(sub, spec.files, work / "students" / sub.student, copies)
        except SubmissionError as exc:
            serialize.write_result(out / f"{sub.student}.json",
                                   error_result(spec, sub.student, str(exc), protections=protections, graded_at=_now()))
            _tell(notify, sub.student)
    if not staged:
        return 0
    notes = {}  # notebooks: where each question's code was found, what was not run
    if any(s.notebook for s in staged.values()):
        symbols = notebook_layout(course, spec).symbols
        notes = {sid: hand_in_notes(s.notebook, symbols) for sid, s in staged.items() if s.notebook}
    runner_batch = _SandboxBatch(assignment, sandbox, staged, out, protections, notify, notes)
    try:
        run_tests(course, assignment, None, student_id="", reference=reference, batch=runner_batch)  # type: ignore[arg-type]
    except TestsBroken:
        return 3
    return 0
