"""`autograder new NAME`: from an empty folder to an assignment that releases, runs and grades."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import CourseDir
from autograder.grading.inprocess import run_inprocess
from autograder.results import build_result
from tests.autograder.test_release import _student_pytest


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CourseDir:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    runner = CliRunner()
    made = runner.invoke(main, ["new", "linear", "--title", "Linear things"])
    assert made.exit_code == 0, made.output
    released = runner.invoke(main, ["release", "linear"])
    assert released.exit_code == 0, released.output
    assert runner.invoke(main, ["release", "--check"]).exit_code == 0
    return CourseDir(tmp_path)


def test_scaffold_release_runs_for_a_student(course: CourseDir) -> None:
    folder = course.release_dir("linear")
    assert {"README.md", "requirements.txt", "linear.py", "tests/test_linear.py"} <= {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    readme = (folder / "README.md").read_text()
    assert "## Setup" in readme and "`linear.py`" in readme and "| `scale` | Scale an array | 1 | 2 | 3 |" in readme
    stubs = _student_pytest(folder)
    assert stubs.returncode == 1 and "2 not implemented" in stubs.stdout, stubs.stdout + stubs.stderr
    assert "FAILED" not in stubs.stdout and "error" not in stubs.stdout.lower(), stubs.stdout
    shutil.copy(course.solutions_dir("linear") / "linear.py", folder / "linear.py")
    solved = _student_pytest(folder)
    assert solved.returncode == 0 and "1.00 / 1" in solved.stdout, solved.stdout + solved.stderr


def _grade(course: CourseDir, folder: Path):  # type: ignore[no-untyped-def]
    assignment = course.assignment("linear")
    run = run_inprocess(course, assignment, folder, student_id="someone")
    return build_result(assignment.spec, "someone", run.outcomes)


def test_scaffold_grades_and_its_hidden_tests_catch_five_bugs(course: CourseDir, tmp_path: Path) -> None:
    reference = _grade(course, course.solutions_dir("linear"))
    assert reference.score == reference.max_score == 3
    mutants = yaml.safe_load(course.mutants_file("linear").read_text())
    assert sum(m["kind"] == "bug" for m in mutants) >= 5
    for m in mutants:
        folder = tmp_path / "sub" / m["name"]
        shutil.copytree(course.solutions_dir("linear"), folder)
        source = (folder / m["file"]).read_text()
        assert source.count(m["replace"]) == 1, m["name"]
        (folder / m["file"]).write_text(source.replace(m["replace"], m["with"]))
        q = _grade(course, folder).question(m["question"])
        assert q is not None
        hidden = sum(t.score for t in q.tests_of(hidden=True)), sum(t.max_score for t in q.tests_of(hidden=True))
        if m["kind"] == "bug":
            assert hidden[0] < hidden[1], f"the hidden tests miss the bug {m['name']}"
        else:
            assert q.score == q.max_score, f"the alternative {m['name']} loses points"


@pytest.mark.parametrize(("name", "words"), [("linear", "already exists"), ("Bad-Name", "lower-case letters")])
def test_new_refuses_an_existing_or_bad_name(course: CourseDir, name: str, words: str) -> None:
    result = CliRunner().invoke(main, ["new", name])
    assert result.exit_code == 2 and words in result.output, result.output
