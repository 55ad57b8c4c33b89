"""The end-of-run summary: students graded, mean per question, failures by cause (pure text).

Counting basis, the same as the class report's: means, full marks and failure causes count the
graded submissions; the ones that could not be graded are listed apart, with their reason (they
score 0 in grades.csv, marked `error`). A graded result that lacks a question (kept from a run
with an older assignment.yaml) is left out of that question's numbers and named.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from gradekit.spec import AssignmentSpec

from ..results import Result
from ..textsafe import terminal

BASIS = "means count graded submissions only; ungradable ones are listed apart (0 in grades.csv)"


def summary_lines(spec: AssignmentSpec, results: Iterable[Result], *, graded: int, resumed: int,
                  skipped: Iterable[str] = ()) -> list[str]:
    """The summary as lines for a terminal: student-controlled text has its control characters escaped."""
    results = list(results)
    errors = [r for r in results if r.status == "error"]
    ok = [r for r in results if r.status != "error"]
    lines = [f"{spec.name}: {len(results)} students ({graded} graded now, {resumed} from an earlier run, "
             f"{len(errors)} could not be graded)"]
    if ok:
        lines += _means(spec, ok)
    if errors:
        lines.append(f"could not be graded ({len(errors)}):")
        lines += [f"  {r.student}: {terminal(r.error or 'unknown reason')}" for r in errors]
    internal = [r.student for r in results if r.internal_error]
    if internal:
        lines.append(f"internal grader errors (graded again by the next run, no --regrade needed): {', '.join(internal)}")
    warned = [r.student for r in results if r.warnings]
    if warned:
        lines.append(f"submissions with warnings (files ignored, renamed or missing; see their results): "
                     f"{', '.join(warned)}")
    names = [terminal(name) for name in skipped]
    if names:
        lines.append(f"skipped (not a folder or .zip, so not a submission): {', '.join(names)}")
    return lines


def _means(spec: AssignmentSpec, ok: list[Result]) -> list[str]:
    """The per-question table over the graded results."""
    lines = [f"over the {len(ok)} graded submissions ({BASIS}):"]
    width = max(len("question"), *(len(q.id) for q in spec.questions))
    lines.append(f"{'question':<{width}}  {'mean':>7}  {'max':>5}  {'full marks':>10}")
    lacking: dict[str, list[str]] = {}
    for q in spec.questions:
        scores = []
        for r in ok:
            found = r.question(q.id)
            if found is None:
                lacking.setdefault(q.id, []).append(r.student)
            else:
                scores.append(found.score)
        mean = f"{sum(scores) / len(scores):>7.2f}" if scores else f"{'-':>7}"
        full = sum(1 for s in scores if s >= q.points - 1e-9)
        lines.append(f"{q.id:<{width}}  {mean}  {q.points:>5g}  {full:>4}/{len(scores):<5}")
    totals = [r.score for r in ok]
    lines.append(f"{'total':<{width}}  {sum(totals) / len(totals):>7.2f}  {spec.max_score:>5g}")
    for qid, students in lacking.items():
        lines.append(f"  {len(students)} result(s) lack question {qid!r} (graded with an older assignment.yaml: "
                     f"{', '.join(students[:5])}); grade again with --regrade")
    causes: Counter[str] = Counter()
    for r in ok:
        causes.update(r.causes)
    if causes:
        lines.append("failed tests by cause: " + ", ".join(f"{c.replace('_', ' ')} {n}" for c, n in causes.most_common()))
    return lines
