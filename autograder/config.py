"""Load and validate `assignments/<name>/assignment.yaml`.

A bad file gets an error that names the file, the line and the key, and says what is expected,
so an instructor can fix it without reading our code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gradekit.spec import DEFAULT_ATOL, DEFAULT_RTOL, DEFAULT_TIME_LIMIT, AssignmentSpec, QuestionSpec

from .errors import ConfigError

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# Gradescope: when students see their hidden-test points (and so their total). "until_published"
# (the default) lets no resubmission reveal how the hidden tests went; "visible" shows them at once.
HIDDEN_SCORES = ("until_published", "visible")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FILE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


@dataclass(frozen=True)
class Assignment:
    """A validated assignment: its spec plus where its parts live."""

    spec: AssignmentSpec
    path: Path  # the assignment.yaml
    hidden_scores: str = "until_published"  # one of HIDDEN_SCORES

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def folder(self) -> Path:
        return self.path.parent


class _Node:
    """A YAML node with its location, for error messages."""

    def __init__(self, node: yaml.Node, path: Path, where: str) -> None:
        self.node = node
        self.path = path
        self.where = where

    def fail(self, problem: str) -> ConfigError:
        line = self.node.start_mark.line + 1
        return ConfigError(f"{self.path}:{line}: {self.where}: {problem}")

    def mapping(self, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, "_Node"]:
        if not isinstance(self.node, yaml.MappingNode):
            raise self.fail("expected a mapping of keys to values")
        out: dict[str, _Node] = {}
        for key_node, value_node in self.node.value:
            key = key_node.value
            child = _Node(value_node, self.path, f"{self.where}.{key}" if self.where else key)
            if key not in required + optional:
                allowed = ", ".join(required + optional)
                raise _Node(key_node, self.path, child.where).fail(f"unknown key {key!r} (allowed: {allowed})")
            if key in out:
                raise _Node(key_node, self.path, child.where).fail("duplicate key")
            out[key] = child
        for key in required:
            if key not in out:
                raise self.fail(f"missing required key {key!r}")
        return out

    def sequence(self) -> list["_Node"]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.fail("expected a list")
        return [_Node(n, self.path, f"{self.where}[{i}]") for i, n in enumerate(self.node.value)]

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.fail("expected a single value")
        return yaml.safe_load(yaml.serialize(self.node))

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        value = self.scalar()
        if not isinstance(value, str) or not value.strip():
            raise self.fail("expected a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self.fail(f"{value!r} is not {what}")
        return value

    def number(self, *, minimum: float = 0.0, strict: bool = False) -> float:
        value = self.scalar()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"expected a number, got {value!r}")
        if value < minimum or (strict and value == minimum):
            raise self.fail(f"expected a number {'>' if strict else '>='} {minimum:g}, got {value!r}")
        return float(value)


def load_assignment(path: Path) -> Assignment:
    """Parse and validate an assignment.yaml (or the folder that holds one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "assignment.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the assignment file: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if root is None:
        raise ConfigError(f"{path}: the file is empty")
    top = _Node(root, path, "").mapping(("name", "title", "files", "questions"), ("hidden_scores",))
    name = top["name"].string(_ID, "a lower-case identifier")
    if name != path.parent.name:
        raise top["name"].fail(f"name {name!r} must match the folder name {path.parent.name!r}")
    files = tuple(n.string(_FILE, "a Python file name like backprop.py") for n in top["files"].sequence())
    if not files:
        raise top["files"].fail("list at least one student file")
    questions = []
    seen: set[str] = set()
    for qnode in top["questions"].sequence():
        q = qnode.mapping(
            ("id", "title", "file", "points"), ("tolerance", "time_limit", "hidden_visibility")
        )
        qid = q["id"].string(_ID, "a lower-case identifier")
        if qid in seen:
            raise q["id"].fail(f"duplicate question id {qid!r}")
        seen.add(qid)
        file = q["file"].string(_FILE, "a Python file name")
        if file not in files:
            raise q["file"].fail(f"{file!r} is not one of the assignment's files {list(files)}")
        points = q["points"].mapping(("public", "hidden"), ())
        tol = q["tolerance"].mapping((), ("rtol", "atol")) if "tolerance" in q else {}
        visibility = q["hidden_visibility"].string() if "hidden_visibility" in q else "after_published"
        if visibility not in VISIBILITIES:
            raise q["hidden_visibility"].fail(f"expected one of {', '.join(VISIBILITIES)}")
        questions.append(
            QuestionSpec(
                id=qid,
                title=q["title"].string(),
                file=file,
                public_points=points["public"].number(),
                hidden_points=points["hidden"].number(),
                rtol=tol["rtol"].number() if "rtol" in tol else DEFAULT_RTOL,
                atol=tol["atol"].number() if "atol" in tol else DEFAULT_ATOL,
                time_limit=q["time_limit"].number(strict=True) if "time_limit" in q else DEFAULT_TIME_LIMIT,
                hidden_visibility=visibility,
            )
        )
    if not questions:
        raise top["questions"].fail("list at least one question")
    hidden_scores = top["hidden_scores"].string() if "hidden_scores" in top else "until_published"
    if hidden_scores not in HIDDEN_SCORES:
        raise top["hidden_scores"].fail(f"expected one of {', '.join(HIDDEN_SCORES)}")
    shown = [q.id for q in questions if q.hidden_visibility == "visible"]
    if shown and hidden_scores != "visible":
        raise top["questions"].fail(
            f"question(s) {', '.join(shown)} show hidden results at once (hidden_visibility: visible), but hidden "
            "scores are kept until grades are published; set `hidden_scores: visible` to allow that")
    spec = AssignmentSpec(name=name, title=top["title"].string(), files=files, questions=tuple(questions))
    return Assignment(spec=spec, path=path.resolve(), hidden_scores=hidden_scores)
