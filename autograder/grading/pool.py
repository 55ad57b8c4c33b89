"""The pool: forked runner processes, each grading a batch of students in one pytest session.

The warm parent forks up to `jobs` runners. A runner stages its batch, asks the sandbox for a
worker per student, runs the tests (`runner.run_tests`), and as each student finishes (the kit's
`pytest_gradekit_student_done` hook) builds the result, writes `<student>.json` atomically and tells the
parent the student's id on a pipe. The parent reads the finished result back through `store`'s
strict reader.

One student never costs another: staging, filing and writing are guarded per student (whatever
fails there is that student's result, and the next student starts as if alone); a runner runs
under a memory limit and a deadline; the students a dead runner left are graded again alone, so
only the runaway gets an "internal grader error" result, never a missing student. An internal
error is never final: the next run grades that student again.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from gradekit.scoring import Outcome

from ..config import Assignment
from ..course import CourseDir
from ..errors import EXIT_TESTS_BROKEN, ResultsError, TestsBroken
from ..results import Result, build_result, error_result
from ..sandbox.limits import vm_size
from ..store import read_result, write_result
from .notebook_route import notebook_route
from .runner import preloaded_tests, reference_provider, run_tests
from .submissions import Staged, Submission, SubmissionError, stage
from .warm import frozen_heap

_BROKEN = "!tests-broken "  # a pipe line that is not a student id (ids never start with "!")
RUNNER_DEADLINE = 600.0  # seconds a runner may go without finishing a student
RUNNER_MEMORY = 1 << 30  # address space a runner may add to the grader's at fork (see docs/architecture.md)
MAX_BATCH = 25


def now() -> str:
    """The time stamp a result records (UTC, to the second)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _batches(todo: list[Submission], jobs: int, size: int = 0) -> list[list[Submission]]:
    """Batches small enough to balance the cores, large enough to share a pytest session."""
    size = size or max(1, min(MAX_BATCH, -(-len(todo) // (jobs * 4))))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


@contextlib.contextmanager
def ready_to_fork(course: CourseDir, assignment: Assignment) -> Iterator[object]:
    """What a parent prepares once for all the runners it forks in the block; yields the reference.

    The reference solutions imported, the tests collected (`runner.preloaded_tests`) and the heap
    frozen (`warm.frozen_heap`: the runners' collections skip what they inherit). Used by
    `flow.grade` and by a cluster node's grader alike.
    """
    reference = reference_provider(course, assignment)
    for module in assignment.spec.modules:
        reference.module(module)
    with preloaded_tests(course, assignment), frozen_heap():
        yield reference


def run_all(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
            todo: list[Submission], work: Path, out: Path, jobs: int, protections: tuple[str, ...],
            grader_errors: list[str], broken: list[str], batch_size: int = 0) -> Iterator[Result]:
    """Fork up to `jobs` runners (0: one per core), each grading a batch; yield each student's result as it lands.

    When a runner dies before reporting every student of its batch (killed at the deadline, or a
    crash), each student it left is graded again alone in a fresh runner: a runaway costs its
    classmates one retry. Every internal error of the run is appended to `grader_errors`.
    A runner that found the assignment's tests broken (exit code 3) appends why to `broken`; its
    students get no result at all, so the next run grades them once the tests are fixed.
    """
    jobs = jobs or os.cpu_count() or 1
    queue = _batches(todo, jobs, batch_size)
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
                    code = _runner(course, assignment, sandbox, reference, batch, work, out, protections, write_end)
                finally:
                    os._exit(code)
            os.close(write_end)
            os.set_blocking(read_end, False)
            running[pid] = _Running(batch, read_end)
        for pid, run in list(running.items()):
            yield from _noted(run.collect(out, assignment.name), grader_errors)
            waited, status = os.waitpid(pid, os.WNOHANG)
            if waited == 0:
                if time.monotonic() - run.last_progress > RUNNER_DEADLINE:
                    os.kill(pid, signal.SIGKILL)
                    run.why = f"no student finished within {RUNNER_DEADLINE:g} s"
                continue
            yield from _noted(run.collect(out, assignment.name), grader_errors)  # lines written just before exiting
            os.close(run.fd)
            del running[pid]
            left = [sub for sub in run.batch if sub.student not in run.reported]
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_TESTS_BROKEN:  # a retry fails the same
                broken.extend(run.broken or ["the runner stopped: the tests could not run"])
                grader_errors.extend(f"{sub.student}: not graded, the assignment's tests are broken" for sub in left)
                continue
            if len(left) > 1:  # the runaway is one of them: each is graded again alone
                queue.extend([sub] for sub in left)
                continue
            for sub in left:
                why = run.why or _describe_status(status)
                result = error_result(assignment.spec, sub.student, f"internal grader error: the runner failed ({why}); "
                                      "this is not the student's fault: report it; the next run grades it again",
                                      cause="test_error", protections=protections, graded_at=now())
                write_result(out / f"{sub.student}.json", result)
                yield from _noted([result], grader_errors)
        time.sleep(0.005)


def _noted(results: Iterator[Result] | list[Result], grader_errors: list[str]) -> Iterator[Result]:
    """The results, each internal error also noted in `grader_errors` (the run then exits 1)."""
    for result in results:
        if result.internal_error:
            grader_errors.append(f"{result.student}: {result.error}")
        yield result


class _Running:
    """A runner process as the parent sees it: its batch and the students it reported done."""

    def __init__(self, batch: list[Submission], fd: int) -> None:
        self.batch = batch
        self.fd = fd
        self.why = ""  # why the parent killed it
        self.reported: set[str] = set()
        self.broken: list[str] = []  # why, from a runner that found the tests broken
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
            if student.startswith(_BROKEN):
                self.broken.append(student[len(_BROKEN):])
                continue
            result = _written(out / f"{student}.json", assignment)
            if result is not None:
                self.reported.add(student)
                yield result


def _written(path: Path, assignment: str) -> Result | None:
    """The result a runner has just written (an internal error too), or None."""
    try:
        result = read_result(path)
    except ResultsError:
        return None
    return result if result.assignment == assignment else None


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _SandboxBatch:
    """The runner's batch: a sandboxed worker per student; a JSON file and a pipe line when done."""

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
        self.ahead: dict[str, object] = {}  # providers whose workers were started before the student's turn
        self.output: dict[str, str] = {}
        self.broken = ""  # set when the tests ran for fewer points than the assignment has

    def open(self, student_id: str) -> object:
        """The student's provider, its worker asked for earlier; the next student's worker is asked for now.

        The zygote starts the next worker while this student's tests run, so a student waits for
        no worker's start but the batch's first.
        """
        self.started[student_id] = time.perf_counter()
        provider = self.ahead.pop(student_id, None) or self._provider(student_id)
        at = self.student_ids.index(student_id)
        if at + 1 < len(self.student_ids):
            following = self.student_ids[at + 1]
            if following not in self.ahead:
                self.ahead[following] = self._provider(following)
                self.ahead[following].prestart()  # type: ignore[attr-defined]
        return provider

    def _provider(self, student_id: str) -> object:
        return self.sandbox.provider(self.staged[student_id].folder, student_id=student_id)  # type: ignore[attr-defined]

    def close_ahead(self) -> None:
        """Stop workers started for students the session never reached (it ended early)."""
        for student_id, provider in list(self.ahead.items()):
            self.close(student_id, provider)
        self.ahead.clear()

    def close(self, student_id: str, provider: object) -> None:
        """Kill the student's worker first (a flood cannot hold the drain), then take its output.

        Never raises: this runs as the next student's fixture setup, where an error would cost them.
        """
        try:
            provider.close()  # type: ignore[attr-defined]
            self.output[student_id] = provider.output()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - the per-student boundary
            self.output[student_id] = f"[the output could not be read: {type(exc).__name__}]"

    def done(self, student_id: str, outcomes: list[Outcome]) -> None:
        """The kit's `pytest_gradekit_student_done` hook, through the runner: score, write, tell the parent.

        Whatever fails here for this student is filed as this student's internal error.
        """
        try:
            staged = self.staged[student_id]
            result = build_result(self.spec, student_id, outcomes, protections=self.protections,
                                  output=self.output.pop(student_id, ""), sha256=staged.sha256, graded_at=now(),
                                  duration_s=time.perf_counter() - self.started[student_id], warnings=staged.warnings)
        except Exception as exc:  # noqa: BLE001 - the per-student boundary
            result = _internal_error(self.spec, student_id, f"while filing the result ({type(exc).__name__})",
                                     self.protections)
        if result.max_score != self.spec.max_score and not result.internal_error:
            # Not raised: this runs in a fixture's teardown, where pytest would swallow it.
            self.broken = self.broken or (
                f"the tests of {self.spec.name} ran for {result.max_score:g} of {self.spec.max_score:g} points "
                "(a test file skipped or not collected, e.g. a missing test dependency); fix the tests, then grade again")
            return
        _file(self.out, self.spec, result, self.protections, self.notify)


def _internal_error(spec: object, student: str, where: str, protections: tuple[str, ...]) -> Result:
    return error_result(spec, student, f"internal grader error {where}; this is not the student's fault: "  # type: ignore[arg-type]
                        "report it; the next run grades it again", cause="test_error", protections=protections,
                        graded_at=now())


def _file(out: Path, spec: object, result: Result, protections: tuple[str, ...], notify: int) -> None:
    """Write the result and tell the parent; if even that fails, the parent files an internal error."""
    path = out / f"{result.student}.json"
    try:
        write_result(path, result)
    except Exception as exc:  # noqa: BLE001 - e.g. a value JSON cannot hold
        try:
            write_result(path, _internal_error(spec, result.student, f"while writing the result ({type(exc).__name__})",
                                               protections))
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
    route = notebook_route(course, spec)  # notebook hand-ins (grading/notebook_route.py)
    for sub in batch:
        try:
            staged[sub.student] = stage(sub, spec.files, work / "students" / str(os.getpid()) / sub.student, route)
        except SubmissionError as exc:
            _file(out, spec, error_result(spec, sub.student, str(exc), protections=protections, graded_at=now()),
                  protections, notify)
        except Exception as exc:  # noqa: BLE001 - stage raises only SubmissionError; if not, still only this student
            _file(out, spec, _internal_error(spec, sub.student, f"while staging ({type(exc).__name__})", protections),
                  protections, notify)
    if not staged:
        return 0
    runner_batch = _SandboxBatch(assignment, sandbox, staged, out, protections, notify)
    try:
        run_tests(course, assignment, None, student_id="", reference=reference, batch=runner_batch,  # type: ignore[arg-type]
                  on_student=runner_batch.done)
    except TestsBroken as exc:
        runner_batch.broken = runner_batch.broken or str(exc)
    finally:
        runner_batch.close_ahead()
    if runner_batch.broken:
        _tell(notify, _BROKEN + " ".join(runner_batch.broken.split()))
        return EXIT_TESTS_BROKEN
    return 0
