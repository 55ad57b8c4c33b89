"""The assignment as the kit needs it: questions, points, tolerances, time limits.

`autograder.config` validates `assignment.yaml` and produces this; the release writes it as
`assignment.json` so that a student's folder needs no YAML parser. This module imports nothing
from `autograder` (the kit is copied into student folders where the grader is not installed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8
DEFAULT_TIME_LIMIT = 10.0


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    title: str
    file: str
    public_points: float
    hidden_points: float
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    time_limit: float = DEFAULT_TIME_LIMIT
    hidden_visibility: str = "after_published"

    @property
    def points(self) -> float:
        return self.public_points + self.hidden_points

    @property
    def module(self) -> str:
        return self.file[:-3] if self.file.endswith(".py") else self.file


@dataclass(frozen=True)
class AssignmentSpec:
    name: str
    title: str
    files: tuple[str, ...]
    questions: tuple[QuestionSpec, ...] = field(default_factory=tuple)

    def question(self, qid: str) -> QuestionSpec:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(f[:-3] for f in self.files if f.endswith(".py"))

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = list(self.files)
        data["questions"] = [asdict(q) for q in self.questions]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AssignmentSpec":
        return cls(
            name=data["name"],
            title=data["title"],
            files=tuple(data["files"]),
            questions=tuple(QuestionSpec(**q) for q in data["questions"]),
        )


def load_spec(path: Path) -> AssignmentSpec:
    """Load a release's `assignment.json` (a file, or the folder that holds it).

    The kit never reads `assignment.yaml` itself: that is the instructor side's job (`autograder.config`),
    and the kit must not import it. Point the kit at the released folder instead.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "assignment.json"
    if path.suffix != ".json" or not path.is_file():
        raise FileNotFoundError(f"no assignment.json at {path}: pass a released assignment folder (release/<name>, "
                                "written by `autograder release`) or a student folder")
    return AssignmentSpec.from_json(json.loads(path.read_text(encoding="utf-8")))
