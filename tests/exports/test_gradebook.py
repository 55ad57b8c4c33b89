"""The SQLite gradebook: runs, per-question scores, diffs, exports from any run, clear errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from autograder.errors import GradebookError, OutputPathError, ResultsError, UnknownRunError
from autograder.exports.gradebook import diff, list_runs, record_run, results_for_run
from autograder.store import read_results
from tests.exports.factory import class_results, result, write_results


def test_record_and_read_back(results_dir: Path) -> None:
    run = record_run(results_dir, label="first")
    db = results_dir / "gradebook.sqlite"
    assert run == 1 and db.is_file()
    (info,) = list_runs(db)
    assert (info.students, info.errors, info.label, info.grader_versions) == (4, 1, "first", "0.1.0")
    assert info.mean == pytest.approx((15 + 9 + 7.5 + 0) / 4)
    assert results_for_run(db, 1) == read_results(results_dir)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT student, question, score, grader_version, submission_sha256 FROM scores "
                            "WHERE student = 'bob' ORDER BY question").fetchall()
    assert [r[:3] for r in rows] == [("bob", "adam", 6.0), ("bob", "sigmoid", 3.0)]
    assert rows[0][3] == "0.1.0" and len(rows[0][4]) == 64


def test_diff_shows_what_a_regrade_changed(tmp_path: Path) -> None:
    folder = write_results(tmp_path / "g", class_results())
    db = tmp_path / "gb.sqlite"
    record_run(folder, db)
    for p in folder.glob("*.json"):
        p.unlink()
    write_results(folder, [
        result("alice"),
        result("bob", {"sigmoid/public/1"}, version="0.2.0"),  # same submission, new grader
        result("carol", {"adam/public/0", "adam/hidden/0", "adam/hidden/1"}, cause="timeout"),
        result("frank", sha="f" * 64),
    ])
    record_run(folder, db, label="after fixing tolerance")
    d = diff(db, "previous", "latest")
    assert (d.run_a.id, d.run_b.id, d.unchanged) == (1, 2, 2)
    by = {c.student: c for c in d.changes}
    assert set(by) == {"bob", "dave", "frank"}
    bob = by["bob"]
    assert (bob.old, bob.new, bob.same_submission, bob.grader) == (9.0, 14.0, True, ("0.1.0", "0.2.0"))
    assert bob.questions == (("adam", 6.0, 9.0), ("sigmoid", 3.0, 5.0))
    text = "\n".join(d.lines())
    assert "bob: 9 -> 14 (+5) [same submission; grader 0.1.0 -> 0.2.0]; adam: 6 -> 9, sigmoid: 3 -> 5" in text
    assert "dave: not in this run (was 0)" in text and "frank: new in this run (15)" in text
    assert [r.student for r in results_for_run(db, 1)] == ["alice", "bob", "carol", "dave"]


def test_unknown_runs_and_missing_gradebooks(tmp_path: Path, results_dir: Path) -> None:
    db = results_dir / "gradebook.sqlite"
    with pytest.raises(GradebookError, match="no gradebook at .*gradebook record"):
        list_runs(db)
    record_run(results_dir)
    with pytest.raises(UnknownRunError, match=r"no run 7 .*\(runs: 1\)"):
        diff(db, 1, 7)
    with pytest.raises(UnknownRunError, match="only 1 run"):
        results_for_run(db, "previous")
    with pytest.raises(UnknownRunError, match="not a run id"):
        results_for_run(db, "yesterday")


def test_other_sqlite_files_and_unwritable_paths(tmp_path: Path, results_dir: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(GradebookError, match="not an autograder gradebook"):
        record_run(results_dir, other)
    with pytest.raises(OutputPathError, match="does not exist"):
        record_run(results_dir, tmp_path / "missing" / "gb.sqlite")
    with pytest.raises(ResultsError, match="no results folder"):
        record_run(tmp_path / "nothing", tmp_path / "gb.sqlite")
    assert not (tmp_path / "gb.sqlite").exists()


def test_diff_refuses_different_assignments(tmp_path: Path) -> None:
    db = tmp_path / "gb.sqlite"
    record_run(write_results(tmp_path / "a", [result("alice")]), db)
    record_run(write_results(tmp_path / "b", [result("alice", assignment="other")]), db)
    with pytest.raises(GradebookError, match="same assignment"):
        diff(db, 1, 2)
