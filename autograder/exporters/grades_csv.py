"""grades.csv: one row per student (id, each question's score, total), written with the csv module."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Iterable

from gradekit.spec import AssignmentSpec

from ..model import Result
from ..textsafe import csv_cell


def rows(spec: AssignmentSpec, results: Iterable[Result]) -> list[list[object]]:
    header: list[object] = ["student", *[q.id for q in spec.questions], "total", "max_score", "status"]
    out = [header]
    for r in sorted(results, key=lambda r: r.student):
        by_id = {q.id: q.score for q in r.questions}
        out.append([r.student, *[by_id.get(q.id, 0.0) for q in spec.questions], r.score, r.max_score, r.status])
    return out


def write(path: Path, spec: AssignmentSpec, results: Iterable[Result]) -> None:
    """Write atomically: a temp file in the same folder, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([csv_cell(cell) for cell in row] for row in rows(spec, results))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
