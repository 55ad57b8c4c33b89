"""Which assignment a folder of submissions is for, guessed from file names without trusting them."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.errors import GradingError
from autograder.grading import choose_assignment
from autograder.grading.submissions import discover
from tests.hostile import make_deep_tree, remove_deep_tree
from tests.toycourse import make_course


def test_the_guess_reads_names_case_insensitively_and_survives_hostile_submissions(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path))
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "TOY.PY").write_text("x = 1\n")
    (subs / "bob.zip").write_bytes(b"PK\x03\x04 not really a zip")
    make_deep_tree(subs / "carol", sys.getrecursionlimit() + 200)
    try:
        assert choose_assignment(course, list(discover(subs).submissions), None).name == "toy"
        (subs / "alice" / "TOY.PY").unlink()
        with zipfile.ZipFile(subs / "dave.zip", "w") as z:
            z.writestr("notes.txt", "nothing to grade")
        with pytest.raises(GradingError, match="pass --assignment NAME"):
            choose_assignment(course, list(discover(subs).submissions), None)
    finally:
        remove_deep_tree(subs / "carol")
