"""The tests are proven: references score full marks, stubs zero, every plausible bug loses points.

Each entry of `assignments/<name>/mutants.yaml` replaces one piece of text in the reference
solution. A `bug` must lose points on the hidden tests of its question; an `alternative` (a correct
but different implementation) must keep full marks everywhere.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from autograder.course import CourseDir
from autograder.results import build_result
from autograder.grading.inprocess import run_inprocess

ROOT = Path(__file__).resolve().parents[2]
COURSE = CourseDir(ROOT)
NAMES = COURSE.assignment_names()


def _mutants(kind: str) -> list:
    cases = []
    for name in NAMES:
        path = COURSE.mutants_file(name)
        entries = yaml.safe_load(path.read_text()) if path.exists() else []
        for entry in entries or []:
            if entry["kind"] == kind:
                cases.append(pytest.param(name, entry, id=f"{name}-{entry['question']}-{entry['name']}"))
    return cases


def _grade(name: str, folder: Path, student: str = "bank", **kw):
    assignment = COURSE.assignment(name)
    run = run_inprocess(COURSE, assignment, folder, student_id=student, **kw)
    return assignment.spec, build_result(assignment.spec, student, run.outcomes)


def _apply(name: str, entry: dict, tmp: Path) -> Path:
    folder = tmp / "submission"
    shutil.copytree(COURSE.solutions_dir(name), folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / entry["file"]
    source = target.read_text()
    count = source.count(entry["replace"])
    assert count == 1, f"mutant {entry['name']}: the text to replace occurs {count} times in {entry['file']}"
    target.write_text(source.replace(entry["replace"], entry["with"]))
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_reference_scores_full_marks(name: str) -> None:
    spec, result = _grade(name, COURSE.solutions_dir(name))
    for q in result.questions:
        failed = [(t.name, t.message) for t in q.tests if not t.passed]
        assert not failed, f"{name}/{q.id}: the reference fails {failed}"
        assert q.score == pytest.approx(spec.question(q.id).points), f"{name}/{q.id}: tests missing for a part"


@pytest.mark.parametrize("name", NAMES)
def test_reference_full_marks_for_other_students(name: str) -> None:
    """Randomized hidden inputs differ per student; the reference passes every variant."""
    for student in ("alice", "bob", "s1234567"):
        _, result = _grade(name, COURSE.solutions_dir(name), student=student, public=False)
        assert result.score == result.max_score, [t for q in result.questions for t in q.tests if not t.passed]


@pytest.mark.parametrize("name", NAMES)
def test_released_stubs_score_zero(name: str) -> None:
    spec, result = _grade(name, COURSE.release_dir(name))
    assert result.score == 0
    causes = {t.cause for q in result.questions for t in q.tests}
    assert causes == {"not_implemented"}, causes


@pytest.mark.parametrize("name", NAMES)
def test_each_question_has_five_bugs(name: str) -> None:
    counts = Counter(p.values[1]["question"] for p in _mutants("bug") if p.values[0] == name)
    for q in COURSE.assignment(name).spec.questions:
        assert counts[q.id] >= 5, f"{name}/{q.id} has only {counts[q.id]} plausible bugs in mutants.yaml"


@pytest.mark.parametrize(("name", "entry"), _mutants("bug"))
def test_bug_loses_points_on_hidden_tests(name: str, entry: dict, tmp_path: Path) -> None:
    spec, result = _grade(name, _apply(name, entry, tmp_path), public=False)
    q = result.question(entry["question"])
    assert q.score < q.max_score, f"mutant {entry['name']} keeps full marks on the hidden tests of {q.id}"
    for t in q.tests:
        if not t.passed:
            assert t.hidden
            assert not re.search(r"(expected|received) -?\d", t.message), f"hidden message leaks values: {t.message}"


@pytest.mark.parametrize(("name", "entry"), _mutants("alternative"))
def test_correct_alternative_keeps_full_marks(name: str, entry: dict, tmp_path: Path) -> None:
    spec, result = _grade(name, _apply(name, entry, tmp_path))
    failed = [(t.name, t.message) for q in result.questions for t in q.tests if not t.passed]
    assert not failed, f"alternative {entry['name']} loses points: {failed}"
