"""The grading result: frozen records, and the pure functions that build them from test outcomes.

No I/O and no knowledge of any export format: `store` reads and writes these records as JSON,
`exports/` turns them into files for people and LMSs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from gradekit.plugin import seed_for
from gradekit.scoring import Outcome, score
from gradekit.spec import AssignmentSpec

from . import __version__
from .textsafe import clean

SCHEMA_VERSION = 1

CAUSES = (
    "passed", "wrong_answer", "not_implemented", "exception", "timeout", "crash", "import_error",
    "bad_return", "memory", "test_error", "skipped", "submission_error",
)


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    name: str
    hidden: bool
    passed: bool
    score: float
    max_score: float
    message: str
    cause: str


@dataclass(frozen=True)
class QuestionResult:
    id: str
    title: str
    score: float
    max_score: float
    tests: tuple[TestResult, ...] = ()

    def tests_of(self, *, hidden: bool) -> tuple[TestResult, ...]:
        return tuple(t for t in self.tests if t.hidden == hidden)


@dataclass(frozen=True)
class Result:
    """One student's grade for one assignment; `status` is "error" when nothing could be graded."""

    student: str
    assignment: str
    status: str
    score: float
    max_score: float
    questions: tuple[QuestionResult, ...]
    error: str | None = None
    causes: dict[str, int] = field(default_factory=dict)
    protections: tuple[str, ...] = ()
    output: str = ""
    submission_sha256: str | None = None
    seed: int = 0
    grader_version: str = ""
    graded_at: str = ""
    duration_s: float = 0.0
    schema_version: int = SCHEMA_VERSION
    warnings: tuple[str, ...] = ()  # about the submission: files ignored, renamed or missing

    @property
    def internal_error(self) -> bool:
        """Nothing was graded because the grader failed: never final, the next run grades again."""
        return self.status == "error" and "test_error" in self.causes

    def question(self, qid: str) -> QuestionResult | None:
        """The question's result; None when this result has no such question (e.g. a result kept
        from a run with an older assignment.yaml), which every reader must handle."""
        for q in self.questions:
            if q.id == qid:
                return q
        return None


OUTPUT_LIMIT = 8192
MESSAGE_LIMIT = 4000  # one test's message
ERROR_LIMIT = 2000  # why a submission could not be graded
WARNING_LIMIT = 600  # one warning
WARNINGS = 20  # warnings kept


def test_name(nodeid: str) -> str:
    """`public/test_x.py::test_y[case]`, independent of where the tests folder lives."""
    path, _, rest = nodeid.partition("::")
    parts = path.replace("\\", "/").split("/")
    for marker in ("hidden", "public"):
        if marker in parts[:-1]:
            parts = parts[parts.index(marker):]
            break
    return "/".join(parts) + ("::" + rest if rest else "")


def build_result(
    spec: AssignmentSpec,
    student: str,
    outcomes: Iterable[Outcome],
    *,
    protections: tuple[str, ...] = (),
    output: str = "",
    sha256: str | None = None,
    graded_at: str = "",
    duration_s: float = 0.0,
    warnings: Iterable[str] = (),
) -> Result:
    """A graded result; student text (messages, output, warnings) is cleaned here, where it enters."""
    outcomes = list(outcomes)
    questions = []
    for q in score(spec, outcomes):
        tests = tuple(
            TestResult(
                name=test_name(t.outcome.nodeid),
                hidden=t.outcome.hidden,
                passed=t.outcome.passed,
                score=round(t.score, 6),
                max_score=round(t.max_score, 6),
                message=clean(t.outcome.message, MESSAGE_LIMIT),
                cause=t.outcome.cause,
            )
            for t in q.tests
        )
        questions.append(QuestionResult(q.id, q.title, q.score, q.max_score, tests))
    causes = Counter(o.cause for o in outcomes if not o.passed)
    return Result(
        student=student,
        assignment=spec.name,
        status="graded",
        score=round(sum(q.score for q in questions), 6),
        max_score=round(sum(q.max_score for q in questions), 6),
        questions=tuple(questions),
        causes=dict(sorted(causes.items())),
        protections=protections,
        output=truncate(clean(output, 4 * OUTPUT_LIMIT)),
        submission_sha256=sha256,
        seed=seed_for(student, spec.name, ""),
        grader_version=__version__,
        graded_at=graded_at,
        duration_s=round(duration_s, 4),
        warnings=clean_warnings(warnings),
    )


def error_result(spec: AssignmentSpec, student: str, error: str, *, cause: str = "submission_error",
                 protections: tuple[str, ...] = (), graded_at: str = "", sha256: str | None = None,
                 warnings: Iterable[str] = ()) -> Result:
    """A result for a submission that could not be graded at all: score 0, every question listed."""
    return Result(
        student=student,
        assignment=spec.name,
        status="error",
        error=clean(error, ERROR_LIMIT),
        score=0.0,
        max_score=spec.max_score,
        questions=tuple(QuestionResult(q.id, q.title, 0.0, q.points) for q in spec.questions),
        causes={cause: 1},
        protections=protections,
        submission_sha256=sha256,
        seed=seed_for(student, spec.name, ""),
        grader_version=__version__,
        graded_at=graded_at,
        warnings=clean_warnings(warnings),
    )


def clean_warnings(warnings: Iterable[str]) -> tuple[str, ...]:
    kept = [clean(w, WARNING_LIMIT) for w in warnings]
    if len(kept) > WARNINGS:
        kept = kept[:WARNINGS] + [f"... {len(kept) - WARNINGS} more warnings not kept"]
    return tuple(kept)


def truncate(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """The first `limit` characters; a closing note of the provider's (bytes dropped) is kept."""
    body, sep, note = text.rpartition("\n[... ")
    if not sep or len(note) > 80 or not note.endswith("]"):
        body, note = text, ""
    if len(body) > limit:
        body = body[:limit] + f"\n[... {len(body) - limit} more characters not kept]"
    return body + (f"\n[... {note}" if note else "")
