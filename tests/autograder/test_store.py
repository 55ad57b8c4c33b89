"""Reading result JSON files: what is skipped, and what is an error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.errors import ResultsError
from autograder.store import from_dict, read_results
from tests.exports.factory import class_results, result, write_results


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    folder = write_results(tmp_path / "grades", class_results())
    (folder / "grades.csv").write_text("student,total\nalice,15\n")
    return folder


def test_reads_every_result_sorted_and_skips_other_files(results_dir: Path) -> None:
    (results_dir / "results.json").write_text(json.dumps({"score": 1, "tests": []}))  # a Gradescope file
    (results_dir / ".eve.json.123.tmp").write_text("{")
    (results_dir / "notes.txt").write_text("hello")
    loaded = read_results(results_dir)
    assert [r.student for r in loaded] == ["alice", "bob", "carol", "dave"]
    bob = loaded[1]
    assert bob.score == 9.0 and bob.max_score == 15.0 and bob.status == "graded"
    sigmoid = bob.question("sigmoid")
    assert sigmoid is not None and sigmoid.id == "sigmoid" and len(sigmoid.tests_of(hidden=True)) == 2
    assert bob.question("no-such-question") is None, "a question the result lacks is None, not a KeyError"
    assert loaded[3].status == "error" and "empty" in (loaded[3].error or "")
    assert bob.protections and bob.student == "bob"


def test_missing_and_empty_folders_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no results folder"):
        read_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no result files"):
        read_results(tmp_path / "empty")


def test_corrupt_result_names_the_file(tmp_path: Path) -> None:
    folder = write_results(tmp_path / "g", [result("alice")])
    (folder / "bob.json").write_text('{"schema_version": 1, "student": ')
    with pytest.raises(ResultsError, match=r"bob\.json: not valid JSON"):
        read_results(folder)


def test_bad_field_names_the_file_and_key(tmp_path: Path) -> None:
    bad = result("bob")
    bad["questions"][0]["tests"][1]["score"] = "lots"
    folder = write_results(tmp_path / "g", [bad])
    with pytest.raises(ResultsError, match=r"bob\.json: questions\[0\]\.tests\[1\]: 'score'"):
        read_results(folder)


def test_mixed_assignments_need_a_choice(tmp_path: Path) -> None:
    folder = write_results(tmp_path / "g", [result("alice"), result("bob", assignment="other")])
    with pytest.raises(ResultsError, match="several assignments.*--assignment"):
        read_results(folder)
    assert [r.student for r in read_results(folder, assignment="other")] == ["bob"]


def test_file_name_must_match_student(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "mallory.json").write_text(json.dumps(result("alice")))
    with pytest.raises(ResultsError, match="holds the result of 'alice'"):
        read_results(folder)


def test_unsupported_schema_and_path_like_ids() -> None:
    with pytest.raises(ResultsError, match="schema_version 2"):
        from_dict({**result("a"), "schema_version": 2})
    with pytest.raises(ResultsError, match="not usable as a file name"):
        from_dict(result("../etc"))
