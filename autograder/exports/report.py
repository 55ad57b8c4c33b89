"""The class report: one self-contained HTML page for the instructor.

Score distribution and per-question pass rates as matplotlib plots embedded as base64 PNGs, the
most common failure causes and failing tests, and the submissions that could not be graded. It
is for staff: unlike student feedback it names hidden tests.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import ExportError
from ..results import Result
from ..store import write_text_atomic
from ..textsafe import visible_lines
from . import format_points

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

CAUSE_LABELS = {
    "wrong_answer": "wrong answer", "not_implemented": "not implemented", "exception": "exception raised",
    "timeout": "time limit exceeded", "crash": "worker crashed", "import_error": "import failed",
    "bad_return": "wrong return type/shape", "memory": "memory limit", "test_error": "grader/test error",
    "skipped": "skipped", "submission_error": "submission unusable",
}


@dataclass(frozen=True)
class QuestionStats:
    id: str
    title: str
    max_score: float
    mean: float
    full_marks: float  # fraction of graded students with full marks
    public_pass: float | None  # fraction of public test runs passed (None: no public tests)
    hidden_pass: float | None


@dataclass(frozen=True)
class ClassStats:
    assignment: str
    title: str
    students: int
    graded: int
    max_score: float
    scores: tuple[float, ...]
    questions: tuple[QuestionStats, ...]
    causes: tuple[tuple[str, int], ...]  # failed tests by cause, most common first
    failing_tests: tuple[tuple[str, str, int, str], ...]  # (question, test, failures, most common cause)
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
    """Numbers for the report; pass rates count graded submissions only (errors are listed apart)."""
    if not results:
        raise ExportError("no results to report on")
    graded = [r for r in results if r.status == "graded"]
    order: dict[str, str] = {}
    if spec is not None:
        order.update((q.id, q.title) for q in spec.questions)
    for r in results:
        for q in r.questions:
            order.setdefault(q.id, q.title)
    questions = []
    for qid, title in order.items():
        records = [q for r in graded if (q := r.question(qid)) is not None]
        max_score = max((q.max_score for r in results if (q := r.question(qid)) is not None), default=0.0)
        questions.append(QuestionStats(
            id=qid, title=title, max_score=max_score,
            mean=statistics.fmean([q.score for q in records]) if records else 0.0,
            full_marks=(sum(q.score >= q.max_score - 1e-9 for q in records) / len(records)) if records else 0.0,
            public_pass=_rate([t.passed for q in records for t in q.tests_of(hidden=False)]),
            hidden_pass=_rate([t.passed for q in records for t in q.tests_of(hidden=True)]),
        ))
    causes: Counter[str] = Counter()
    failing: dict[tuple[str, str], Counter[str]] = {}
    for r in graded:
        for q in r.questions:
            for t in q.tests:
                if not t.passed:
                    causes[t.cause or "unknown"] += 1
                    failing.setdefault((q.title, t.name), Counter())[t.cause or "unknown"] += 1
    failing_tests = sorted(((qt, name, sum(c.values()), c.most_common(1)[0][0]) for (qt, name), c in failing.items()),
                           key=lambda row: (-row[2], row[0], row[1]))
    return ClassStats(
        assignment=results[0].assignment,
        title=spec.title if spec is not None else results[0].assignment,
        students=len(results), graded=len(graded), max_score=max(r.max_score for r in results),
        scores=tuple(r.score for r in results), questions=tuple(questions),
        causes=tuple(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))),
        failing_tests=tuple(failing_tests[:15]),
        errors=tuple((r.student, r.error or "unknown reason") for r in results if r.status == "error"),
    )


# ---------------------------------------------------------------- plots


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ExportError("the class report needs matplotlib: pip install 'dl-autograder[lms]'") from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)  # a private canvas: no pyplot state, no display needed
    return fig


def _png(fig) -> str:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(stats: ClassStats) -> str:
    """Base64 PNG: how many students got each total score."""
    fig = _figure(7.5, 3.4)
    ax = fig.add_subplot()
    top = stats.max_score if stats.max_score > 0 else 1.0
    bins = max(5, min(20, int(top)))
    ax.hist(stats.scores, bins=bins, range=(0, top), color="#3b6fb6", edgecolor="white")
    ax.axvline(stats.mean, color="#d4380d", linestyle="--", linewidth=1.5, label=f"mean {stats.mean:.1f}")
    ax.set_xlabel(f"total score (out of {format_points(stats.max_score)})")
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return _png(fig)


def pass_rate_chart(stats: ClassStats) -> str:
    """Base64 PNG: per question, the share of public and hidden test runs that passed."""
    fig = _figure(7.5, 0.9 + 0.55 * max(1, len(stats.questions)))
    ax = fig.add_subplot()
    labels = [q.id for q in stats.questions][::-1]
    public = [100 * (q.public_pass or 0.0) for q in stats.questions][::-1]
    hidden = [100 * (q.hidden_pass or 0.0) for q in stats.questions][::-1]
    ys = list(range(len(labels)))
    ax.barh([y + 0.2 for y in ys], public, height=0.38, color="#2f8f5b", label="public tests")
    ax.barh([y - 0.2 for y in ys], hidden, height=0.38, color="#8a63d2", label="hidden tests")
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("tests passed (%)")
    ax.set_title("Pass rate per question")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    return _png(fig)


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde1e8;padding-bottom:.25rem}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}.card{background:#f4f6fa;border-radius:6px;padding:.6rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e6e9ef}td.num{text-align:right}
img{max-width:100%;height:auto;display:block;margin:.5rem 0}.muted{color:#5b6475}code{font-size:.88em}
"""


def _e(text: object) -> str:
    return html.escape(visible_lines(str(text)), quote=True)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def render_report(results: Sequence[Result], spec: "AssignmentSpec | None" = None) -> str:
    """The report as one HTML string (plots inline as data: URIs, no scripts, no external files)."""
    stats = class_stats(results, spec)
    body = [f"<h1>{_e(stats.title)}: class report</h1>",
            f'<p class="muted">assignment <code>{_e(stats.assignment)}</code></p><div class="cards">']
    cards = [("students", str(stats.students)), ("graded", str(stats.graded)),
             ("could not be graded", str(len(stats.errors))),
             ("mean", f"{stats.mean:.2f} / {format_points(stats.max_score)}"), ("median", f"{stats.median:g}")]
    body += [f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards] + ["</div>"]
    body.append("<h2>Score distribution</h2>")
    body.append(f'<img alt="histogram of total scores" src="data:image/png;base64,{score_histogram(stats)}">')
    body.append("<h2>Questions</h2>")
    body.append(f'<img alt="pass rate per question" src="data:image/png;base64,{pass_rate_chart(stats)}">')
    rows = "".join(
        f"<tr><td><code>{_e(q.id)}</code> {_e(q.title)}</td><td class=\"num\">{q.mean:.2f} / {_e(format_points(q.max_score))}"
        f"</td><td class=\"num\">{_pct(q.full_marks)}</td><td class=\"num\">{_pct(q.public_pass)}</td>"
        f"<td class=\"num\">{_pct(q.hidden_pass)}</td></tr>" for q in stats.questions)
    body.append("<table><thead><tr><th>Question</th><th>Mean score</th><th>Full marks</th><th>Public tests passed</th>"
                f"<th>Hidden tests passed</th></tr></thead><tbody>{rows}</tbody></table>")
    body.append("<h2>Most common failure causes</h2>")
    if stats.causes:
        rows = "".join(f"<tr><td>{_e(CAUSE_LABELS.get(c, c))} <span class=\"muted\">({_e(c)})</span></td>"
                       f"<td class=\"num\">{n}</td></tr>" for c, n in stats.causes)
        body.append(f"<table><thead><tr><th>Cause</th><th>Failed tests</th></tr></thead><tbody>{rows}</tbody></table>")
        rows = "".join(f"<tr><td>{_e(q)}</td><td><code>{_e(t)}</code></td><td class=\"num\">{n}</td>"
                       f"<td>{_e(CAUSE_LABELS.get(c, c))}</td></tr>" for q, t, n, c in stats.failing_tests)
        body.append("<p>Tests failed most often:</p><table><thead><tr><th>Question</th><th>Test</th>"
                    f"<th>Failures</th><th>Usual cause</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        body.append("<p>No test failed.</p>")
    body.append("<h2>Submissions that could not be graded</h2>")
    if stats.errors:
        items = "".join(f"<li><code>{_e(s)}</code>: {_e(reason)}</li>" for s, reason in stats.errors)
        body.append(f"<ul>{items}</ul>")
    else:
        body.append("<p>None: every submission was graded.</p>")
    title = f"{stats.title}: class report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(results: Sequence[Result], out: Path, spec: "AssignmentSpec | None" = None) -> Path:
    """Render, then write atomically: a failed plot leaves no half report."""
    return write_text_atomic(out, render_report(results, spec))


__all__ = ["ClassStats", "QuestionStats", "class_stats", "render_report", "write_report", "score_histogram",
           "pass_rate_chart"]
