"""Result JSON fixtures for the after-grading tests, written the way `autograder grade` writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from gradekit.spec import AssignmentSpec, QuestionSpec

ASSIGNMENT = "demo"
SECRET = "SECRET-7391"  # appears only in hidden test names/messages and student output: must never reach students
QUESTIONS = (
    QuestionSpec(id="sigmoid", title="Sigmoid gate", file="bp.py", public_points=2, hidden_points=4,
                 hidden_visibility="after_published"),
    QuestionSpec(id="adam", title="One Adam step", file="optim.py", public_points=3, hidden_points=6,
                 hidden_visibility="visible"),
)
SPEC = AssignmentSpec(name=ASSIGNMENT, title="Demo: backprop & optimizers", files=("bp.py", "optim.py"),
                      questions=QUESTIONS)

ASSIGNMENT_YAML = f"""\
name: {ASSIGNMENT}
title: "{SPEC.title}"
files: [bp.py, optim.py]
hidden_scores: visible
questions:
  - id: sigmoid
    title: "Sigmoid gate"
    file: bp.py
    points: {{public: 2, hidden: 4}}
  - id: adam
    title: "One Adam step"
    file: optim.py
    points: {{public: 3, hidden: 6}}
    hidden_visibility: visible
"""


def _test(qid: str, kind: str, k: int, points: float, failed: bool, cause: str) -> dict[str, Any]:
    hidden = kind == "hidden"
    name = (f"hidden/test_demo_hidden.py::test_{qid}_random[x={SECRET}{k}]" if hidden
            else f"public/test_demo.py::test_{qid}_{k}")
    message = ""
    if failed:
        message = (f"{qid} on hidden input: values differ ({SECRET})" if hidden
                   else f"{qid}(x): values differ beyond the tolerance\n  expected 6, received 7 <b>")
    return {"name": name, "hidden": hidden, "passed": not failed, "score": 0.0 if failed else points,
            "max_score": points, "message": message, "cause": cause if failed else "passed"}


def result(student: str, fails: Iterable[str] = (), *, cause: str = "wrong_answer", status: str = "graded",
           error: str | None = None, sha: str | None = None, version: str = "0.1.0",
           assignment: str = ASSIGNMENT) -> dict[str, Any]:
    """A result dict; `fails` holds keys like 'sigmoid/public/1' or 'adam/hidden/0'."""
    fails = set(fails)
    questions = []
    for q in QUESTIONS:
        if status == "error":
            questions.append({"id": q.id, "title": q.title, "score": 0.0, "max_score": q.points, "tests": []})
            continue
        tests = [_test(q.id, kind, k, pts / 2, f"{q.id}/{kind}/{k}" in fails, cause)
                 for kind, pts in (("public", q.public_points), ("hidden", q.hidden_points)) for k in (0, 1)]
        questions.append({"id": q.id, "title": q.title, "score": sum(t["score"] for t in tests),
                          "max_score": q.points, "tests": tests})
    failed = [t for q in questions for t in q["tests"] if not t["passed"]]
    causes: dict[str, int] = {}
    for t in failed:
        causes[t["cause"]] = causes.get(t["cause"], 0) + 1
    if status == "error":
        causes = {"submission_error": 1}
    return {
        "schema_version": 1, "student": student, "assignment": assignment, "status": status, "error": error,
        "score": sum(q["score"] for q in questions), "max_score": sum(q.points for q in QUESTIONS),
        "questions": questions, "causes": causes, "protections": ["landlock"],
        "output": f"debug print: {SECRET}", "submission_sha256": sha or (student.encode().hex() * 64)[:64],
        "seed": 42, "grader_version": version, "graded_at": "2026-11-22T21:00:00+00:00", "duration_s": 1.6,
    }


def write_results(folder: Path, results: Iterable[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        (folder / f"{r['student']}.json").write_text(json.dumps(r, indent=2))
    return folder


def class_results() -> list[dict[str, Any]]:
    """alice: full marks; bob: fails public and hidden tests; carol: timeouts; dave: could not be graded."""
    return [
        result("alice"),
        result("bob", {"sigmoid/public/1", "sigmoid/hidden/0", "adam/hidden/1"}),
        result("carol", {"adam/public/0", "adam/hidden/0", "adam/hidden/1"}, cause="timeout"),
        result("dave", status="error", error="the submission is empty; it should contain bp.py, optim.py"),
    ]


ROSTER = """\
Student,Name,Canvas ID,SIS User ID,SIS Login ID,Section,Email,Username,ID number
alice,"Liddell, Alice",101,S001,aliddell,Sec 1,alice@uni.edu,aliddell,1001
bob,"Builder, Bob",102,S002,bbuilder,Sec 1,bob@uni.edu,bbuilder,1002
carol,"Carol, Ann",103,S003,ccarol,Sec 2,carol@uni.edu,ccarol,1003
dave,"Dave, D",104,S004,ddave,Sec 2,dave@uni.edu,ddave,1004
erin,"Erin, E",105,S005,eerin,Sec 2,erin@uni.edu,eerin,1005
"""


def write_roster(path: Path, text: str = ROSTER) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_course(root: Path) -> Path:
    """A course folder with the demo assignment.yaml (for titles and hidden visibility)."""
    folder = root / "assignments" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.yaml").write_text(ASSIGNMENT_YAML)
    return root
