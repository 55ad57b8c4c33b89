"""Fixtures for the after-grading tests: a results folder and a roster in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.results import Result
from autograder.store import read_results
from autograder.exports.roster import Roster, load_roster
from tests.exports.factory import class_results, write_results, write_roster


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    folder = write_results(tmp_path / "grades", class_results())
    (folder / "grades.csv").write_text("student,total\nalice,15\n")
    return folder


@pytest.fixture
def results(results_dir: Path) -> list[Result]:
    return read_results(results_dir)


@pytest.fixture
def roster(tmp_path: Path) -> Roster:
    return load_roster(write_roster(tmp_path / "roster.csv"))
