"""warm: the sandbox starts beside the warm-up and is never leaked; the heap is frozen only meanwhile."""

from __future__ import annotations

import gc
import threading

import pytest

from autograder.grading import warm


class Started:
    def __init__(self) -> None:
        self.closed = False
        self.thread = threading.current_thread().name

    def close(self) -> None:
        self.closed = True


def test_start_runs_here_while_imports_run_in_a_joined_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    importer: list[str] = []
    monkeypatch.setattr(warm, "warm_up", lambda: importer.append(threading.current_thread().name))
    started = warm.warm_up_while(Started)
    assert started.thread == threading.current_thread().name and not started.closed, "the zygote's parent thread stays"
    assert importer and importer[0] != started.thread
    assert not any(t.name.startswith("warm-up") for t in threading.enumerate()), "joined before any fork"


def test_failed_imports_close_what_start_made(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Started] = []

    def boom() -> None:
        raise ImportError("broken torch")

    monkeypatch.setattr(warm, "warm_up", boom)
    with pytest.raises(ImportError, match="broken torch"):
        warm.warm_up_while(lambda: made.append(Started()) or made[-1])
    assert len(made) == 1 and made[0].closed


def test_a_failed_start_is_raised_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "warm_up", lambda: None)

    def fail() -> Started:
        raise RuntimeError("no zygote")

    with pytest.raises(RuntimeError, match="no zygote"):
        warm.warm_up_while(fail)


def test_frozen_heap_freezes_only_meanwhile() -> None:
    before = gc.get_freeze_count()
    with warm.frozen_heap():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0
