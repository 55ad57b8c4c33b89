"""assignment.yaml is validated on load; errors name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.config import ConfigError, load_assignment

GOOD = """\
name: demo
title: Demo
files: [demo.py]
questions:
  - id: first
    title: First
    file: demo.py
    points: {public: 1, hidden: 2}
    tolerance: {rtol: 1.0e-6}
    time_limit: 5
"""


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    (folder / "assignment.yaml").write_text(text)
    return folder / "assignment.yaml"


def test_good_file_loads_with_defaults(tmp_path: Path) -> None:
    spec = load_assignment(write(tmp_path, GOOD)).spec
    q = spec.question("first")
    assert (q.public_points, q.hidden_points, q.rtol, q.atol, q.time_limit) == (1, 2, 1e-6, 1e-8, 5)
    assert spec.max_score == 3 and spec.modules == ("demo",)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    time_limit: 5", "    time_limit: -5", 10, "questions[0].time_limit"),
        ("    time_limit: 5", "    timelimit: 5", 10, "unknown key 'timelimit'"),
        ("    file: demo.py", "    file: other.py", 7, "not one of the assignment's files"),
        ("points: {public: 1, hidden: 2}", "points: {public: 1}", 8, "missing required key 'hidden'"),
        ("points: {public: 1, hidden: 2}", "points: {public: one, hidden: 2}", 8, "expected a number"),
        ("  - id: first", "  - id: First", 5, "lower-case identifier"),
        ("name: demo", "name: other", 1, "must match the folder name"),
    ],
)
def test_bad_values_name_line_and_key(tmp_path: Path, old: str, new: str, line: int, words: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_assignment(path)
    assert f"assignment.yaml:{line}:" in str(info.value)
    assert words in str(info.value)


def test_duplicate_question_ids(tmp_path: Path) -> None:
    extra = GOOD + "  - id: first\n    title: Again\n    file: demo.py\n    points: {public: 1, hidden: 1}\n"
    with pytest.raises(ConfigError, match=r":11: questions\[1\]\.id: duplicate question id"):
        load_assignment(write(tmp_path, extra))


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_assignment(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_assignment(tmp_path / "nope" / "assignment.yaml")


def test_real_assignments_load(course) -> None:  # type: ignore[no-untyped-def]
    for assignment in course.assignments():
        assert assignment.spec.questions


def test_hidden_scores_policy_is_explicit_and_safe_by_default(tmp_path: Path) -> None:
    assert load_assignment(write(tmp_path, GOOD)).hidden_scores == "until_published"
    shown = GOOD.replace("files:", "hidden_scores: visible\nfiles:", 1)
    assert load_assignment(write(tmp_path, shown)).hidden_scores == "visible"
    with pytest.raises(ConfigError, match="hidden_scores: expected one of until_published, visible"):
        load_assignment(write(tmp_path, GOOD.replace("files:", "hidden_scores: later\nfiles:", 1)))
    eager = GOOD.replace("    points: {public: 1, hidden: 2}",
                         "    points: {public: 1, hidden: 2}\n    hidden_visibility: visible", 1)
    with pytest.raises(ConfigError, match="set `hidden_scores: visible` to allow that"):
        load_assignment(write(tmp_path, eager))
    assert load_assignment(write(tmp_path, eager.replace("files:", "hidden_scores: visible\nfiles:", 1)))
