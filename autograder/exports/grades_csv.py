"""grades.csv: one row per student (id, each question's score, total, status), written with the csv module.

Every student has a row; one that could not be graded has status `error` and score 0 (the summary and
the report list it apart). A question the result lacks (graded with an older assignment.yaml) is blank.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from gradekit.spec import AssignmentSpec

from ..results import Result
from . import write_csv_atomic


def rows(spec: AssignmentSpec, results: Iterable[Result]) -> list[list[object]]:
    header: list[object] = ["student", *[q.id for q in spec.questions], "total", "max_score", "status"]
    out = [header]
    for r in sorted(results, key=lambda r: r.student):
        by_id = {q.id: q.score for q in r.questions}
        out.append([r.student, *[by_id.get(q.id, "") for q in spec.questions], r.score, r.max_score, r.status])
    return out


def write(path: Path, spec: AssignmentSpec, results: Iterable[Result]) -> Path:
    """Write atomically, private to the grader's user like the result files beside it."""
    return write_csv_atomic(path, rows(spec, results), private=True)
