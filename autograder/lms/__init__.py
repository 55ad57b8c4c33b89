"""After grading: LMS exports (Canvas, Moodle, Gradescope), feedback, class report, gradebook.

Everything here works from the per-student result JSON files (see `autograder.results_io`), never
from the grader itself. Files are written atomically: a temp file in the target's folder, then
`os.replace`, so a failed export never leaves a partial file for someone to upload by mistake.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from .errors import ExportError, OutputPathError

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder; give a file name inside it instead")
    if not path.parent.is_dir():
        raise OutputPathError(f"cannot write {path}: the folder {path.parent} does not exist; create it or choose another path")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` via a temp file in the same folder; on any error no file is left."""
    path = Path(path)
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputPathError(f"cannot write {path}: {exc.strerror}; check the folder's permissions or choose another path") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"cannot write {path}: {exc.strerror}; nothing was written") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text (RFC 4180 quoting and CRLF line ends, via the csv module); text cells
    never start a spreadsheet formula and show control characters as escapes."""
    from ..textsafe import csv_cell

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_csv_atomic(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    """Render the whole CSV in memory first, so a bad value fails before anything is written."""
    return write_text_atomic(path, csv_text(rows))


def format_points(value: float) -> str:
    """Points as LMS imports expect them: a plain decimal, no exponent, no trailing zeros."""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def find_assignment(name: str, course_root: Path | None = None) -> "AssignmentSpec | None":
    """The assignment's spec from `assignments/<name>/assignment.yaml`, or None when there is no course.

    Titles, points and hidden-test visibility come from there; exports still work from the result
    JSON alone (with the assignment name as title) when run outside a course folder.
    """
    from ..config import ConfigError
    from ..layout import CourseDir, LayoutError

    try:
        course = CourseDir(Path(course_root).resolve()) if course_root else CourseDir.find()
    except LayoutError:
        return None
    if not (course.assignments_dir / name / "assignment.yaml").is_file():
        return None
    try:
        return course.assignment(name).spec
    except (ConfigError, LayoutError) as exc:
        raise ExportError(str(exc)) from None


__all__ = [
    "write_bytes_atomic", "write_text_atomic", "write_csv_atomic", "csv_text", "format_points", "find_assignment",
]
