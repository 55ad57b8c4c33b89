"""Moodle: a CSV for Grades > Import > CSV file.

Moodle's CSV import takes any header row and lets the teacher map one column to a user field
(`Map from` the column, `Map to` email address, username or ID number) and each other column to a
grade item or to the feedback of a grade item. So the file has exactly one identity column, one
column per grade item (the assignment total, optionally one per question), and optionally one
feedback column for the total; headers are named like Moodle's own export so mapping is obvious.
Moodle's docs warn that importing feedback without its grade clears the grade, so feedback is
always written next to its grade.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ExportError
from ..results import Result
from . import format_points, write_csv_atomic
from .feedback import summary_text
from .roster import ExportReport, Roster, match

# identity choice -> (roster column, header as in Moodle's grade export)
IDENTITIES = {"email": ("email", "Email address"), "username": ("username", "Username"),
              "idnumber": ("idnumber", "ID number")}


def moodle_rows(results: list[Result], roster: Roster, *, identity: str = "email", item: str,
                per_question: bool = False, feedback: bool = False, missing: str = "skip",
                strict: bool = False) -> tuple[list[list[str]], "ExportReport"]:
    """Rows of the import CSV (header first) and the match report."""
    if identity not in IDENTITIES:
        raise ExportError(f"--identity must be one of {', '.join(IDENTITIES)}, got {identity!r}")
    item = " ".join(item.split())
    if not item:
        raise ExportError("the grade item name is empty; pass --item")
    column, header = IDENTITIES[identity]
    why = f" (chosen with --identity {identity})"
    roster.require([column], why=why)
    found = match(roster, results, strict=strict)
    students = found.exported(missing)
    roster.require_values([e for e, _ in students], [column], why=why)
    questions: list[tuple[str, str]] = []
    if per_question:
        for r in results:
            for q in r.questions:
                if q.id not in {qid for qid, _ in questions}:
                    questions.append((q.id, q.title))
    titles = [title for _, title in questions]
    if len(set(titles)) != len(titles):
        titles = [qid for qid, _ in questions]  # two questions share a title: use the ids
    rows = [[header, item, *(f"{item}: {t}" for t in titles), *([f"{item} (Feedback)"] if feedback else [])]]
    for entry, result in sorted(students, key=lambda pair: pair[0].row):
        total = result.score if result is not None else 0.0
        by_id = {q.id: q.score for q in result.questions} if result is not None else {}
        cells = [entry.get(column), format_points(total), *(format_points(by_id.get(qid, 0.0)) for qid, _ in questions)]
        if feedback:
            cells.append(summary_text(result) if result is not None else "No submission.")
        rows.append(cells)
    return rows, ExportReport(None, len(rows) - 1, found)


def export_moodle_csv(results: list[Result], roster: Roster, out: Path, *, identity: str = "email",
                      item: str, per_question: bool = False, feedback: bool = False, missing: str = "skip",
                      strict: bool = False) -> ExportReport:
    """Write the Moodle import CSV atomically; report who matched and who did not."""
    rows, report = moodle_rows(results, roster, identity=identity, item=item, per_question=per_question,
                               feedback=feedback, missing=missing, strict=strict)
    path = write_csv_atomic(out, rows)
    column = IDENTITIES[identity][1]
    note = (f"in Moodle: Grades > Import > CSV file; map from {column!r} to {IDENTITIES[identity][1].lower()}, "
            f"and map {item!r} to the grade item" + (" and its feedback column to its feedback" if feedback else ""))
    return ExportReport(path, report.rows, report.match, (note,))


__all__ = ["IDENTITIES", "moodle_rows", "export_moodle_csv"]
