"""The one error handler: library errors reach the user as a message and their tree's exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.errors import EXIT_USAGE, AutograderError, LayoutError


@pytest.mark.parametrize("args", [["release", "--check"], ["grade", "subs"], ["gradescope", "toy"]])
def test_outside_a_course_is_a_usage_error_naming_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_USAGE == 2, result.output
    assert "no course folder" in result.output and "AUTOGRADER_COURSE" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "no traceback"


def test_every_error_is_in_the_tree() -> None:
    assert issubclass(LayoutError, AutograderError) and LayoutError.exit_code == EXIT_USAGE


def test_help_states_the_exit_codes_and_the_course_variable() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output and "AUTOGRADER_COURSE" in result.output
