"""The end-of-run summary: students graded, mean per question, failures by cause (pure text)."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from gradekit.spec import AssignmentSpec

from ..results import Result
from ..textsafe import terminal


def summary_lines(spec: AssignmentSpec, results: Iterable[Result], *, graded: int, resumed: int,
                  skipped: Iterable[str] = ()) -> list[str]:
    """The summary as lines for a terminal: student-controlled text has its control characters escaped."""
    results = list(results)
    errors = [r for r in results if r.status == "error"]
    lines = [f"{spec.name}: {len(results)} students ({graded} graded now, {resumed} from an earlier run, "
             f"{len(errors)} could not be graded)"]
    if not results:
        return lines
    width = max(len(q.id) for q in spec.questions)
    lines.append(f"{'question':<{width}}  {'mean':>7}  {'max':>5}  {'full marks':>10}")
    for q in spec.questions:
        scores = [r.question(q.id).score for r in results]
        full = sum(1 for s in scores if s >= q.points - 1e-9)
        lines.append(f"{q.id:<{width}}  {sum(scores) / len(scores):>7.2f}  {q.points:>5g}  {full:>4}/{len(scores):<5}")
    totals = [r.score for r in results]
    lines.append(f"{'total':<{width}}  {sum(totals) / len(totals):>7.2f}  {spec.max_score:>5g}")
    causes: Counter[str] = Counter()
    for r in results:
        causes.update(r.causes)
    if causes:
        lines.append("failed tests by cause: " + ", ".join(f"{c.replace('_', ' ')} {n}" for c, n in causes.most_common()))
    for r in errors:
        lines.append(f"  {r.student}: {terminal(r.error or 'unknown reason')}")
    internal = [r.student for r in results if r.internal_error]
    if internal:
        lines.append(f"internal grader errors (graded again by the next run, no --regrade needed): {', '.join(internal)}")
    warned = [r.student for r in results if r.warnings]
    if warned:
        lines.append(f"submissions with warnings (files ignored, renamed or missing; see their results): "
                     f"{', '.join(warned)}")
    skipped = [terminal(name) for name in skipped]
    if skipped:
        lines.append(f"skipped (not a folder or .zip, so not a submission): {', '.join(skipped)}")
    return lines
