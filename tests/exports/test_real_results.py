"""The exports on results made by the real pipeline: graded in process, written by `store`'s writer,
read back by its strict reader, then turned into every LMS file; the numbers must survive each step."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.exports.canvas import export_canvas_csv
from autograder.exports.gradebook import record_results, results_for_run
from autograder.exports.gradescope import write_results_json
from autograder.exports.moodle import export_moodle_csv
from autograder.exports.roster import load_roster
from autograder.grading.inprocess import run_inprocess
from autograder.results import build_result, error_result
from autograder.store import read_results, write_result
from tests.toycourse import SOLUTION_TOY, make_course, submission

BUGGY = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)", "return 2 * np.asarray(x, dtype=float) + (np.abs(x) > 1)")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = make_course(tmp_path_factory.mktemp("course"))
    course = CourseDir(root)
    assignment = course.assignment("toy")
    originals = []
    for student, toy in (("alice", None), ("bob", BUGGY)):
        run = run_inprocess(course, assignment, submission(root / "subs" / student, toy=toy), student_id=student)
        originals.append(build_result(assignment.spec, student, run.outcomes, graded_at="2026-11-23T10:00:00+00:00"))
    originals.append(error_result(assignment.spec, "carol", "the submission is empty"))
    out = root / "grades"
    out.mkdir()
    for r in originals:
        write_result(out / f"{r.student}.json", r)
    (root / "roster.csv").write_text("student,name,canvas_id,email\nalice,Alice,1,a@x.edu\nbob,Bob,2,b@x.edu\n"
                                     "carol,Carol,3,c@x.edu\n")
    return root, assignment, originals, read_results(out)


def test_the_strict_reader_reads_back_exactly_what_the_writer_wrote(written) -> None:  # type: ignore[no-untyped-def]
    _, _, originals, loaded = written
    assert loaded == sorted(originals, key=lambda r: r.student)
    bob = next(r for r in loaded if r.student == "bob")
    assert 0 < bob.score < bob.max_score == 5, "the buggy submission really lost points"


def test_lms_files_carry_the_read_scores(written, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, assignment, _, loaded = written
    scores = {r.student: r.score for r in loaded}
    roster = load_roster(root / "roster.csv")
    export_canvas_csv(loaded, roster, tmp_path / "canvas.csv", title="Toy", canvas_assignment_id=7)
    rows = list(csv.reader((tmp_path / "canvas.csv").open()))
    column = rows[0].index("Toy (7)")
    got = {row[0]: float(row[column]) for row in rows[1:] if row[0].strip() != "Points Possible"}
    assert got == {"Alice": scores["alice"], "Bob": scores["bob"], "Carol": 0.0}
    export_moodle_csv(loaded, roster, tmp_path / "moodle.csv", item="Toy")
    rows = list(csv.DictReader((tmp_path / "moodle.csv").open()))
    assert {r["Email address"]: float(r["Toy"]) for r in rows} == {
        "a@x.edu": scores["alice"], "b@x.edu": scores["bob"], "c@x.edu": 0.0}
    bob = next(r for r in loaded if r.student == "bob")
    data = json.loads(write_results_json(tmp_path / "results.json", bob, assignment.spec.questions).read_text())
    assert data["score"] == pytest.approx(bob.score)
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(bob.score)
    run_id = record_results(loaded, tmp_path / "gb.sqlite", source="test")
    assert results_for_run(tmp_path / "gb.sqlite", str(run_id)) == loaded
