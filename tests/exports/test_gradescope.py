"""Gradescope: results.json against the published specification, metadata, the zip, run_autograder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from autograder.course import CourseDir
from autograder.errors import GradescopeError, LayoutError
from autograder.exports.gradescope import to_gradescope
from autograder.exports.gradescope_bundle import build_autograder_zip, student_from_metadata
from tests.exports.factory import QUESTIONS, SECRET, result

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}


def validate_gradescope(data: dict[str, Any], hidden_scores: str = "visible") -> None:
    """The autograder specification's results.json, plus the policy's rule: with `visible` the total
    stays visible (no points on a test students cannot see); with `until_published` students see no
    hidden points and no total before publication."""
    assert set(data) <= TOP_KEYS
    assert isinstance(data["score"], float) and isinstance(data["execution_time"], int)
    assert data["output_format"] in FORMATS and data["visibility"] in VISIBILITY
    assert data["stdout_visibility"] in VISIBILITY
    numbers = []
    for t in data["tests"]:
        assert set(t) <= TEST_KEYS and {"name", "number", "score", "max_score", "status", "visibility"} <= set(t)
        assert isinstance(t["number"], str) and all(part.isdigit() for part in t["number"].split("."))
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITY
        assert t["output_format"] in FORMATS and all(isinstance(tag, str) for tag in t["tags"])
        assert 0 <= t["score"] <= t["max_score"] or t["max_score"] == 0 == t["score"]
        if t["max_score"] > 0 and hidden_scores == "visible":  # "if test cases are hidden, students will
            assert t["visibility"] == "visible", f"{t['name']} carries points but is not visible"  # not see their total"
        if "hidden" in t.get("tags", ()) and hidden_scores == "until_published":
            assert t["visibility"] != "visible", f"{t['name']} shows hidden points before publication"
        numbers.append(tuple(int(p) for p in t["number"].split(".")))
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-6
    json.dumps(data, allow_nan=False)


def test_results_json_follows_the_spec_and_keeps_the_total_visible() -> None:
    data = to_gradescope(result("bob", {"sigmoid/public/1", "sigmoid/hidden/0", "adam/hidden/1"}), QUESTIONS,
                         hidden_scores="visible")
    validate_gradescope(data)
    assert data["score"] == 9.0 and data["visibility"] == "visible" and data["execution_time"] == 2
    by_name = {t["name"]: t for t in data["tests"]}
    failed = by_name["Sigmoid gate: test_sigmoid_1"]
    assert failed["number"] == "1.2" and failed["status"] == "failed" and "received 7" in failed["output"]
    hidden_sigmoid = by_name["Sigmoid gate: hidden tests"]  # hidden_visibility: after_published
    assert hidden_sigmoid["visibility"] == "after_published" and hidden_sigmoid["max_score"] == 0
    assert hidden_sigmoid["status"] == "failed" and "1 of 2 passed, 2 / 4 points" in hidden_sigmoid["output"]
    hidden_adam = by_name["One Adam step: hidden tests"]  # hidden_visibility: visible -> carries its points
    assert hidden_adam["visibility"] == "visible" and (hidden_adam["score"], hidden_adam["max_score"]) == (3.0, 6.0)
    pool = by_name["Hidden tests (all questions)"]
    assert (pool["score"], pool["max_score"], pool["visibility"], pool["number"]) == (2.0, 4.0, "visible", "3")
    assert "Sigmoid gate" in pool["output"] and "published" in pool["output"]
    text = json.dumps(data)
    assert SECRET not in text and "hidden input" not in text and "debug print" not in text


def test_questions_as_dicts_and_default_visibility() -> None:
    data = to_gradescope(result("alice"), [{"id": "adam", "title": "Adam!", "hidden_visibility": "after_due_date"}],
                         hidden_scores="visible")
    validate_gradescope(data)
    assert data["tests"][0]["name"].startswith("Adam!")  # the spec's order first
    assert {t["visibility"] for t in data["tests"] if t["name"].endswith("hidden tests")} == {"after_due_date",
                                                                                             "after_published"}
    assert "after the due date" in data["tests"][-1]["output"] and data["score"] == 15.0
    with pytest.raises(GradescopeError, match="hidden_visibility 'soon'"):
        to_gradescope(result("alice"), [{"id": "adam", "hidden_visibility": "soon"}])


def test_error_result() -> None:
    data = to_gradescope(result("dave", status="error", error="the submission is empty"), QUESTIONS,
                         hidden_scores="visible")
    validate_gradescope(data)
    assert data["score"] == 0.0 and "could not be graded: the submission is empty" in data["output"]
    assert [t["max_score"] for t in data["tests"]] == [6.0, 9.0]


def _metadata(path: Path, users: Any) -> Path:
    path.write_text(json.dumps({"id": 1, "assignment": {"title": "Demo"}, "users": users}))
    return path


def test_student_from_metadata(tmp_path: Path) -> None:
    path = _metadata(tmp_path / "m.json", [{"email": "alice@uni.edu", "id": 1234, "name": "A"},
                                           {"email": "bob@uni.edu", "id": 99, "name": "B"}])
    assert student_from_metadata(path) == "alice@uni.edu"
    assert student_from_metadata(path, "id") == "1234"
    with pytest.raises(GradescopeError, match="must be one of"):
        student_from_metadata(path, "name")
    with pytest.raises(GradescopeError, match="no 'users' list"):
        student_from_metadata(_metadata(tmp_path / "m.json", []))
    with pytest.raises(GradescopeError, match="not usable as a student id"):
        student_from_metadata(_metadata(tmp_path / "m.json", [{"email": "a b/../c", "id": 1}]))
    with pytest.raises(GradescopeError, match="cannot read"):
        student_from_metadata(tmp_path / "missing.json")


def _toy_course(root: Path) -> CourseDir:
    from tests.toycourse import make_course

    return CourseDir(make_course(root))


def test_zip_holds_scripts_tests_solutions_and_package(tmp_path: Path) -> None:
    course = _toy_course(tmp_path / "course")
    out = build_autograder_zip(course, "toy", tmp_path / "autograder.zip", student_field="id")
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "gradescope.json", "course/assignments/toy/assignment.yaml",
                "course/assignments/toy/tests/public/test_toy.py", "course/assignments/toy/tests/hidden/test_toy_hidden.py",
                "course/solutions/toy/toy.py", "course/solutions/toy/extra.py", "package/pyproject.toml",
                "package/autograder/exports/gradescope_bundle.py", "package/gradekit/plugin.py"} <= names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        for script in ("setup.sh", "run_autograder"):
            assert (z.getinfo(script).external_attr >> 16) & 0o111, f"{script} must be executable"
        assert json.loads(z.read("gradescope.json")) == {"assignment": "toy", "student_field": "id", "unsafe": False}
        assert z.read("run_autograder").startswith(b"#!/usr/bin/env bash")
    again = build_autograder_zip(course, "toy", tmp_path / "again.zip", student_field="id")
    assert again.read_bytes() == out.read_bytes(), "the same inputs give the same zip"


def test_zip_bad_inputs_leave_no_file(tmp_path: Path) -> None:
    course = _toy_course(tmp_path / "course")
    with pytest.raises(LayoutError, match="no assignment 'nope'"):
        build_autograder_zip(course, "nope", tmp_path / "a.zip")
    shutil.rmtree(course.root / "solutions")
    with pytest.raises(GradescopeError, match="no reference solutions"):
        build_autograder_zip(course, "toy", tmp_path / "a.zip")
    assert not (tmp_path / "a.zip").exists()


def _lay_out(tmp_path: Path, zip_path: Path, metadata_users: Any, files: dict[str, str]) -> Path:
    """Gradescope's /autograder tree: source/ (the unzipped bundle), submission/, metadata, results/."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    _metadata(root / "submission_metadata.json", metadata_users)
    (root / "results").mkdir()
    return root


def _run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    env.pop("AUTOGRADER_COURSE", None)
    return subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_run_autograder_writes_a_failure_result_when_it_cannot_start(tmp_path: Path) -> None:
    course = _toy_course(tmp_path / "course")
    zip_path = build_autograder_zip(course, "toy", tmp_path / "autograder.zip")
    root = _lay_out(tmp_path, zip_path, [], {"toy.py": "x = 1\n"})  # no users in the metadata
    proc = _run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0.0 and "course staff" in data["output"]
    assert "no 'users' list" in proc.stdout  # the reason goes to the instructors' log


def test_run_autograder_grades_inside_the_gradescope_layout(tmp_path: Path) -> None:
    from gradekit.plugin import seed_for
    from tests.toycourse import SOLUTION_EXTRA, SOLUTION_TOY

    course = _toy_course(tmp_path / "course")
    # Isolation needs root (namespaces); elsewhere the bundle is built for unisolated grading.
    zip_path = build_autograder_zip(course, "toy", tmp_path / "autograder.zip", unsafe=os.geteuid() != 0)
    buggy = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)",
                                 "return 2 * np.asarray(x, dtype=float) + (np.abs(x) > 1)")
    root = _lay_out(tmp_path, zip_path, [{"email": "bob@uni.edu", "id": 1234, "name": "Bob"}],
                    {"toy.py": buggy, "extra.py": SOLUTION_EXTRA})
    proc = _run_autograder(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(data, "until_published")  # the toy course keeps the default policy
    assert data["score"] == 2.5, proc.stdout
    assert "shown when grades are published" in data["output"] and "2.5" not in data["output"]
    full = json.loads((root / "results" / "autograder_result.json").read_text())
    assert full["student"] == "bob@uni.edu"
    assert full["seed"] == seed_for("bob@uni.edu", "toy", ""), "the same seed as a local run for this student"


def test_hidden_scores_until_published_reveal_nothing_hidden_before_publication() -> None:
    bob = result("bob", {"sigmoid/public/1", "sigmoid/hidden/0", "adam/hidden/1"})
    shown = to_gradescope(bob, QUESTIONS, hidden_scores="visible")
    kept = to_gradescope(bob, QUESTIONS, hidden_scores="until_published")
    validate_gradescope(kept, "until_published")
    assert kept["score"] == shown["score"] == 9.0  # the same grade, published later
    hidden = [t for t in kept["tests"] if "hidden" in t["tags"]]
    assert [(t["score"], t["max_score"], t["visibility"]) for t in hidden] == [
        (2.0, 4.0, "after_published"), (3.0, 6.0, "after_published")]  # each carries its own points
    visible = [t for t in kept["tests"] if t["visibility"] == "visible"]
    assert sum(t["score"] for t in visible) == 4.0  # the public points only
    assert "9" not in kept["output"] and "Public tests: 4 / 5 points" in kept["output"]
    with pytest.raises(GradescopeError, match="hidden_scores 'soon'"):
        to_gradescope(bob, QUESTIONS, hidden_scores="soon")
