"""The head's side of `grade --ray`, without Ray: the install message, what is shipped, and the
bookkeeping that keeps every student graded and written exactly once when nodes are lost.

A fake Ray stands in for the cluster here (its actors replay scripted streams); the real two-node
cluster is in test_cluster_ray.py.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.course import ENV_COURSE, CourseDir
from autograder.errors import GradingError
from autograder.grading import cluster as cluster_module
from autograder.grading.cluster import MAX_ATTEMPTS, RayCluster, _Node, course_files, import_ray
from autograder.grading.notebook_route import notebook_route
from autograder.results import Result, error_result
from autograder.store import read_result, to_dict
from tests.toycourse import make_course, submission


class RayError(Exception):
    pass


class _Exceptions:
    RayError = RayError


class FakeStream:
    """An ObjectRefGenerator: the actor's lines, or RayError where its node is lost."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __next__(self) -> Any:
        if not self.items:
            raise StopIteration
        item = self.items.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


class FakeRay:
    exceptions = _Exceptions

    def __init__(self) -> None:
        self.killed: list[str] = []

    def put(self, value: Any) -> Any:
        return value

    def get(self, value: Any) -> Any:
        return value

    def wait(self, refs: list[Any], num_returns: int, timeout: float) -> tuple[list[Any], list[Any]]:
        return refs[:1], refs[1:]

    def kill(self, actor: Any) -> None:
        self.killed.append(actor.name)


Script = Callable[[list[str]], list[Any]]  # the students of a batch -> what the actor's stream yields


class FakeActor:
    def __init__(self, name: str, script: Script) -> None:
        self.name = name
        self.script = script
        self.batches: list[list[str]] = []
        self.files: dict[str, dict[str, bytes]] = {}  # student -> the files the head sent
        self.grade = self

    def remote(self, payload: list[tuple[str, dict[str, bytes]]]) -> FakeStream:
        students = [student for student, _ in payload]
        self.files.update(dict(payload))
        self.batches.append(students)
        return FakeStream(self.script(students))


@pytest.fixture()
def toy(tmp_path: Path) -> tuple[CourseDir, Any]:
    course = CourseDir(make_course(tmp_path / "course"))
    return course, course.assignment("toy")


def _line(assignment: Any, student: str) -> str:
    graded = dataclasses.replace(error_result(assignment.spec, student, "x"), status="graded", error=None, score=1.0)
    return json.dumps({"result": to_dict(graded)})


def _grades_all(assignment: Any) -> Script:
    return lambda students: [_line(assignment, s) for s in students] + [json.dumps({"done": True, "broken": []})]


def _run(toy, tmp_path: Path, scripts: dict[str, Script], students: list[str],  # type: ignore[no-untyped-def]
         notebooks: dict[str, bytes] | None = None) -> tuple[list[Result], list[str], list[str], dict[str, FakeActor], Counter[str]]:
    course, assignment = toy
    subs = tmp_path / "subs"
    for student in students:
        submission(subs / student)
    for student, data in (notebooks or {}).items():
        (subs / f"{student}.ipynb").write_bytes(data)
    from autograder.grading.submissions import discover

    ray = FakeRay()
    actors = {name: FakeActor(name, script) for name, script in scripts.items()}
    nodes = [_Node(name, f"10.0.0.{i}", actor, jobs=1, protections=("process",), isolation="sandbox: process")
             for i, (name, actor) in enumerate(actors.items())]
    cluster = RayCluster(ray, "fake:6379", assignment, nodes, [], owns_connection=False,
                         route=notebook_route(course, assignment.spec))
    out = tmp_path / "out"
    out.mkdir()
    errors: list[str] = []
    rerun: list[str] = []
    written: Counter[str] = Counter()
    real_write = cluster_module.write_result

    def counting(path: Path, result: Result) -> Path:
        written[result.student] += 1
        return real_write(path, result)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cluster_module, "write_result", counting)
        broken: list[str] = []
        results = list(cluster.run(list(discover(subs).submissions), out, errors, broken, rerun))
    return results, errors, rerun, actors, written


def test_without_ray_the_error_says_how_to_install_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(GradingError, match=r"pip install 'dl-autograder\[cluster\]'"):
        import_ray()


def test_cli_without_ray_exits_2_naming_the_extra(course: CourseDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setenv(ENV_COURSE, str(course.root))
    result = CliRunner().invoke(main, ["grade", str(course.root / "examples" / "backprop"), "--ray", "auto",
                                       "--out", str(tmp_path / "grades")])
    assert result.exit_code == 2, result.output
    assert "dl-autograder[cluster]" in result.output
    assert not list((tmp_path / "grades").glob("*.json")), "nothing graded, nothing written"


def test_course_files_hold_what_a_node_needs_and_nothing_else(toy) -> None:  # type: ignore[no-untyped-def]
    course, assignment = toy
    (course.root / "solutions" / "toy" / "__pycache__").mkdir()
    (course.root / "solutions" / "toy" / "__pycache__" / "toy.cpython-311.pyc").write_bytes(b"\0")
    (course.root / "release").mkdir()
    (course.root / "release" / "stale.py").write_text("x = 1\n")
    files = course_files(course, assignment)
    assert set(files) == {
        "assignments/toy/assignment.yaml", "assignments/toy/README.md", "assignments/toy/tests/public/test_toy.py",
        "assignments/toy/tests/hidden/test_toy_hidden.py", "solutions/toy/toy.py", "solutions/toy/extra.py"}
    assert files["solutions/toy/toy.py"] == (course.root / "solutions" / "toy" / "toy.py").read_bytes()


def test_healthy_nodes_each_student_written_once(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, assignment = toy
    students = [f"s{i}" for i in range(7)]
    results, errors, rerun, actors, written = _run(
        toy, tmp_path, {"a": _grades_all(assignment), "b": _grades_all(assignment)}, students)
    assert sorted(r.student for r in results) == students and not errors and not rerun
    assert written == Counter(students)
    assert all(actors[n].batches for n in "ab"), "both nodes got work"
    assert read_result(tmp_path / "out" / "s3.json").score == 1.0


def test_lost_node_reruns_only_its_unreported_students_elsewhere(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, assignment = toy

    def dies_after_one(students: list[str]) -> list[Any]:
        return [_line(assignment, students[0]), RayError("node lost")]

    students = [f"s{i}" for i in range(8)]
    results, errors, rerun, actors, written = _run(
        toy, tmp_path, {"a": _grades_all(assignment), "b": dies_after_one}, students)
    lost = actors["b"].batches[0]
    assert len(actors["b"].batches) == 1, "a lost node gets no more work"
    assert sorted(rerun) == sorted(lost[1:]), "its reported student is kept, the others re-run"
    assert all(any(s in batch for batch in actors["a"].batches) for s in lost[1:])
    assert sorted(r.student for r in results) == students and not errors
    assert written == Counter(students), "no student lost or written twice"


def test_a_student_whose_nodes_keep_dying_gets_an_internal_error(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A student that takes its node down with it (were that possible) costs at most MAX_ATTEMPTS nodes."""
    _, assignment = toy
    scripts = {name: (lambda students: [RayError("node lost")]) for name in "abcdefgh"}
    results, errors, rerun, actors, written = _run(toy, tmp_path, scripts, ["alice", "bob"])
    assert sorted(r.student for r in results) == ["alice", "bob"]
    assert all(r.status == "error" and f"{MAX_ATTEMPTS} nodes were lost" in (r.error or "") for r in results)
    assert written == Counter(["alice", "bob"]) and len(errors) == 2
    assert sum(len(a.batches) for a in actors.values()) == 2 * MAX_ATTEMPTS, "the other nodes are spared"


def test_no_node_left_every_remaining_student_gets_a_result(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, assignment = toy
    students = [f"s{i}" for i in range(5)]
    results, errors, rerun, actors, written = _run(toy, tmp_path, {"a": lambda s: [RayError("node lost")]}, students)
    assert sorted(r.student for r in results) == students
    assert all(r.status == "error" and "no Ray node is left" in (r.error or "") for r in results)
    assert written == Counter(students) and len(errors) == len(students)


def test_bad_submissions_are_staged_on_the_head_and_never_shipped(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    course, assignment = toy
    (tmp_path / "subs" / "empty").mkdir(parents=True)
    results, errors, rerun, actors, written = _run(toy, tmp_path, {"a": _grades_all(assignment)}, ["alice"])
    by = {r.student: r for r in results}
    assert by["empty"].status == "error" and "empty" in (by["empty"].error or "") and not errors
    assert [s for batch in actors["a"].batches for s in batch] == ["alice"]


def test_a_node_answering_for_another_student_or_nonsense_is_a_grader_error(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, assignment = toy

    def confused(students: list[str]) -> list[Any]:
        lines: list[Any] = [_line(assignment, "mallory")]
        for student in students:
            line = json.loads(_line(assignment, student))
            if student == "alice":
                line["result"]["max_score"] = 99
            lines.append(json.dumps(line))
        return lines + [json.dumps({"done": True, "broken": []})]

    results, errors, rerun, actors, written = _run(toy, tmp_path, {"a": confused}, ["alice", "bob"])
    by = {r.student: r for r in results}
    assert set(by) == {"alice", "bob"} and by["bob"].status == "graded"
    assert by["alice"].status == "error" and "invalid result" in (by["alice"].error or "")
    assert any("mallory" in e for e in errors) and not (tmp_path / "out" / "mallory.json").exists()


def test_a_node_that_ends_a_batch_early_leaves_no_student_without_a_result(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, assignment = toy
    results, errors, rerun, actors, written = _run(
        toy, tmp_path, {"a": lambda students: [_line(assignment, s) for s in students if s != "bob"]}, ["alice", "bob"])
    by = {r.student: r for r in results}
    assert by["alice"].status == "graded" and by["bob"].status == "error" and "did not report" in (by["bob"].error or "")
    assert written == Counter(["alice", "bob"])


def test_the_heads_staging_warnings_are_in_the_result(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The node stages only the files chosen on the head, so the warnings about the choice come from the head."""
    _, assignment = toy
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "notes.txt").write_text("hello")
    results, errors, rerun, actors, written = _run(toy, tmp_path, {"a": _grades_all(assignment)}, ["alice"])
    assert results[0].status == "graded" and not errors
    assert any("notes.txt" in w for w in results[0].warnings), results[0].warnings
    assert read_result(tmp_path / "out" / "alice.json").warnings == results[0].warnings


class _HelloActor:
    def __init__(self, name: str, hello: Any) -> None:
        self.name = name
        self.answer = hello
        self.hello = self

    def remote(self) -> Any:
        return self.answer


def test_nodes_that_cannot_grade_the_same_way_are_left_out_with_the_reason(toy) -> None:  # type: ignore[no-untyped-def]
    from autograder.grading.cluster import _greet
    from autograder.grading.cluster_node import versions

    _, assignment = toy
    good = {"protections": ["process"], "isolation": "sandbox: process", "jobs": 2, "versions": versions(),
            "max_score": assignment.spec.max_score}
    answers = {
        "good": json.dumps(good),
        "old-torch": json.dumps({**good, "versions": {**versions(), "torch": "2.0.0"}}),
        "no-sandbox": json.dumps({"failed": "cannot isolate student code on this machine", "versions": versions()}),
        "other-course": json.dumps({**good, "max_score": 99}),
        "crashed": RayError("The actor died because of an error raised in its creation task\n"
                            "ModuleNotFoundError: No module named 'autograder'"),
    }

    class GreetRay(FakeRay):
        def get(self, value: Any) -> Any:
            if isinstance(value, Exception):
                raise value
            return value

    ray = GreetRay()
    nodes = [_Node(name, f"host-{name}", _HelloActor(name, answer)) for name, answer in answers.items()]
    usable, left_out = _greet(ray, nodes, assignment)
    assert [n.node_id for n in usable] == ["good"] and usable[0].jobs == 2
    assert sorted(ray.killed) == ["crashed", "no-sandbox", "old-torch", "other-course"]
    reasons = dict(line.split(": ", 1) for line in left_out)
    assert "2.0.0" in reasons["node host-old-torch"] and "same versions" in reasons["node host-old-torch"]
    assert "cannot isolate" in reasons["node host-no-sandbox"]
    assert "99 points" in reasons["node host-other-course"]
    assert reasons["node host-crashed"] == "ModuleNotFoundError: No module named 'autograder'"


def test_a_node_that_finds_the_tests_broken_leaves_its_students_ungraded_as_locally(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As `pool.run_all`: no result for them (the next run grades them), a grader error each."""
    _, assignment = toy
    script = lambda students: [json.dumps({"done": True, "broken": ["cannot collect test_toy.py"]})]  # noqa: E731
    results, errors, rerun, actors, written = _run(toy, tmp_path, {"a": script}, ["alice", "bob"])
    assert results == [] and not written and not list((tmp_path / "out").glob("*.json"))
    assert sorted(errors) == [f"{s}: not graded, the assignment's tests are broken" for s in ("alice", "bob")]


def test_a_notebook_hand_in_reaches_the_nodes_as_module_files(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The head reads a notebook with the local rules: the node gets definitions, never the notebook."""
    _, assignment = toy
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
            "source": ["import numpy as np\n", "def double(x):\n", "    return 2 * np.asarray(x)\n", "print(double(1))"]}
    data = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    results, errors, _, actors, _ = _run(toy, tmp_path, {"a": _grades_all(assignment)}, ["alice"],
                                         notebooks={"nora": data})
    assert sorted(r.student for r in results) == ["alice", "nora"] and not errors
    sent = actors["a"].files["nora"]
    assert set(sent) == {"toy.py", "extra.py"}
    assert "def double(x):" in sent["toy.py"].decode() and "print(double(1))" not in sent["toy.py"].decode()
