"""The points table a student sees after `pytest`: public (and, at grading, hidden) points per question.

Pure text from the spec and the outcomes, so the plugin only prints it and tests can read it.
"""

from __future__ import annotations

from typing import Sequence

from .scoring import Outcome, score
from .spec import AssignmentSpec


def points_table(spec: AssignmentSpec, outcomes: Sequence[Outcome]) -> list[str]:
    """One line per question, a total, and (without hidden outcomes) how many hidden points remain."""
    has_hidden = any(o.hidden for o in outcomes)
    scored = score(spec, outcomes, include_hidden=has_hidden)
    width = max(len("question"), *(len(q.id) for q in scored))
    header = f"{'question':<{width}}  {'public':>13}"
    if has_hidden:
        header += f"  {'hidden':>13}"
    lines = [header]
    totals = [0.0, 0.0, 0.0, 0.0]
    for q in scored:
        pub, pub_max = q.part(hidden=False)
        line = f"{q.id:<{width}}  {pub:>6.2f} / {pub_max:<4g}"
        totals[0] += pub
        totals[1] += pub_max
        if has_hidden:
            hid, hid_max = q.part(hidden=True)
            line += f"  {hid:>6.2f} / {hid_max:<4g}"
            totals[2] += hid
            totals[3] += hid_max
        notes = sorted({t.outcome.cause for t in q.tests if not t.outcome.passed})
        if "not_implemented" in notes:
            line += "  not implemented yet"
        elif notes:
            line += "  (" + ", ".join(n.replace("_", " ") for n in notes) + ")"
        lines.append(line)
    total = f"{'total':<{width}}  {totals[0]:>6.2f} / {totals[1]:<4g}"
    if has_hidden:
        total += f"  {totals[2]:>6.2f} / {totals[3]:<4g}"
    lines.append(total)
    if not has_hidden:
        hidden_points = sum(q.hidden_points for q in spec.questions)
        lines.append(f"Hidden tests ({hidden_points:g} more points) run at grading, with inputs of your own.")
    return lines


def readme_points_table(spec: AssignmentSpec) -> str:
    """The Markdown points table of a release README, generated from assignment.yaml (never hand-written)."""
    rows = ["| question | what | public | hidden | total |", "| --- | --- | ---: | ---: | ---: |"]
    for q in spec.questions:
        rows.append(f"| `{q.id}` | {q.title} | {q.public_points:g} | {q.hidden_points:g} | {q.points:g} |")
    public = sum(q.public_points for q in spec.questions)
    hidden = sum(q.hidden_points for q in spec.questions)
    rows.append(f"| **total** | | {public:g} | {hidden:g} | {spec.max_score:g} |")
    return "\n".join(rows) + "\n"
