"""The runner's batch asks for the next student's worker while the current student's tests run."""

from __future__ import annotations

from pathlib import Path

from autograder.grading.pool import _SandboxBatch
from autograder.grading.submissions import Staged


class _Provider:
    def __init__(self, log: list[str], student_id: str) -> None:
        self.log, self.student_id = log, student_id

    def prestart(self) -> None:
        self.log.append(f"prestart {self.student_id}")

    def close(self) -> None:
        self.log.append(f"close {self.student_id}")

    def output(self) -> str:
        return ""


class _Sandbox:
    def __init__(self) -> None:
        self.log: list[str] = []

    def provider(self, folder: Path, *, student_id: str) -> _Provider:
        self.log.append(f"provider {student_id}")
        return _Provider(self.log, student_id)


class _Spec:
    name = "toy"


class _Assignment:
    spec = _Spec()


def _batch(students: list[str]) -> tuple[_SandboxBatch, _Sandbox]:
    sandbox = _Sandbox()
    staged = {s: Staged(student=s, folder=Path(s), files=(), sha256="0") for s in students}
    return _SandboxBatch(_Assignment(), sandbox, staged, Path("."), (), notify=-1), sandbox  # type: ignore[arg-type]


def test_opening_a_student_asks_for_the_next_ones_worker_once() -> None:
    batch, sandbox = _batch(["a", "b", "c"])
    pa = batch.open("a")
    assert sandbox.log == ["provider a", "provider b", "prestart b"]
    batch.close("a", pa)
    pb = batch.open("b")
    assert pb.student_id == "b" and sandbox.log[-2:] == ["provider c", "prestart c"], "b's provider was the prestarted one"
    batch.close("b", pb)
    pc = batch.open("c")
    assert sandbox.log[-1] == "close b", "the last student asks for nothing more"
    batch.close("c", pc)
    batch.close_ahead()
    assert sandbox.log.count("provider b") == 1 and sandbox.log[-1] == "close c"


def test_workers_asked_for_students_the_session_never_reached_are_stopped() -> None:
    batch, sandbox = _batch(["a", "b"])
    batch.close("a", batch.open("a"))
    batch.close_ahead()  # the session ended before b (e.g. the tests were broken)
    assert sandbox.log[-1] == "close b" and not batch.ahead
