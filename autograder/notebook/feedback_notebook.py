"""`feedback/<student>.ipynb`: the student's own notebook, outputs cleared, with the score of each
question in a markdown cell right after the cell its code was taken from (`autograder feedback
--notebooks SUBMISSIONS`). Hidden tests appear only as counts, as in the Markdown feedback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..course import CourseDir
from ..errors import ExportError
from ..exports import format_points
from ..grading.submissions import SubmissionError, discover
from ..results import QuestionResult, Result
from ..store import write_bytes_atomic
from .handin import NotebookHandIn, release_copies
from .release_notebook import dumps, source_lines

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec


def _question_text(q: QuestionResult) -> str:
    public = q.tests_of(hidden=False)
    hidden = q.tests_of(hidden=True)
    parts = [f"**Question `{q.id}` ({q.title}): {format_points(q.score)} / {format_points(q.max_score)}**"]
    if public:
        parts.append(f"public tests: {sum(t.passed for t in public)} of {len(public)} passed")
    if hidden:
        parts.append(f"hidden tests: {sum(t.passed for t in hidden)} of {len(hidden)} passed")
    failed = next((t for t in public if not t.passed and t.message.strip()), None)
    text = "; ".join(parts)
    if failed is not None:
        text += "\n\nFirst failing public test:\n\n" + "\n".join("    " + line for line in failed.message.strip().split("\n")[:15])
    return text + "\n"


def build_feedback_notebook(result: Result, hand_in: NotebookHandIn,
                            symbols: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The notebook as a JSON document (see the module docstring)."""
    after: dict[int, list[QuestionResult]] = {}
    unplaced: list[QuestionResult] = []
    for q in result.questions:
        cells = [w.cell for name in symbols.get(q.id, ()) if (w := hand_in.extraction.where(name)) is not None]
        (after.setdefault(max(cells), []) if cells else unplaced).append(q)
    head = [f"# Feedback for {result.student}: {format_points(result.score)} / {format_points(result.max_score)}", ""]
    if result.error:
        head += [f"Not graded: {result.error}", ""]
    head += [f"- {note}" for note in result.warnings]
    head += ["", *(_question_text(q) for q in unplaced)]
    cells: list[dict[str, Any]] = [{"cell_type": "markdown", "id": "feedback-summary", "metadata": {},
                                    "source": source_lines("\n".join(head))}]
    for cell in hand_in.cells:
        out: dict[str, Any] = {"cell_type": cell.kind, "id": f"cell-{cell.number}", "metadata": {},
                               "source": source_lines(cell.source)}
        if cell.kind == "code":
            out.update(execution_count=None, outputs=[])
        cells.append(out)
        for q in after.get(cell.number, []):
            cells.append({"cell_type": "markdown", "id": f"feedback-{q.id}", "metadata": {}, "source": source_lines(_question_text(q))})
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def write_feedback_notebooks(results: list[Result], submissions: Path, out_dir: Path,
                             spec: "AssignmentSpec | None") -> list[Path]:
    """`<out_dir>/<student>.ipynb` for every result whose submission in `submissions` is a notebook."""
    from ..grading.notebook_route import NotebookRoute
    from .questions import layout

    course = CourseDir.find_optional()
    if spec is None or course is None:
        raise ExportError("feedback notebooks need the course folder (with assignments/ and solutions/): "
                          "run this command inside it or set AUTOGRADER_COURSE")
    symbols = layout(course, spec).symbols
    route = NotebookRoute(release_copies(course, spec), symbols)
    found = {s.student: s for s in discover(Path(submissions)).submissions}
    written = []
    for result in results:
        sub = found.get(result.student)
        try:
            taken = route.hand_in(sub, spec.files) if sub is not None and not sub.problem else None
        except SubmissionError:
            continue  # the result already says why this submission could not be read
        if taken is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            doc = build_feedback_notebook(result, taken[0], symbols)
            written.append(write_bytes_atomic(out_dir / f"{result.student}.ipynb", dumps(doc)))
    return written
