"""Loads the grading kit: `pytest` here runs the public tests and prints your points."""

import pytest

from gradekit.requirements import message, missing

MISSING = missing(__file__)  # packages from requirements.txt that this Python lacks
if not MISSING:
    pytest_plugins = ["gradekit.plugin"]


def pytest_configure(config: pytest.Config) -> None:
    if MISSING:
        raise pytest.UsageError(message(MISSING))
