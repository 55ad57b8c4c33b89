"""Canvas: a gradebook-import CSV, and an optional upload through Canvas's REST API (canvasapi).

The CSV follows Canvas's gradebook import: header `Student, ID, [SIS User ID, SIS Login ID,]
Section, <title> (<assignment id>)`, an optional `Points Possible` row, then one row per student.
Canvas matches a row by ID (the Canvas user id), then SIS User ID, then SIS Login ID, then name,
and matches the column to the assignment by the id in parentheses. Only students with a result
are written: a blank cell would clear a grade already in Canvas.

The upload is a dry run unless asked otherwise: it prints what would be posted and sends nothing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import CanvasUploadError, ExportError, ResultsError
from ..results import Result
from . import format_points, write_csv_atomic
from .feedback import summary_text
from .roster import ExportReport, Match, Roster, RosterEntry, match

STUDENT_COLUMNS = ("Student", "ID")
SIS_COLUMNS = ("SIS User ID", "SIS Login ID")
SECTION_COLUMN = "Section"
POINTS_POSSIBLE = "Points Possible"
CANVAS_IDS = ("canvas_id", "sis_user_id", "sis_login_id")
_DIGITS = re.compile(r"^[0-9]+$")


def assignment_column(title: str, canvas_assignment_id: str | int) -> str:
    """`<title> (<id>)`: how Canvas names an assignment column and finds the assignment on import."""
    cid = str(canvas_assignment_id).strip()
    if not _DIGITS.match(cid):
        raise ExportError(f"the Canvas assignment id must be a number (the digits at the end of the assignment's "
                          f"URL, .../assignments/<id>), got {canvas_assignment_id!r}")
    title = " ".join(title.split())
    if not title:
        raise ExportError("the assignment title is empty; pass --title")
    return f"{title} ({cid})"


def max_points(results: Iterable[Result]) -> float:
    """The assignment's points, which every result must agree on."""
    values = sorted({r.max_score for r in results})
    if len(values) != 1:
        raise ResultsError(f"the results disagree on the maximum score ({', '.join(format_points(v) for v in values)}); "
                           "regrade everyone with the same assignment.yaml")
    return values[0]


def _check_roster(roster: Roster, entries: Iterable[RosterEntry]) -> None:
    why = " (Canvas needs a Canvas user id or an SIS id to find each student)"
    roster.require(any_of=CANVAS_IDS, why=why)
    roster.require_values(entries, CANVAS_IDS, why=why)


def canvas_rows(found: Match, roster: Roster, *, title: str, canvas_assignment_id: str | int,
                points_possible: float | None, missing: str = "skip") -> list[list[str]]:
    """The CSV as rows of strings (header, optional Points Possible, students)."""
    sis = any(c in roster.columns for c in ("sis_user_id", "sis_login_id"))
    fixed = [*STUDENT_COLUMNS, *(SIS_COLUMNS if sis else ()), SECTION_COLUMN]
    rows = [[*fixed, assignment_column(title, canvas_assignment_id)]]
    if points_possible is not None:
        rows.append([POINTS_POSSIBLE, *([""] * (len(fixed) - 1)), format_points(points_possible)])
    students = [(e, r.score if r is not None else 0.0) for e, r in found.exported(missing)]
    _check_roster(roster, [e for e, _ in students])
    for entry, score in sorted(students, key=lambda pair: pair[0].row):
        sis_cells = [entry.get("sis_user_id"), entry.get("sis_login_id")] if sis else []
        rows.append([entry.get("name") or entry.student, entry.get("canvas_id"), *sis_cells,
                     entry.get("section"), format_points(score)])
    return rows


def export_canvas_csv(results: list[Result], roster: Roster, out: Path, *, title: str,
                      canvas_assignment_id: str | int, points_possible: bool = True, missing: str = "skip",
                      strict: bool = False) -> ExportReport:
    """Write the Canvas gradebook-import CSV atomically; report who matched and who did not."""
    found = match(roster, results, strict=strict)
    rows = canvas_rows(found, roster, title=title, canvas_assignment_id=canvas_assignment_id,
                       points_possible=max_points(results) if points_possible else None, missing=missing)
    path = write_csv_atomic(out, rows)
    count = len(rows) - 1 - (1 if points_possible else 0)
    return ExportReport(path, count, found)


# ---------------------------------------------------------------- REST upload


@dataclass(frozen=True)
class PlannedGrade:
    student: str
    canvas_user: str  # a Canvas user id, or "sis_user_id:..." / "sis_login_id:..." as the API accepts
    posted_grade: str
    comment: str = ""


@dataclass(frozen=True)
class UploadReport:
    dry_run: bool
    grades: tuple[PlannedGrade, ...]
    match: Match
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        verb = "would post" if self.dry_run else "posted"
        out = [f"{verb} {len(self.grades)} grades"]
        if self.dry_run:
            out += [f"  {g.student} -> {g.canvas_user}: {g.posted_grade}" for g in self.grades]
            out.append("dry run: nothing was sent; pass --no-dry-run to upload")
        return out + self.match.summary_lines() + list(self.notes)


def canvas_user(entry: RosterEntry) -> str:
    """How the submissions API names a user: the numeric id, else an SIS-id reference."""
    if entry.get("canvas_id"):
        if not _DIGITS.match(entry.get("canvas_id")):
            raise ExportError(f"roster row {entry.row} (student {entry.student!r}): canvas_id "
                              f"{entry.get('canvas_id')!r} is not a number")
        return entry.get("canvas_id")
    if entry.get("sis_user_id"):
        return f"sis_user_id:{entry.get('sis_user_id')}"
    return f"sis_login_id:{entry.get('sis_login_id')}"


def plan_upload(results: list[Result], roster: Roster, *, comments: bool = False, missing: str = "skip",
                strict: bool = False) -> tuple[list[PlannedGrade], Match]:
    """The grades to post, one per matched student (plus zeros for missing ones with missing='zero')."""
    found = match(roster, results, strict=strict)
    students = found.exported(missing)
    _check_roster(roster, [e for e, _ in students])
    plan = []
    for entry, result in students:
        score = result.score if result is not None else 0.0
        comment = summary_text(result) if (comments and result is not None) else ""
        plan.append(PlannedGrade(entry.student, canvas_user(entry), format_points(score), comment))
    return plan, found


def upload_canvas(results: list[Result], roster: Roster, *, base_url: str, token: str | None,
                  course_id: str | int, assignment_id: str | int, dry_run: bool = True, comments: bool = False,
                  missing: str = "skip", strict: bool = False, timeout: float = 120.0,
                  poll_interval: float = 1.0) -> UploadReport:
    """Post grades with the submissions bulk-update endpoint and wait for Canvas's job to finish.

    Calls: GET /api/v1/courses/:id, GET /api/v1/courses/:id/assignments/:id,
    POST /api/v1/courses/:id/assignments/:id/submissions/update_grades, GET /api/v1/progress/:id.
    """
    for what, value in (("course id", course_id), ("assignment id", assignment_id)):
        if not _DIGITS.match(str(value).strip()):
            raise ExportError(f"the Canvas {what} must be a number (from the course/assignment URL), got {value!r}")
    plan, found = plan_upload(results, roster, comments=comments, missing=missing, strict=strict)
    if dry_run:
        return UploadReport(True, tuple(plan), found)
    if not base_url or not base_url.startswith(("http://", "https://")):
        raise ExportError(f"--canvas-url must be the Canvas address such as https://canvas.example.edu, got {base_url!r}")
    if not token:
        raise ExportError("no Canvas API token: set the environment variable named by --token-env "
                          "(Canvas > Account > Settings > New access token)")
    try:
        from canvasapi import Canvas
        from canvasapi.exceptions import CanvasException
        from requests import RequestException
    except ImportError:
        raise ExportError("uploading to Canvas needs canvasapi: pip install 'dl-autograder[lms]'") from None
    canvas = Canvas(base_url.rstrip("/"), token)
    grade_data = {g.canvas_user: {"posted_grade": g.posted_grade, **({"text_comment": g.comment} if g.comment else {})}
                  for g in plan}
    notes: list[str] = []
    try:
        assignment = canvas.get_course(int(course_id)).get_assignment(int(assignment_id))
        possible = getattr(assignment, "points_possible", None)
        ours = max_points(results)
        if possible is not None and abs(float(possible) - ours) > 1e-9:
            notes.append(f"warning: the Canvas assignment is worth {format_points(float(possible))} points, "
                         f"the autograder's maximum is {format_points(ours)}; scores were posted as points")
        if not grade_data:
            return UploadReport(False, (), found, tuple(notes + ["nothing to post"]))
        progress = assignment.submissions_bulk_update(grade_data=grade_data)
        deadline = time.monotonic() + timeout
        while getattr(progress, "workflow_state", "completed") in ("queued", "running"):
            if time.monotonic() > deadline:
                raise CanvasUploadError(f"Canvas has not finished the grade upload after {timeout:.0f} s "
                                        f"(progress id {progress.id}); check the gradebook before retrying")
            time.sleep(poll_interval)
            progress = progress.query()
        state = getattr(progress, "workflow_state", "completed")
        if state != "completed":
            raise CanvasUploadError(f"Canvas reports the grade upload as {state!r}: "
                                    f"{getattr(progress, 'message', '') or 'no message'}; nothing may have been saved")
    except CanvasException as exc:
        raise CanvasUploadError(f"Canvas refused the request ({type(exc).__name__}: {exc}); check the token, "
                                f"course {course_id} and assignment {assignment_id}") from None
    except RequestException as exc:
        raise CanvasUploadError(f"cannot reach Canvas at {base_url}: {exc}") from None
    return UploadReport(False, tuple(plan), found, tuple(notes))


__all__ = ["assignment_column", "canvas_rows", "export_canvas_csv", "max_points", "plan_upload", "upload_canvas",
           "PlannedGrade", "UploadReport"]
