"""The README's main job: grading the bundled examples gives full, partial and broken results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.exports.run_files import write_run_files
from autograder.grading import GradeOptions, grade

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")


@needs_root
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


def test_torchnets_examples_grade_as_documented(course: CourseDir, tmp_path: Path) -> None:
    """Full marks, three bugs that each cost their question, and a broken submission whose import
    failures and endless loop cost only the questions they touch (a fresh worker serves the rest)."""
    report = grade(course, course.root / "examples" / "torchnets", GradeOptions(out=tmp_path, assignment="torchnets"))
    assert not report.grader_errors
    results = {r.student: r for r in report.results}
    assert results["alice"].score == results["alice"].max_score == 38
    assert "landlock" in results["alice"].protections and "seccomp" in results["alice"].protections
    bob = {q.id: q for q in results["bob"].questions}
    for qid in ("alexnet_mnist", "crop_dataset", "train_epoch"):
        assert bob[qid].score < bob[qid].max_score, qid
    assert bob["inception"].score == bob["inception"].max_score
    carol = {q.id: q for q in results["carol"].questions}
    causes = {qid: {t.cause for t in q.tests} for qid, q in carol.items()}
    assert causes["alexnet_mnist"] == causes["inception"] == causes["crop_dataset"] == {"import_error"}
    assert causes["five_crop_eval"] == {"timeout"}
    later = [t.message for t in carol["five_crop_eval"].tests[1:]]
    assert later and all("earlier test" in m and "time limit" in m for m in later)
    for qid in ("train_epoch", "memorization"):
        assert carol[qid].score == carol[qid].max_score, f"the timeout must not cost {qid}"


def test_examples_are_up_to_date_with_solutions_and_mutants(course: CourseDir) -> None:
    """examples/ is generated (examples/generate.py) like release/, and checked the same way."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("examples_generate", course.root / "examples" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.stale() == [], "examples/ is out of date: run `python examples/generate.py`"
