"""Per-student feedback: a Markdown file and a self-contained HTML file for each result.

Students see their score per question and every public test's message. Hidden tests appear only
as "passed"/"failed" with a generic hint chosen by the failure's cause: never their names (a
parametrized name can carry an input), their messages, or the student's captured output (code
that prints its arguments would echo hidden inputs).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import OutputPathError
from ..results import QuestionResult, Result, TestResult
from ..store import write_text_atomic
from ..textsafe import markdown, visible_lines
from . import format_points

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

HINTS = {
    "wrong_answer": "the result differs from the reference on inputs you were not shown; re-read the "
                    "specification and test edge cases (shapes, signs, large or small values) yourself",
    "not_implemented": "not implemented yet",
    "exception": "your code raised an exception on inputs you were not shown; check edge cases",
    "timeout": "your code took longer than the time limit; look for an endless loop or very slow code",
    "crash": "the process running your code stopped (it exited, or was killed); check for exit() or huge allocations",
    "memory": "your code used more memory than allowed",
    "import_error": "your file could not be imported; run the public tests to see why",
    "bad_return": "your function returned a value of the wrong type or shape",
    "test_error": "the grader could not run this test; this is not your fault, tell the course staff",
    "submission_error": "the submission could not be graded",
    "skipped": "this test was not run",
}
GENERIC_HINT = "this test failed; re-read the specification and test edge cases yourself"


def hint(cause: str) -> str:
    return HINTS.get(cause, GENERIC_HINT)


def _title(result: Result, spec: "AssignmentSpec | None") -> str:
    return spec.title if spec is not None and spec.name == result.assignment else result.assignment


def short_name(test_name: str) -> str:
    """`public/test_x.py::test_y[case]` -> `test_y[case]`: what a student recognises from pytest."""
    return test_name.split("::", 1)[-1]


def _hidden_counts(q: QuestionResult) -> tuple[int, int]:
    hidden = q.tests_of(hidden=True)
    return sum(t.passed for t in hidden), len(hidden)


def summary_text(result: Result) -> str:
    """One-paragraph feedback (for an LMS comment or feedback column): totals per question, no details."""
    parts = [f"Total {format_points(result.score)}/{format_points(result.max_score)}."]
    if result.status == "error":
        parts.append(f"Not graded: {result.error or 'the submission could not be graded'}.")
    for q in result.questions:
        passed, total = _hidden_counts(q)
        extra = f" (hidden tests: {passed} of {total} passed)" if total else ""
        parts.append(f"{q.title}: {format_points(q.score)}/{format_points(q.max_score)}{extra}.")
    return " ".join(parts)


# ---------------------------------------------------------------- Markdown

def _md(text: str) -> str:
    return markdown(text)


def _fence(text: str) -> str:
    text = visible_lines(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _public_md(t: TestResult) -> list[str]:
    mark = "✅ passed" if t.passed else "❌ failed"
    lines = [f"- `{short_name(t.name).replace('`', '')}`: {mark} ({format_points(t.score)}/{format_points(t.max_score)})"]
    if not t.passed:
        text = t.message.strip() or hint(t.cause)
        lines += ["", *("  " + line if line else "" for line in _fence(text).splitlines()), ""]
    return lines


def render_markdown(result: Result, spec: "AssignmentSpec | None" = None) -> str:
    """The student's feedback as Markdown (what an LMS comment box or a repository renders)."""
    out = [f"# {_md(_title(result, spec))}: feedback for {_md(result.student)}", ""]
    out.append(f"**Score: {format_points(result.score)} / {format_points(result.max_score)}**")
    out.append("")
    if result.status == "error":
        out += ["This submission could not be graded:", "", _fence(result.error or "unknown reason"), ""]
    if result.warnings:
        out += ["About your submission:", "", *(f"- {_md(w)}" for w in result.warnings), ""]
    out += ["| Question | Score | Hidden tests |", "| --- | ---: | --- |"]
    for q in result.questions:
        passed, total = _hidden_counts(q)
        hidden = f"{passed} of {total} passed" if total else "none"
        out.append(f"| {_md(q.title)} | {format_points(q.score)} / {format_points(q.max_score)} | {hidden} |")
    for q in result.questions:
        out += ["", f"## {_md(q.title)}: {format_points(q.score)} / {format_points(q.max_score)}", ""]
        public = q.tests_of(hidden=False)
        if public:
            out += ["Public tests (you can run these yourself with `pytest`):", ""]
            for t in public:
                out += _public_md(t)
        hidden_tests = q.tests_of(hidden=True)
        if hidden_tests:
            passed, total = _hidden_counts(q)
            out += ["", f"Hidden tests: {passed} of {total} passed.", ""]
            for i, t in enumerate(hidden_tests, start=1):
                if t.passed:
                    out.append(f"- hidden test {i}: ✅ passed")
                else:
                    out.append(f"- hidden test {i}: ❌ failed: {_md(hint(t.cause))}")
        if not q.tests:
            out.append("No tests ran for this question.")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2330;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #dde1e8;padding-bottom:.2rem}
.total{font-size:1.3rem;font-weight:600;margin:.6rem 0 1rem}.error{background:#fff1f0;border-left:4px solid #d4380d;padding:.6rem .8rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e6e9ef}td.num{text-align:right;white-space:nowrap}
.bar{background:#edf0f5;border-radius:3px;height:.6rem;min-width:6rem}.bar span{display:block;height:100%;border-radius:3px;background:#2f8f5b}
ul.tests{list-style:none;padding-left:0}ul.tests li{margin:.35rem 0}.ok{color:#217a46;font-weight:600}.ko{color:#b42318;font-weight:600}
pre{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:4px;padding:.6rem;overflow-x:auto;white-space:pre-wrap;font-size:.85rem}
code{font-size:.9em}.muted{color:#5b6475}
"""


def _e(text: object) -> str:
    return html.escape(visible_lines(str(text)), quote=True)


def _bar(score: float, max_score: float) -> str:
    pct = 0.0 if max_score <= 0 else max(0.0, min(100.0, 100.0 * score / max_score))
    return f'<div class="bar" title="{pct:.0f}%"><span style="width:{pct:.1f}%"></span></div>'


def render_html(result: Result, spec: "AssignmentSpec | None" = None) -> str:
    """The same feedback as one HTML file with inline CSS: no scripts, no external resources."""
    title = f"{_title(result, spec)}: feedback for {result.student}"
    body = [f"<h1>{_e(title)}</h1>",
            f'<p class="total">Score: {_e(format_points(result.score))} / {_e(format_points(result.max_score))}</p>']
    if result.status == "error":
        body.append(f'<div class="error"><strong>This submission could not be graded:</strong> '
                    f"{_e(result.error or 'unknown reason')}</div>")
    if result.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in result.warnings)
        body.append(f"<p>About your submission:</p><ul>{items}</ul>")
    rows = []
    for q in result.questions:
        passed, total = _hidden_counts(q)
        hidden = f"{passed} of {total} passed" if total else "none"
        rows.append(f"<tr><td>{_e(q.title)}</td><td class=\"num\">{_e(format_points(q.score))} / "
                    f"{_e(format_points(q.max_score))}</td><td>{_bar(q.score, q.max_score)}</td><td>{_e(hidden)}</td></tr>")
    body.append("<table><thead><tr><th>Question</th><th>Score</th><th></th><th>Hidden tests</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")
    for q in result.questions:
        body.append(f"<h2>{_e(q.title)}: {_e(format_points(q.score))} / {_e(format_points(q.max_score))}</h2>")
        public = q.tests_of(hidden=False)
        if public:
            items = []
            for t in public:
                mark = '<span class="ok">passed</span>' if t.passed else '<span class="ko">failed</span>'
                item = (f"<li><code>{_e(short_name(t.name))}</code>: {mark} "
                        f'<span class="muted">({_e(format_points(t.score))}/{_e(format_points(t.max_score))})</span>')
                if not t.passed:
                    item += f"<pre>{_e(t.message.strip() or hint(t.cause))}</pre>"
                items.append(item + "</li>")
            body.append('<p>Public tests (you can run these yourself with <code>pytest</code>):</p>'
                        f'<ul class="tests">{"".join(items)}</ul>')
        hidden_tests = q.tests_of(hidden=True)
        if hidden_tests:
            passed, total = _hidden_counts(q)
            items = []
            for i, t in enumerate(hidden_tests, start=1):
                if t.passed:
                    items.append(f'<li>hidden test {i}: <span class="ok">passed</span></li>')
                else:
                    items.append(f'<li>hidden test {i}: <span class="ko">failed</span>: {_e(hint(t.cause))}</li>')
            body.append(f"<p>Hidden tests: {passed} of {total} passed.</p><ul class=\"tests\">{''.join(items)}</ul>")
        if not q.tests:
            body.append('<p class="muted">No tests ran for this question.</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_feedback(results: Iterable[Result], out_dir: Path,
                   spec: "AssignmentSpec | None" = None) -> list[Path]:
    """Write `<student>.md` and `<student>.html` for every result into `out_dir` (created).

    Everything is rendered before the first file is written, and each file is written atomically.
    """
    out_dir = Path(out_dir)
    rendered = []
    for r in results:
        rendered.append((out_dir / f"{r.student}.md", render_markdown(r, spec)))
        rendered.append((out_dir / f"{r.student}.html", render_html(r, spec)))
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputPathError(f"cannot write feedback into {out_dir}: it is a file; choose a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot create the feedback folder {out_dir}: {exc.strerror}; choose another --out") from None
    return [write_text_atomic(path, text) for path, text in rendered]


__all__ = ["HINTS", "hint", "short_name", "summary_text", "render_markdown", "render_html", "write_feedback"]
