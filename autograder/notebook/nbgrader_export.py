"""`autograder export nbgrader`: per-question scores into an nbgrader course's gradebook.

Written through nbgrader's own API (`nbgrader.api.Gradebook`), so `nbgrader export` and formgrader
show them. Each question is a grade cell whose grade_id is the question id (as in the released
notebook), in the notebook named after the assignment; missing assignment, notebook, grade cells,
students and submissions are created. Scores are stored as nbgrader's automatic scores, so a later
`nbgrader autograde` of the same submissions overwrites them: grade with `autograder grade` and
export again instead. nbgrader is an optional extra (`pip install 'dl-autograder[notebooks]'`),
imported only here.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import NbgraderExportError
from ..results import Result

INSTALL_HINT = "install the extra: pip install 'dl-autograder[notebooks]' (nbgrader and its ~100 packages)"


@dataclass(frozen=True)
class NbgraderExport:
    database: Path
    assignment: str
    notebook: str
    students: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"wrote {len(self.students)} students' scores for {self.assignment}/{self.notebook} into {self.database}",
                "note: `nbgrader autograde` on these submissions would overwrite them; export again after it"]


def _api() -> Any:
    try:
        from nbgrader import api
    except ImportError:
        raise NbgraderExportError(f"`autograder export nbgrader` needs nbgrader: {INSTALL_HINT}") from None
    return api


@contextmanager
def _alembic_on_path() -> Iterator[None]:
    """nbgrader runs the `alembic` command to create a new gradebook: find it beside this Python."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved])
    try:
        with warnings.catch_warnings():  # SQLAlchemy warns about nbgrader's own session handling
            warnings.filterwarnings("ignore", message=".*not in session.*")
            yield
    finally:
        os.environ["PATH"] = saved


def export_nbgrader(results: Sequence[Result], course_dir: Path, *, notebook: str | None = None,
                    db_url: str | None = None) -> NbgraderExport:
    """Write every result's per-question scores into the course's gradebook (one transaction)."""
    api = _api()
    course_dir = Path(course_dir)
    if not course_dir.is_dir():
        raise NbgraderExportError(f"no nbgrader course folder {course_dir}; pass --course-dir (the folder with "
                                  "nbgrader_config.py and gradebook.db)")
    assignment = results[0].assignment
    name = notebook or assignment
    database = course_dir / "gradebook.db"
    try:
        with _alembic_on_path(), api.Gradebook(db_url or f"sqlite:///{database}") as gb:
            gb.update_or_create_assignment(assignment)
            try:
                gb.find_notebook(name, assignment)
            except api.MissingEntry:
                gb.add_notebook(name, assignment)
            for q in results[0].questions:
                gb.update_or_create_grade_cell(q.id, name, assignment, max_score=q.max_score, cell_type="code")
            for result in results:
                gb.update_or_create_student(result.student)
                gb.update_or_create_submission(assignment, result.student)
                submitted = gb.find_submission_notebook(name, assignment, result.student)
                for q in result.questions:
                    try:
                        grade = gb.find_grade(q.id, name, assignment, result.student)
                    except api.MissingEntry:  # a grade cell added after the submission was created
                        cell = gb.find_grade_cell(q.id, name, assignment)
                        grade = api.Grade(cell_id=cell.id, notebook=submitted)
                        gb.db.add(grade)
                    grade.auto_score = float(q.score)
                    grade.manual_score = None
                    grade.needs_manual_grade = False
            gb.db.commit()
    except api.InvalidEntry as exc:
        raise NbgraderExportError(f"{database}: nbgrader refused the scores ({exc}); nothing was written") from None
    return NbgraderExport(database, assignment, name, tuple(r.student for r in results))
