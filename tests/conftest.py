"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.layout import CourseDir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course() -> CourseDir:
    return CourseDir(ROOT)
