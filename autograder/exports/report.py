"""The class report: one self-contained HTML page for the instructor.

One counting basis throughout (the terminal summary's too): every number, the histogram and the
tables count the GRADED submissions; submissions that could not be graded are listed apart with
their reason (they score 0 in grades.csv). Plots are inline SVG drawn here, so the report needs
nothing beyond the base install. A per-student table links each student's feedback page. It is
for staff: unlike student feedback it names hidden tests.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from ..errors import ExportError
from ..results import Result
from ..store import write_text_atomic
from ..textsafe import visible_lines
from . import format_points

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

BASIS = ("Every number below counts the graded submissions only; submissions that could not be graded "
         "are listed apart (they score 0 in grades.csv).")
CAUSE_LABELS = {
    "wrong_answer": "wrong answer", "not_implemented": "not implemented", "exception": "exception raised",
    "timeout": "time limit exceeded", "crash": "worker crashed", "import_error": "import failed",
    "bad_return": "wrong return type/shape", "memory": "memory limit", "test_error": "grader/test error",
    "skipped": "skipped", "submission_error": "submission unusable",
}
TOP_GROUPS = 10  # failure counts shown in "tests failed most often"; tests with equal counts share a row


@dataclass(frozen=True)
class QuestionStats:
    id: str
    title: str
    max_score: float
    mean: float
    full_marks: float  # fraction of the graded results holding this question with full marks
    public_pass: float | None  # fraction of public test runs passed (None: no public tests)
    hidden_pass: float | None
    counted: int  # graded results that hold this question (fewer: results from an older assignment.yaml)


@dataclass(frozen=True)
class ClassStats:
    assignment: str
    title: str
    students: int  # every result, graded or not
    graded: int
    max_score: float
    scores: tuple[float, ...]  # graded submissions only
    questions: tuple[QuestionStats, ...]
    causes: tuple[tuple[str, int], ...]  # failed tests by cause, most common first
    failing_groups: tuple[tuple[int, tuple[tuple[str, str, str], ...]], ...]  # (failures, ((question, test, usual cause), ...))
    errors: tuple[tuple[str, str], ...]  # (student, reason) for submissions that could not be graded

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0


def _rate(tests: list[bool]) -> float | None:
    return sum(tests) / len(tests) if tests else None


def class_stats(results: Sequence[Result], spec: "AssignmentSpec | None" = None) -> ClassStats:
    """The report's numbers, all over graded submissions (see the module docstring)."""
    if not results:
        raise ExportError("no results to report on")
    graded = [r for r in results if r.status == "graded"]
    order: dict[str, str] = {}
    if spec is not None:
        order.update((q.id, q.title) for q in spec.questions)
    for r in results:
        for q in r.questions:
            order.setdefault(q.id, q.title)
    points = {q.id: q.points for q in spec.questions} if spec is not None else {}
    questions = []
    for qid, title in order.items():
        records = [q for r in graded if (q := r.question(qid)) is not None]
        max_score = points.get(qid, max((q.max_score for r in results if (q := r.question(qid)) is not None), default=0.0))
        questions.append(QuestionStats(
            id=qid, title=title, max_score=max_score,
            mean=statistics.fmean([q.score for q in records]) if records else 0.0,
            full_marks=(sum(q.score >= q.max_score - 1e-9 for q in records) / len(records)) if records else 0.0,
            public_pass=_rate([t.passed for q in records for t in q.tests_of(hidden=False)]),
            hidden_pass=_rate([t.passed for q in records for t in q.tests_of(hidden=True)]),
            counted=len(records),
        ))
    causes: Counter[str] = Counter()
    failing: dict[tuple[str, str], Counter[str]] = {}
    for r in graded:
        for q in r.questions:
            for t in q.tests:
                if not t.passed:
                    causes[t.cause or "unknown"] += 1
                    failing.setdefault((q.title, t.name), Counter())[t.cause or "unknown"] += 1
    groups: dict[int, list[tuple[str, str, str]]] = {}
    for (qt, name), c in sorted(failing.items()):
        groups.setdefault(sum(c.values()), []).append((qt, name, c.most_common(1)[0][0]))
    failing_groups = tuple((n, tuple(groups[n])) for n in sorted(groups, reverse=True)[:TOP_GROUPS])
    return ClassStats(
        assignment=results[0].assignment,
        title=spec.title if spec is not None else results[0].assignment,
        students=len(results), graded=len(graded),
        max_score=spec.max_score if spec is not None else max(r.max_score for r in results),
        scores=tuple(r.score for r in graded), questions=tuple(questions),
        causes=tuple(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))),
        failing_groups=failing_groups,
        errors=tuple((r.student, r.error or "unknown reason") for r in results if r.status == "error"),
    )


# ---------------------------------------------------------------- plots (inline SVG)


def _svg(width: int, height: int, parts: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
            + "".join(parts) + "</svg>")


def score_histogram(stats: ClassStats) -> str:
    """SVG: how many graded students got each total score (bins over 0..max)."""
    top = stats.max_score if stats.max_score > 0 else 1.0
    bins = max(5, min(20, int(top)))
    counts = [0] * bins
    for s in stats.scores:
        counts[min(bins - 1, max(0, int(s / top * bins)))] += 1
    w, h, left, bottom, plot_h = 720, 260, 40, 40, 190
    bar_w = (w - left - 10) / bins
    peak = max(counts) or 1
    parts = [f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#555"/>']
    for i, n in enumerate(counts):
        bh = plot_h * n / peak
        x = left + i * bar_w
        parts.append(f'<rect x="{x + 1:.1f}" y="{h - bottom - bh:.1f}" width="{bar_w - 2:.1f}" height="{bh:.1f}" '
                     f'fill="#3b6fb6"><title>{n} students</title></rect>')
        if n:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{h - bottom - bh - 4:.1f}" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x:.1f}" y="{h - bottom + 15}" text-anchor="middle">{format_points(top * i / bins)}</text>')
    parts.append(f'<text x="{w - 10}" y="{h - bottom + 15}" text-anchor="end">{format_points(top)}</text>')
    if stats.scores:
        mx = left + (w - left - 10) * stats.mean / top
        parts.append(f'<line x1="{mx:.1f}" y1="10" x2="{mx:.1f}" y2="{h - bottom}" stroke="#d4380d" stroke-dasharray="5,3"/>')
        parts.append(f'<text x="{mx + 4:.1f}" y="20" fill="#d4380d">mean {stats.mean:.1f}</text>')
    parts.append(f'<text x="{(w + left) / 2}" y="{h - 8}" text-anchor="middle">total score of graded '
                 f'submissions (out of {format_points(top)})</text>')
    return _svg(w, h, parts, "histogram of total scores of graded submissions")


def pass_rate_chart(stats: ClassStats) -> str:
    """SVG: per question, the share of public and hidden test runs that passed."""
    row, left, w = 34, 150, 720
    h = 30 + row * max(1, len(stats.questions))
    scale = (w - left - 60) / 100
    parts = [f'<rect x="{left}" y="4" width="10" height="10" fill="#2f8f5b"/><text x="{left + 14}" y="13">public tests</text>',
             f'<rect x="{left + 110}" y="4" width="10" height="10" fill="#8a63d2"/>'
             f'<text x="{left + 124}" y="13">hidden tests</text>']
    for i, q in enumerate(stats.questions):
        y = 24 + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 18}" text-anchor="end">{_e(q.id)}</text>')
        for k, (rate, colour) in enumerate(((q.public_pass, "#2f8f5b"), (q.hidden_pass, "#8a63d2"))):
            pct = 100 * (rate or 0.0)
            yy = y + 2 + k * 14
            parts.append(f'<rect x="{left}" y="{yy}" width="{pct * scale:.1f}" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{left + pct * scale + 4:.1f}" y="{yy + 10}">{_pct(rate)}</text>')
    return _svg(w, h, parts, "pass rate per question")


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde1e8;padding-bottom:.25rem}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}.card{background:#f4f6fa;border-radius:6px;padding:.6rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e6e9ef}td.num{text-align:right}
svg{max-width:100%;height:auto;display:block;margin:.5rem 0}.muted{color:#5b6475}code{font-size:.88em}
"""


def _e(text: object) -> str:
    return html.escape(visible_lines(str(text)), quote=True)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _student_rows(results: Sequence[Result], stats: ClassStats, feedback: Mapping[str, str]) -> str:
    rows = []
    for r in sorted(results, key=lambda r: r.student):
        cells = []
        for q in stats.questions:
            found = r.question(q.id)
            cells.append("-" if found is None or r.status == "error" else format_points(found.score))
        total = "not graded" if r.status == "error" else f"{format_points(r.score)} / {format_points(r.max_score)}"
        href = feedback.get(r.student)
        link = f'<a href="{_e(href)}">feedback</a>' if href else '<span class="muted">none</span>'
        rows.append(f"<tr><td><code>{_e(r.student)}</code></td>" + "".join(f'<td class="num">{c}</td>' for c in cells)
                    + f'<td class="num">{_e(total)}</td><td>{link}</td></tr>')
    head = "".join(f"<th>{_e(q.id)}</th>" for q in stats.questions)
    return (f"<table><thead><tr><th>Student</th>{head}<th>Total</th><th>Feedback</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def render_report(results: Sequence[Result], spec: "AssignmentSpec | None" = None,
                  feedback: Mapping[str, str] | None = None) -> str:
    """The report as one HTML string (inline SVG, no scripts, no external files).

    `feedback` maps a student to the link of their feedback page (relative to the report).
    """
    stats = class_stats(results, spec)
    body = [f"<h1>{_e(stats.title)}: class report</h1>",
            f'<p class="muted">assignment <code>{_e(stats.assignment)}</code>. {_e(BASIS)}</p><div class="cards">']
    cards = [("submissions", str(stats.students)), ("graded", str(stats.graded)),
             ("could not be graded", str(len(stats.errors))),
             ("mean (graded)", f"{stats.mean:.2f} / {format_points(stats.max_score)}"),
             ("median (graded)", format_points(stats.median))]
    body += [f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards] + ["</div>"]
    body.append(f"<h2>Score distribution ({stats.graded} graded submissions)</h2>")
    body.append(score_histogram(stats))
    body.append("<h2>Questions</h2>")
    body.append(pass_rate_chart(stats))
    rows = "".join(
        f"<tr><td><code>{_e(q.id)}</code> {_e(q.title)}</td><td class=\"num\">{q.mean:.2f} / {_e(format_points(q.max_score))}"
        f"</td><td class=\"num\">{_pct(q.full_marks)}</td><td class=\"num\">{_pct(q.public_pass)}</td>"
        f"<td class=\"num\">{_pct(q.hidden_pass)}</td><td class=\"num\">{q.counted}"
        + (" (the others lack this question: graded with an older assignment.yaml; regrade)" if q.counted < stats.graded else "")
        + "</td></tr>" for q in stats.questions)
    body.append("<table><thead><tr><th>Question</th><th>Mean score</th><th>Full marks</th><th>Public tests passed</th>"
                f"<th>Hidden tests passed</th><th>Counted</th></tr></thead><tbody>{rows}</tbody></table>")
    body.append("<h2>Most common failure causes</h2>")
    if stats.causes:
        rows = "".join(f"<tr><td>{_e(CAUSE_LABELS.get(c, c))} <span class=\"muted\">({_e(c)})</span></td>"
                       f"<td class=\"num\">{n}</td></tr>" for c, n in stats.causes)
        body.append(f"<table><thead><tr><th>Cause</th><th>Failed tests</th></tr></thead><tbody>{rows}</tbody></table>")
        rows = "".join(
            f"<tr><td class=\"num\">{n}</td><td>" + "<br>".join(
                f"{_e(q)}: <code>{_e(t)}</code> <span class=\"muted\">({_e(CAUSE_LABELS.get(c, c))})</span>"
                for q, t, c in tests) + "</td></tr>"
            for n, tests in stats.failing_groups)
        body.append("<p>Tests failed most often (tests that failed equally often share a row):</p><table><thead><tr>"
                    f"<th>Failures</th><th>Tests (question: test, usual cause)</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        body.append("<p>No test failed.</p>")
    body.append("<h2>Submissions that could not be graded</h2>")
    if stats.errors:
        items = "".join(f"<li><code>{_e(s)}</code>: {_e(reason)}</li>" for s, reason in stats.errors)
        body.append(f"<ul>{items}</ul>")
    else:
        body.append("<p>None: every submission was graded.</p>")
    body.append("<h2>Students</h2>")
    body.append(_student_rows(results, stats, feedback or {}))
    title = f"{stats.title}: class report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(results: Sequence[Result], out: Path, spec: "AssignmentSpec | None" = None,
                 feedback: Mapping[str, str] | None = None) -> Path:
    """Render, then write atomically: a failed render leaves no half report."""
    return write_text_atomic(out, render_report(results, spec, feedback))


__all__ = ["BASIS", "ClassStats", "QuestionStats", "class_stats", "render_report", "write_report", "score_histogram",
           "pass_rate_chart"]
