"""The pool: forked runner processes, each grading a batch of students in one pytest session.

The warm parent forks up to `jobs` runners. A runner stages its batch, asks the sandbox for a
worker per student, runs the tests (`runner.run_tests`), and as each student finishes (the kit's
`pytest_gradekit_student_done` hook) builds the result, writes `<student>.json` atomically and tells the
parent the student's id on a pipe. The parent reads the finished result back through `store`'s
strict reader; a runner that dies leaves an "internal grader error" result for each student it
had not reported, never a missing student.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from gradekit.scoring import Outcome

from ..config import Assignment
from ..course import CourseDir
from ..errors import TestsBroken
from ..notebook import handin as notebook_handin
from ..notebook.notes import hand_in_notes
from ..notebook.questions import layout as notebook_layout
from ..results import Result, build_result, error_result
from ..store import read_finished, write_result
from .runner import run_tests
from .submissions import Staged, Submission, SubmissionError, stage

RUNNER_DEADLINE = 600.0  # seconds for all tests of one student, on top of per-call limits


def now() -> str:
    """The time stamp a result records (UTC, to the second)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _batches(todo: list[Submission], jobs: int) -> list[list[Submission]]:
    """Batches small enough to balance the cores, large enough to share a pytest session."""
    size = max(1, min(25, -(-len(todo) // (jobs * 4))))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def run_all(course: CourseDir, assignment: Assignment, sandbox: object, reference: object,
            todo: list[Submission], work: Path, out: Path, jobs: int, protections: tuple[str, ...],
            grader_errors: list[str]) -> Iterator[Result]:
    """Fork up to `jobs` runners (0: one per core), each grading a batch; yield each student's result as it lands.

    A runner's failure is appended to `grader_errors` (and each student it left gets an error result).
    """
    jobs = jobs or os.cpu_count() or 1
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
                    code = _runner(course, assignment, sandbox, reference, batch, work, out, protections, write_end)
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
                grader_errors.append(f"{sub.student}: the grader's runner failed ({why})")
                result = error_result(assignment.spec, sub.student, f"internal grader error ({why}); "
                                      "this is not the student's fault: report it and regrade",
                                      cause="test_error", protections=protections, graded_at=now())
                write_result(out / f"{sub.student}.json", result)
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
            result = read_finished(out / f"{student}.json", assignment)
            if result is not None:
                self.reported.add(student)
                yield result


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _SandboxBatch:
    """The runner's batch: a sandboxed worker per student; a JSON file and a pipe line when done."""

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
        self.output: dict[str, str] = {}

    def open(self, student_id: str) -> object:
        self.started[student_id] = time.perf_counter()
        return self.sandbox.provider(self.staged[student_id].folder, student_id=student_id)  # type: ignore[attr-defined]

    def close(self, student_id: str, provider: object) -> None:
        try:
            self.output[student_id] = provider.output()  # type: ignore[attr-defined]
        finally:
            provider.close()  # type: ignore[attr-defined]

    def done(self, student_id: str, outcomes: list[Outcome]) -> None:
        """The kit's `pytest_gradekit_student_done` hook, through the runner: score, write, tell the parent."""
        result = build_result(self.spec, student_id, outcomes, protections=self.protections,
                              output=self.output.pop(student_id, ""), sha256=self.staged[student_id].sha256,
                              graded_at=now(), duration_s=time.perf_counter() - self.started[student_id],
                              notes=self.notes.get(student_id, ()))
        if result.max_score != self.spec.max_score:
            raise TestsBroken(f"{student_id}: tests ran for {result.max_score} of {self.spec.max_score} points")
        write_result(self.out / f"{student_id}.json", result)
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
            write_result(out / f"{sub.student}.json",
                         error_result(spec, sub.student, str(exc), protections=protections, graded_at=now()))
            _tell(notify, sub.student)
    if not staged:
        return 0
    notes = {}  # notebooks: where each question's code was found, what was not run
    if any(s.notebook for s in staged.values()):
        symbols = notebook_layout(course, spec).symbols
        notes = {sid: hand_in_notes(s.notebook, symbols) for sid, s in staged.items() if s.notebook}
    runner_batch = _SandboxBatch(assignment, sandbox, staged, out, protections, notify, notes)
    try:
        run_tests(course, assignment, None, student_id="", reference=reference, batch=runner_batch,  # type: ignore[arg-type]
                  on_student=runner_batch.done)
    except TestsBroken:
        return 3
    return 0
