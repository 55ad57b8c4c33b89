"""The README's main job: grading the bundled examples gives full, partial and broken results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.exports.run_files import write_run_files
from autograder.grading import GradeOptions, grade

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")


def test_examples_grade_as_documented(course: CourseDir, tmp_path: Path) -> None:
    report = grade(course, course.root / "examples" / "backprop", GradeOptions(out=tmp_path))
    assert not report.grader_errors
    results = {r.student: r for r in report.results}
    assert set(results) == {"alice", "bob", "carol"}
    assert results["alice"].score == results["alice"].max_score == 44
    bob = {q.id: q for q in results["bob"].questions}
    assert 0 < results["bob"].score < 44
    for qid in ("sigmoid", "adam_step", "autodiff"):
        assert bob[qid].score < bob[qid].max_score, qid
    assert bob["momentum"].score == bob["momentum"].max_score
    carol = {q.id: q for q in results["carol"].questions}
    causes = {qid: {t.cause for t in q.tests} for qid, q in carol.items()}
    assert causes["sigmoid"] == {"import_error"} and causes["autodiff"] == {"import_error"}
    assert causes["adam_step"] == {"timeout"}
    assert carol["momentum"].score == carol["momentum"].max_score, "a hang costs only the questions it touches"
    data = json.loads((tmp_path / "carol.json").read_text())
    assert "SyntaxError at line" in data["questions"][0]["tests"][0]["message"]
    assert write_run_files(report) == 1  # grades.csv and the gradebook come from the results in memory
    assert (tmp_path / "grades.csv").read_text().count("\n") == 4
