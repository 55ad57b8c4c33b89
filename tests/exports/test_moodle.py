"""Moodle: one identity column, one column per grade item, optional feedback, via the csv module."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from autograder.errors import ExportError, RosterError
from autograder.exports.moodle import export_moodle_csv
from autograder.exports.roster import load_roster
from autograder.results import Result
from tests.exports.factory import SECRET, write_roster

IDENTITY_HEADERS = {"Email address", "Username", "ID number"}  # Moodle maps these to useremail/username/useridnumber


def validate_moodle_csv(text: str, *, grade_columns: int, feedback: bool) -> list[list[str]]:
    """Moodle's CSV import: a header row; exactly one user-identity column; numeric grade columns."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    assert sum(h in IDENTITY_HEADERS for h in header) == 1 and header[0] in IDENTITY_HEADERS
    assert len(header) == 1 + grade_columns + int(feedback) and len(set(header)) == len(header)
    for row in rows[1:]:
        assert len(row) == len(header) and row[0]
        for cell in row[1:1 + grade_columns]:
            assert re.fullmatch(r"\d+(\.\d+)?", cell), cell
    return rows


def test_email_identity_with_feedback(tmp_path: Path, results: list[Result], roster) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "moodle.csv"
    report = export_moodle_csv(results, roster, out, item="Demo", feedback=True)
    rows = validate_moodle_csv(out.read_text(encoding="utf-8"), grade_columns=1, feedback=True)
    assert rows[0] == ["Email address", "Demo", "Demo (Feedback)"]
    assert [r[:2] for r in rows[1:]] == [["alice@uni.edu", "15"], ["bob@uni.edu", "9"], ["carol@uni.edu", "7.5"],
                                         ["dave@uni.edu", "0"]]
    assert rows[2][2].startswith("Total 9/15. Sigmoid gate: 3/6 (hidden tests: 1 of 2 passed).")
    assert "Not graded: the submission is empty" in rows[4][2]
    text = out.read_text()
    assert SECRET not in text and "values differ" not in text
    assert report.rows == 4 and "erin" in "\n".join(report.lines())


@pytest.mark.parametrize(("identity", "header", "first"), [("username", "Username", "aliddell"),
                                                           ("idnumber", "ID number", "1001")])
def test_other_identities_and_per_question_items(tmp_path: Path, results: list[Result], roster,  # type: ignore[no-untyped-def]
                                                 identity: str, header: str, first: str) -> None:
    out = tmp_path / "m.csv"
    export_moodle_csv(results, roster, out, identity=identity, item="HW1", per_question=True)
    rows = validate_moodle_csv(out.read_text(), grade_columns=3, feedback=False)
    assert rows[0] == [header, "HW1", "HW1: Sigmoid gate", "HW1: One Adam step"]
    assert rows[1] == [first, "15", "6", "9"] and rows[2][1:] == ["9", "3", "6"]


def test_identity_column_must_exist_and_be_filled(tmp_path: Path, results: list[Result]) -> None:
    out = tmp_path / "m.csv"
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,username\nalice,al\n"))
    with pytest.raises(RosterError, match="missing column 'email' \\(chosen with --identity email\\)"):
        export_moodle_csv(results, roster, out, item="X")
    roster = load_roster(write_roster(tmp_path / "r.csv", "student,email\nalice,a@x\nbob,\n"))
    with pytest.raises(RosterError, match="row 3 \\(student 'bob'\\) has no email"):
        export_moodle_csv(results, roster, out, item="X")
    with pytest.raises(ExportError, match="--identity must be one of"):
        export_moodle_csv(results, roster, out, identity="phone", item="X")
    assert not out.exists()
