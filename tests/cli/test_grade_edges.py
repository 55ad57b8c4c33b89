"""`autograder grade` at its edges: an empty folder, stray files in --out, Gradescope's one-student
file on a class folder, and tests that are broken (exit 3), each with its exit code and message."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.errors import EXIT_OK, EXIT_TESTS_BROKEN, EXIT_USAGE
from tests.toycourse import make_course, submission

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")


def _grade(course_root: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {"AUTOGRADER_COURSE": str(course_root)}
    return CliRunner().invoke(main, ["grade", *args, "--quiet"], env=env)


def test_empty_folder_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    make_course(tmp_path)
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / ".DS_Store").write_text("")
    out = tmp_path / "out"
    result = _grade(tmp_path, str(tmp_path / "subs"), "--out", str(out), "--assignment", "toy")
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"no submissions found in {tmp_path / 'subs'}" in result.output
    assert "Traceback" not in result.output and "run `autograder grade`" not in result.output
    assert not out.exists(), "nothing is written for an empty folder"


def test_gradescope_results_refuses_a_class_folder(tmp_path: Path) -> None:
    make_course(tmp_path)
    submission(tmp_path / "subs" / "alice")
    submission(tmp_path / "subs" / "bob")
    out = tmp_path / "out"
    result = _grade(tmp_path, str(tmp_path / "subs"), "--out", str(out),
                    "--gradescope-results", str(tmp_path / "results.json"))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--gradescope-results" in result.output and "2 submissions" in result.output
    assert not out.exists() and not (tmp_path / "results.json").exists()


def test_help_says_gradescope_results_is_for_one_submission() -> None:
    text = CliRunner().invoke(main, ["grade", "--help"]).output
    assert "one submission" in " ".join(text.split())


@needs_root
def test_gradescope_results_for_one_student(tmp_path: Path) -> None:
    make_course(tmp_path)
    submission(tmp_path / "subs" / "alice")
    result = _grade(tmp_path, str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                    "--gradescope-results", str(tmp_path / "results.json"))
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 5


@needs_root
def test_unreadable_json_in_out_never_loses_grading(tmp_path: Path) -> None:
    make_course(tmp_path)
    submission(tmp_path / "subs" / "alice")
    submission(tmp_path / "subs" / "bob")
    out = tmp_path / "out"
    out.mkdir()
    (out / "alice.json").write_text("{ not json")  # a damaged result of a student in the run
    (out / "notes.json").write_bytes(b"\xff\xfe")  # a stray file nobody graded
    result = _grade(tmp_path, str(tmp_path / "subs"), "--out", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert "toy: 2 students (2 graded now" in result.output, "the run ends with its summary"
    assert str(out / "alice.json") in result.output and str(out / "notes.json") in result.output
    assert json.loads((out / "alice.json").read_text())["score"] == 5, "alice was graded again"
    assert (out / "grades.csv").exists()


SKIPPED_HIDDEN = '''\
import pytest

pytest.importorskip("no_such_module_for_the_tests")  # a test dependency missing on the grading machine


@pytest.mark.question("double")
def test_never_runs(student):
    pass
'''

UNCOLLECTABLE_HIDDEN = SKIPPED_HIDDEN.replace('pytest.importorskip("no_such_module_for_the_tests")',
                                              "import no_such_module_for_the_tests")


@needs_root
@pytest.mark.parametrize(("hidden", "words"), [(SKIPPED_HIDDEN, "ran for 2 of 5 points"),
                                               (UNCOLLECTABLE_HIDDEN, "cannot collect")], ids=["skipped", "uncollectable"])
def test_broken_tests_exit_3_and_name_the_cause(tmp_path: Path, hidden: str, words: str) -> None:
    make_course(tmp_path)
    (tmp_path / "assignments/toy/tests/hidden/test_toy_hidden.py").write_text(hidden)
    submission(tmp_path / "subs" / "alice")
    out = tmp_path / "out"
    result = _grade(tmp_path, str(tmp_path / "subs"), "--out", str(out), "--jobs", "1")
    assert result.exit_code == EXIT_TESTS_BROKEN, result.output
    assert "the assignment's tests are broken" in result.output and words in result.output, result.output
    assert "exit status" not in result.output
    assert not (out / "alice.json").exists(), "no grade is kept from broken tests, so a rerun grades alice"
