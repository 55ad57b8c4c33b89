"""The kit's hook specifications: how a host (the grader's runner, the benchmark) hears about outcomes.

Like any pytest plugin's hooks: the kit calls `config.hook.pytest_gradekit_student_done(...)` and knows
nothing of who listens; a host registers a plugin with a `pytest_gradekit_student_done` implementation.
The outcomes are plain records; the host builds, scores and stores results itself.
"""

from __future__ import annotations

import pytest

from .scoring import Outcome


@pytest.hookspec
def pytest_gradekit_student_done(config: pytest.Config, student_id: str, outcomes: list[Outcome]) -> None:
    """Every test of `student_id` (one student of a batch) has run and its provider is closed."""
