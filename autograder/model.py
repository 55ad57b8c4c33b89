"""The grading result model: frozen records, no I/O and no knowledge of LMS formats."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    notes: tuple[str, ...] = ()  # about the hand-in itself, for feedback (e.g. a notebook's cells)
    schema_version: int = SCHEMA_VERSION

    def question(self, qid: str) -> QuestionResult:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)
