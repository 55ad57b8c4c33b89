"""The 20 bundled hw1 submissions score what the homework's expected.json says.

examples/hw1 is the homework existing autograders were timed on (s01-s12 correct variants, s13-s20
one bug each). Its six tests are hw1's public tests, worth the same seven points, so each public
score must equal expected.json's `py` score; the hidden tests must agree: full marks for the correct
variants, and each bug loses hidden points on the question whose public test it fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.grading.inprocess import run_inprocess_batch
from autograder.results import build_result

ROOT = Path(__file__).resolve().parents[2]
HW1 = ROOT / "examples" / "hw1"
EXPECTED = json.loads((HW1 / "expected.json").read_text())


@pytest.fixture(scope="module")
def results() -> dict:
    course = CourseDir(ROOT)
    assignment = course.assignment("hw1")
    folders = {p.name: p for p in sorted((HW1 / "submissions").iterdir()) if p.is_dir()}
    outcomes = run_inprocess_batch(course, assignment, folders)
    return {sid: build_result(assignment.spec, sid, o) for sid, o in outcomes.items()}


def _public(question) -> float:
    return sum(t.score for t in question.tests if not t.hidden)


def test_public_scores_match_expected(results: dict) -> None:
    assert set(results) == set(EXPECTED["py"])
    spec = CourseDir(ROOT).assignment("hw1").spec
    assert sum(q.public_points for q in spec.questions) == EXPECTED["total"]
    got = {sid: sum(_public(q) for q in r.questions) for sid, r in results.items()}
    assert got == pytest.approx(EXPECTED["py"])


def test_hidden_scores_agree_with_public(results: dict) -> None:
    for sid, r in results.items():
        for q in r.questions:
            public_full = all(t.passed for t in q.tests if not t.hidden)
            hidden_full = all(t.passed for t in q.tests if t.hidden)
            assert public_full == hidden_full, f"{sid}/{q.id}: public {'passes' if public_full else 'fails'}, hidden disagrees"
        if EXPECTED["py"][sid] == EXPECTED["total"]:
            assert r.score == r.max_score, sid
