"""Scoring: a pure function from test outcomes and points to per-question scores.

Each question's public and hidden points are split between its test functions by marker weight;
a parametrized function's cases share that function's weight equally.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from .spec import AssignmentSpec


@dataclass(frozen=True)
class Outcome:
    """What one test item did. `weight` is the item's raw weight (marker weight / number of cases)."""

    nodeid: str
    question: str
    hidden: bool
    weight: float
    passed: bool
    cause: str
    message: str = ""
    duration: float = 0.0
    student: str = ""


@dataclass(frozen=True)
class ScoredTest:
    outcome: Outcome
    score: float
    max_score: float


@dataclass(frozen=True)
class ScoredQuestion:
    id: str
    title: str
    score: float
    max_score: float
    tests: tuple[ScoredTest, ...]

    def part(self, hidden: bool) -> tuple[float, float]:
        """(earned, available) for the public or hidden tests of this question."""
        tests = [t for t in self.tests if t.outcome.hidden == hidden]
        return sum(t.score for t in tests), sum(t.max_score for t in tests)


def score(spec: AssignmentSpec, outcomes: Iterable[Outcome], *, include_hidden: bool = True) -> tuple[ScoredQuestion, ...]:
    """Score outcomes per question. Points of a part with no tests are not available (max 0)."""
    by_part: dict[tuple[str, bool], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_part[(o.question, o.hidden)].append(o)
    result = []
    for q in spec.questions:
        tests: list[ScoredTest] = []
        for hidden, points in ((False, q.public_points), (True, q.hidden_points)):
            if hidden and not include_hidden:
                continue
            part = by_part.get((q.id, hidden), [])
            total = sum(o.weight for o in part)
            for o in part:
                share = points * o.weight / total if total > 0 else 0.0
                tests.append(ScoredTest(o, share if o.passed else 0.0, share))
        result.append(
            ScoredQuestion(
                id=q.id,
                title=q.title,
                score=round(sum(t.score for t in tests), 6),
                max_score=round(sum(t.max_score for t in tests), 6),
                tests=tuple(tests),
            )
        )
    return tuple(result)
