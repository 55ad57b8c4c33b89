"""Rosters: validation with row numbers, and matching that never drops anyone silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.errors import RosterError, UnmatchedStudentsError
from autograder.exports.roster import load_roster, match
from autograder.results import Result
from tests.exports.factory import write_roster


def test_loads_with_flexible_headers_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffStudent ID , E-mail,Canvas_ID,Notes\nalice,alice@uni.edu,101,x\n\n".encode())
    roster = load_roster(path)
    assert roster.columns == ("student", "email", "canvas_id")
    (entry,) = roster.entries
    assert entry.student == "alice" and entry.get("email") == "alice@uni.edu" and entry.row == 2


@pytest.mark.parametrize(("text", "pattern"), [
    ("", "empty"),
    ("name,email\nAlice,a@x\n", "missing column 'student'"),
    ("student,email\n", "no students"),
    ("student,email\nalice,a@x\nAlice,b@x\n", "rows 2 and 3 are both for student 'Alice'"),
    ("student,email\nalice,a@x\nbob,A@X\n", "rows 2 and 3 have the same email"),
    ("student,email\nalice,a@x\n ,b@x\n", "row 3 has an empty student id"),
    ("student,email\nalice,a@x,extra\n", "row 2 has 3 fields but the header has 2"),
    ("student,Student\nalice,bob\n", "appears twice"),
])
def test_bad_rosters_are_refused_with_the_row(tmp_path: Path, text: str, pattern: str) -> None:
    path = write_roster(tmp_path / "r.csv", text)
    with pytest.raises(RosterError, match=pattern) as info:
        load_roster(path)
    assert str(path) in str(info.value)


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("student\nJos\xe9\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        load_roster(path)
    with pytest.raises(RosterError, match="cannot read"):
        load_roster(tmp_path / "missing.csv")


def test_match_lists_both_sides(roster, results: list[Result]) -> None:  # type: ignore[no-untyped-def]
    extra = Result(student="zoe", assignment="demo", status="graded", score=1, max_score=15, questions=())
    found = match(roster, [*results, extra])
    assert [e.student for e, _ in found.pairs] == ["alice", "bob", "carol", "dave"]
    assert found.not_on_roster == ("zoe",)
    assert [e.student for e in found.no_result] == ["erin"]
    lines = "\n".join(found.summary_lines())
    assert "zoe" in lines and "erin" in lines
    with pytest.raises(UnmatchedStudentsError, match="zoe.*erin"):
        match(roster, [*results, extra], strict=True)


def test_match_ignores_case(tmp_path: Path, results: list[Result]) -> None:
    roster = load_roster(write_roster(tmp_path / "r.csv", "student\nALICE\nBob\ncarol\ndave\n"))
    assert match(roster, results, strict=True).complete


def test_require_names_missing_columns(roster) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RosterError, match="missing column 'phone'"):
        roster.require(["phone"])
