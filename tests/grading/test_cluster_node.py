"""The node side of `grade --ray` without Ray: the actor class drives a real warm grading process.

`NodeGrader` is a plain class (cluster.py wraps it with `ray.remote`), so it is tested here as is:
the course arrives as bytes, the hello says what the node's sandbox applies, and a batch comes
back as JSON lines, one per student, that the head's strict reader accepts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder.course import CourseDir
from autograder.grading.cluster import course_files
from autograder.grading.cluster_node import NodeGrader, versions, write_files
from autograder.store import from_dict
from tests.toycourse import SOLUTION_TOY, make_course

BUGGY_TOY = SOLUTION_TOY.replace("return 2 * np.asarray(x, dtype=float)", "return 2 * np.asarray(x, dtype=float) + 1")


@pytest.mark.parametrize("name", ["../escape.py", "/etc/passwd", "a/../../b"])
def test_write_files_stays_inside_its_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="outside"):
        write_files({name: b"x"}, tmp_path / "root")
    assert not (tmp_path / "escape.py").exists()


def test_versions_name_what_must_match() -> None:
    assert set(versions()) == {"autograder", "torch", "python"}


@pytest.mark.skipif(os.geteuid() != 0, reason="isolated grading needs root (namespaces, setuid)")
def test_node_grades_a_batch_and_answers_in_json_lines(tmp_path: Path) -> None:
    course = CourseDir(make_course(tmp_path / "course"))
    assignment = course.assignment("toy")
    node = NodeGrader(course_files(course, assignment), "toy", 1, False)
    root = node.root
    try:
        hello = json.loads(node.hello())
        assert "failed" not in hello, hello
        assert hello["versions"] == versions() and hello["jobs"] == 1 and hello["max_score"] == assignment.spec.max_score
        assert "landlock" in hello["protections"] and hello["isolation"].startswith("sandbox: ")
        good = {"toy.py": SOLUTION_TOY.encode(), "extra.py": (course.root / "solutions/toy/extra.py").read_bytes()}
        lines = [json.loads(line) for line in node.grade([("alice", good), ("bob", {**good, "toy.py": BUGGY_TOY.encode()})])]
        assert lines[-1] == {"done": True, "broken": []}
        results = {r.student: r for r in (from_dict(m["result"]) for m in lines[:-1])}
        assert results["alice"].score == results["alice"].max_score == 5
        assert results["bob"].score < results["bob"].max_score
        assert tuple(hello["protections"]) == results["alice"].protections
        assert not (root / "submissions" / "batch-1").exists(), "a batch's files go when it is done"
    finally:
        node.close()
    assert not root.exists(), "closing removes the node's course files"
    assert node.proc.returncode == 0
