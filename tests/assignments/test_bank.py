"""The tests are proven: references score full marks, stubs zero, every plausible bug loses points.

Each entry of `assignments/<name>/mutants.yaml` replaces one piece of text in the reference
solution. A `bug` must lose points on the hidden tests of its question; an `alternative` (a correct
but different implementation) must keep full marks everywhere.

Assignments in BATCHED train networks in their tests (torchnets) or have many small mutants (hw1):
a pytest session per mutant would cost minutes (or many seconds), so their bank runs in one pytest
session per question and kind, each mutant as a student: a question's bugs on its hidden tests, its
alternatives on its public and hidden tests (a mutant changes one question's code; the other
questions are the reference's), and every hidden test must be failed by some bug.
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
from autograder.grading.inprocess import run_inprocess, run_inprocess_batch

ROOT = Path(__file__).resolve().parents[2]
COURSE = CourseDir(ROOT)
NAMES = COURSE.assignment_names()
BATCHED = ("torchnets", "hw1")


def _mutants(kind: str, batched: bool = False) -> list:
    cases = []
    for name in NAMES:
        if (name in BATCHED) != batched:
            continue
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
    folder = tmp / f"submission-{entry['kind']}-{entry['question']}-{entry['name']}"
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
    students = ("alice", "bob", "s1234567")
    spec = COURSE.assignment(name).spec
    if name in BATCHED:
        outcomes = run_inprocess_batch(COURSE, COURSE.assignment(name), {s: COURSE.solutions_dir(name) for s in students},
                                       public=False)
        results = [build_result(spec, s, outcomes[s]) for s in students]
    else:
        results = [_grade(name, COURSE.solutions_dir(name), student=s, public=False)[1] for s in students]
    for result in results:
        assert result.score == result.max_score, [t for q in result.questions for t in q.tests if not t.passed]


@pytest.mark.parametrize("name", NAMES)
def test_released_stubs_score_zero(name: str) -> None:
    spec, result = _grade(name, COURSE.release_dir(name))
    assert result.score == 0
    causes = {t.cause for q in result.questions for t in q.tests}
    assert causes == {"not_implemented"}, causes


@pytest.mark.parametrize("name", NAMES)
def test_each_question_has_five_bugs(name: str) -> None:
    counts = Counter(p.values[1]["question"] for p in _mutants("bug", name in BATCHED) if p.values[0] == name)
    for q in COURSE.assignment(name).spec.questions:
        assert counts[q.id] >= 5, f"{name}/{q.id} has only {counts[q.id]} plausible bugs in mutants.yaml"


@pytest.fixture(scope="module")
def batched_bank(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """(assignment, kind, mutant name) -> Result, for BATCHED assignments, in a few pytest sessions."""
    results = {}
    for name in BATCHED:
        assignment = COURSE.assignment(name)
        tmp = tmp_path_factory.mktemp(f"bank-{name}")
        entries_of = {kind: [p.values[1] for p in _mutants(kind, batched=True) if p.values[0] == name]
                      for kind in ("bug", "alternative")}
        runs = []
        for kind, public in (("bug", False), ("alternative", True)):
            for q in sorted({e["question"] for e in entries_of[kind]}):
                runs.append((frozenset({q}), public, [e for e in entries_of[kind] if e["question"] == q]))
        for questions, public, entries in runs:
            folders = {f"m{i}": _apply(name, e, tmp) for i, e in enumerate(entries)}
            outcomes = run_inprocess_batch(COURSE, assignment, folders, public=public, questions=questions)
            for sid, e in zip(folders, entries):
                results[(name, e["kind"], e["name"])] = build_result(assignment.spec, sid, outcomes[sid])
    return results


def _check_bug(entry: dict, result) -> None:
    q = result.question(entry["question"])
    assert q is not None and q.tests, f"no hidden test of {entry['question']} ran for mutant {entry['name']}"
    assert q.score < q.max_score, f"mutant {entry['name']} keeps full marks on the hidden tests of {q.id}"
    failed = [t for t in q.tests if not t.passed]  # only hidden tests ran (public=False)
    assert failed and all(t.message for t in failed), "a failed hidden test says what failed"
    for t in failed:
        assert not re.search(r"(expected|received) -?\d", t.message), f"hidden message leaks values: {t.message}"


def _check_alternative(entry: dict, result, question_only: bool = False) -> None:
    failed = [(t.name, t.message) for q in result.questions for t in q.tests if not t.passed]
    assert not failed, f"alternative {entry['name']} loses points: {failed}"
    q = result.question(entry["question"])
    assert q.tests and q.score == q.max_score
    if not question_only:
        assert result.score == result.max_score


@pytest.mark.parametrize(("name", "entry"), _mutants("bug"))
def test_bug_loses_points_on_hidden_tests(name: str, entry: dict, tmp_path: Path) -> None:
    _check_bug(entry, _grade(name, _apply(name, entry, tmp_path), public=False)[1])


@pytest.mark.parametrize(("name", "entry"), _mutants("alternative"))
def test_correct_alternative_keeps_full_marks(name: str, entry: dict, tmp_path: Path) -> None:
    _check_alternative(entry, _grade(name, _apply(name, entry, tmp_path))[1])


@pytest.mark.parametrize(("name", "entry"), _mutants("bug", batched=True))
def test_batched_bug_loses_points_on_hidden_tests(name: str, entry: dict, batched_bank: dict) -> None:
    _check_bug(entry, batched_bank[(name, "bug", entry["name"])])


@pytest.mark.parametrize(("name", "entry"), _mutants("alternative", batched=True))
def test_batched_alternative_keeps_full_marks(name: str, entry: dict, batched_bank: dict) -> None:
    _check_alternative(entry, batched_bank[(name, "alternative", entry["name"])], question_only=True)


@pytest.mark.parametrize("name", BATCHED)
def test_every_hidden_test_catches_a_bug(name: str, batched_bank: dict) -> None:
    """A hidden test that no plausible bug fails proves nothing: each one must catch at least one."""
    results = {key: r for key, r in batched_bank.items() if key[0] == name}
    hidden = {t.name for (_, kind, _), r in results.items() if kind == "bug"
              for q in r.questions for t in q.tests if t.hidden}  # each question's bugs ran all its hidden tests
    caught = {t.name for (_, kind, _), r in results.items() if kind == "bug"
              for q in r.questions for t in q.tests if t.hidden and not t.passed}
    assert hidden and hidden <= caught, f"hidden tests no bug fails: {sorted(hidden - caught)}"


def _hinted(kind: str) -> list:
    return [p for p in _mutants(kind) if "hint" in p.values[1] or "not_hint" in p.values[1]]


@pytest.mark.parametrize(("name", "entry"), _hinted("bug"))
def test_hints_name_the_check_that_failed(name: str, entry: dict, tmp_path: Path) -> None:
    """A mutant's `hint` must appear in a failed test's message of its question and `not_hint` in none:
    hints belong to the check that failed (a wrong state is not blamed on the update)."""
    spec, result = _grade(name, _apply(name, entry, tmp_path))
    q = result.question(entry["question"])
    assert q is not None
    messages = [t.message for t in q.tests if not t.passed]
    assert messages, f"mutant {entry['name']} fails no test of {q.id}"
    if "hint" in entry:
        assert any(entry["hint"] in m for m in messages), f"no message has {entry['hint']!r}: {messages}"
    if "not_hint" in entry:
        wrong = [m for m in messages if entry["not_hint"] in m]
        assert not wrong, f"{entry['name']}: a hint points at the wrong cause: {wrong[0]}"
