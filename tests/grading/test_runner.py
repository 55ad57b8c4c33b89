"""The runner's pytest sessions in a long-lived process: each course gets its own tests, collected once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.errors import TestsBroken
from autograder.grading.inprocess import run_inprocess_batch
from autograder.grading.runner import preloaded_tests
from tests.toycourse import make_course, submission

UNCOLLECTABLE = "import no_such_module_for_the_tests\n"
NAMES = ("public.test_toy", "hidden.test_toy_hidden")


def _toy_modules() -> dict[str, str | None]:
    return {name: getattr(sys.modules.get(name), "__file__", None) for name in NAMES}


def test_tests_of_another_course_with_the_same_module_names_are_never_reused(tmp_path: Path) -> None:
    first = CourseDir(make_course(tmp_path / "first"))
    folders = {"alice": submission(tmp_path / "subs" / "alice")}
    run_inprocess_batch(first, first.assignment("toy"), folders)  # leaves its test modules behind, as pytest does
    second = CourseDir(make_course(tmp_path / "second"))
    (second.assignments_dir / "toy/tests/hidden/test_toy_hidden.py").write_text(UNCOLLECTABLE)
    with pytest.raises(TestsBroken, match="cannot collect"):  # not the first course's hidden tests, silently
        run_inprocess_batch(second, second.assignment("toy"), folders)


def test_preloaded_tests_are_there_in_the_block_and_forgotten_after(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path / "course"))
    tests = course.assignments_dir / "toy" / "tests"
    with preloaded_tests(course, course.assignment("toy")):
        assert _toy_modules() == {"public.test_toy": str(tests / "public/test_toy.py"),
                                  "hidden.test_toy_hidden": str(tests / "hidden/test_toy_hidden.py")}
    assert _toy_modules() == {name: None for name in NAMES}


def test_a_test_module_that_cannot_be_imported_is_not_kept_half_made(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path / "course"))
    (course.assignments_dir / "toy/tests/hidden/test_toy_hidden.py").write_text(UNCOLLECTABLE)
    with preloaded_tests(course, course.assignment("toy")):
        # a runner forked here imports it again, and so reports why it cannot be collected
        assert _toy_modules()["hidden.test_toy_hidden"] is None
