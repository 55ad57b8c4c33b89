"""The after-grading commands through click: output, files, and exit codes for bad input."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.cli.exports import EXPORT_COMMANDS
from tests.exports.factory import class_results, result, write_course, write_results, write_roster


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course folder as cwd, graded results in grades/, a roster."""
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.chdir(write_course(tmp_path))
    write_results(tmp_path / "grades", class_results())
    write_roster(tmp_path / "roster.csv")
    return tmp_path


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_export_command_is_registered() -> None:
    assert {c.name for c in EXPORT_COMMANDS} == {"export", "feedback", "report", "gradebook", "diff", "gradescope"}
    assert set(main.commands) == {"new", "release", "grade"} | {c.name for c in EXPORT_COMMANDS}
    assert set(main.commands["export"].commands) == {"canvas", "moodle", "nbgrader"}  # type: ignore[attr-defined]


def test_export_canvas(course: Path) -> None:
    res = run("export", "canvas", "--roster", "roster.csv", "--canvas-assignment-id", "4321", "--out", "canvas.csv")
    assert res.exit_code == 0, res.output
    assert "wrote canvas.csv (4 students)" in res.output and "erin" in res.output
    rows = list(csv.reader((course / "canvas.csv").open(newline="")))
    assert rows[0][-1] == "Demo: backprop & optimizers (4321)"  # title from assignment.yaml


def test_export_canvas_dry_run_upload(course: Path) -> None:
    res = run("export", "canvas", "--roster", "roster.csv", "--canvas-assignment-id", "4321", "--upload",
              "--canvas-url", "https://canvas.invalid", "--course-id", "5")
    assert res.exit_code == 0 and "would post 4 grades" in res.output and "nothing was sent" in res.output
    res = run("export", "canvas", "--roster", "roster.csv", "--canvas-assignment-id", "4321")
    assert res.exit_code == 2 and "pass --out FILE" in res.output


def test_export_moodle_and_strict(course: Path) -> None:
    res = run("export", "moodle", "grades", "--roster", "roster.csv", "--identity", "username", "--feedback",
              "--out", "moodle.csv")
    assert res.exit_code == 0, res.output
    header = next(csv.reader((course / "moodle.csv").open(newline="")))
    assert header == ["Username", "Demo: backprop & optimizers", "Demo: backprop & optimizers (Feedback)"]
    res = run("export", "moodle", "--roster", "roster.csv", "--out", "strict.csv", "--strict")
    assert res.exit_code == 1 and "erin" in res.output and not (course / "strict.csv").exists()


@pytest.mark.parametrize(("roster", "message"), [
    ("student,email\nalice,a@x\nalice,b@x\n", "rows 2 and 3 are both for student 'alice'"),
    ("name,email\nAlice,a@x\n", "missing column 'student'"),
])
def test_bad_roster_exits_2_and_writes_nothing(course: Path, roster: str, message: str) -> None:
    write_roster(course / "bad.csv", roster)
    res = run("export", "moodle", "--roster", "bad.csv", "--out", "m.csv")
    assert res.exit_code == 2 and message in res.output and "bad.csv" in res.output
    assert not (course / "m.csv").exists()


def test_unwritable_output_exits_2(course: Path) -> None:
    res = run("export", "canvas", "--roster", "roster.csv", "--canvas-assignment-id", "1", "--out", "nope/c.csv")
    assert res.exit_code == 2 and "does not exist" in res.output


def test_feedback_and_report(course: Path) -> None:
    res = run("feedback")
    assert res.exit_code == 0 and "wrote 8 files (4 students)" in res.output
    assert (course / "grades" / "feedback" / "bob.md").read_text().startswith("# Demo: backprop")
    res = run("report", "--out", "report.html")
    page = (course / "report.html").read_text()
    assert res.exit_code == 0 and page.count("<svg") == 2
    assert '<a href="grades/feedback/bob.html">feedback</a>' in page, "links relative to the report"
    assert (course / "grades" / "feedback" / "bob.html").is_file()
    res = run("report", "missing-folder")
    assert res.exit_code == 2 and "no results folder missing-folder" in res.output


def test_gradebook_diff_and_export_from_a_run(course: Path) -> None:
    assert run("gradebook", "record").exit_code == 0
    bob = course / "grades" / "bob.json"
    bob.write_text(json.dumps(result("bob")))
    res = run("gradebook", "record", "--label", "regrade")
    assert res.exit_code == 0 and "recorded run 2" in res.output
    res = run("gradebook", "runs")
    assert res.exit_code == 0 and "run 2 [regrade]: demo, 4 students" in res.output
    res = run("diff", "1", "2")
    assert res.exit_code == 0 and "bob: 9 -> 15 (+6) [same submission]" in res.output
    res = run("diff", "1", "5")
    assert res.exit_code == 2 and "no run 5" in res.output
    res = run("export", "canvas", "--run", "1", "--roster", "roster.csv", "--canvas-assignment-id", "9",
              "--out", "run1.csv")
    assert res.exit_code == 0, res.output
    rows = {r[0]: r[-1] for r in csv.reader((course / "run1.csv").open(newline=""))}
    assert rows["Builder, Bob"] == "9"  # the score as recorded in run 1, not the current file
    res = run("gradebook", "runs", "--db", "nowhere.sqlite")
    assert res.exit_code == 2 and "no gradebook at nowhere.sqlite" in res.output


def test_gradescope_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.toycourse import make_course

    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.chdir(make_course(tmp_path))
    res = run("gradescope", "toy", "--student-field", "id")
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(tmp_path / "autograder.zip") as z:
        assert json.loads(z.read("gradescope.json"))["student_field"] == "id"
    res = run("gradescope", "nope", "--out", "x.zip")
    assert res.exit_code == 2 and "no assignment 'nope'" in res.output and not (tmp_path / "x.zip").exists()
