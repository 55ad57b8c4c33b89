"""Which test is running: its question's tolerance and whether its messages must hide values.

The plugin sets this around each test call; `checks` reads it so that tests need not pass the
tolerance or the hidden flag on every call.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from .spec import DEFAULT_ATOL, DEFAULT_RTOL, DEFAULT_TIME_LIMIT


@dataclass(frozen=True)
class TestContext:
    question: str = ""
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    hidden: bool = False
    time_limit: float = DEFAULT_TIME_LIMIT


CURRENT: contextvars.ContextVar[TestContext] = contextvars.ContextVar(
    "gradekit_test_context", default=TestContext()
)


def current() -> TestContext:
    return CURRENT.get()
