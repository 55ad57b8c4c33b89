"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# Some tests fork grading runners from this process after torch has run operations here; with one
# intra-op thread torch never starts the thread pool that a forked child could deadlock in.
torch.set_num_threads(1)

from autograder.course import CourseDir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course() -> CourseDir:
    return CourseDir(ROOT)
