"""The roster: a CSV that maps the student ids used in submissions to LMS identities.

Columns (header names are case-insensitive; extra columns are ignored):

    student        the id of the submission folder / result file (required)
    name           the student's name as the LMS shows it (Canvas's "Student" column)
    canvas_id      Canvas user id (Canvas's "ID" column)
    sis_user_id    Canvas "SIS User ID"          sis_login_id   Canvas "SIS Login ID"
    section        Canvas "Section"
    email, username, idnumber                    Moodle identities

A roster with a missing column, an empty or duplicated student id, or an LMS identity used by two
rows is refused with the file and row numbers. Matching lists both kinds of unmatched students
(graded but not on the roster, on the roster but not graded): nobody is dropped silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import ExportError, RosterError, UnmatchedStudentsError
from ..results import Result

KNOWN = ("student", "name", "canvas_id", "sis_user_id", "sis_login_id", "section", "email", "username", "idnumber")
IDENTITIES = ("canvas_id", "sis_user_id", "sis_login_id", "email", "username", "idnumber")
ALIASES = {
    "student_id": "student", "submission": "student", "canvas_user_id": "canvas_id", "sis_id": "sis_user_id",
    "login_id": "sis_login_id", "e_mail": "email", "email_address": "email", "id_number": "idnumber",
    "user_name": "username", "login": "username",
}


def _column(header: str) -> str:
    key = "_".join(header.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


@dataclass(frozen=True)
class RosterEntry:
    student: str
    row: int  # line number in the roster file, for error messages
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, column: str) -> str:
        return self.fields.get(column, "")


@dataclass(frozen=True)
class Roster:
    path: Path
    columns: tuple[str, ...]
    entries: tuple[RosterEntry, ...]

    def require(self, columns: Sequence[str] = (), *, any_of: Sequence[str] = (), why: str = "") -> None:
        """Refuse a roster that lacks columns an export needs, naming them and the file."""
        missing = [c for c in columns if c not in self.columns]
        if any_of and not any(c in self.columns for c in any_of):
            missing.append(" or ".join(any_of))
        if missing:
            found = ", ".join(self.columns)
            raise RosterError(f"{self.path}: missing column {', '.join(repr(m) for m in missing)}{why} "
                              f"(columns found: {found}); add it to the header row")

    def require_values(self, entries: Iterable[RosterEntry], any_of: Sequence[str], why: str = "") -> None:
        """Every entry that will be exported has a value in at least one of `any_of`."""
        for entry in entries:
            if not any(entry.get(c) for c in any_of):
                raise RosterError(f"{self.path}: row {entry.row} (student {entry.student!r}) has no "
                                  f"{' or '.join(any_of)}{why}; fill it in or remove the row")


def load_roster(path: Path) -> Roster:
    """Read and validate a roster CSV (UTF-8, with or without a byte-order mark)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text; save the roster as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise RosterError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows or not any(cell.strip() for cell in rows[0][1]):
        raise RosterError(f"{path}: the roster is empty; its first row must be a header such as student,name,email")
    names = rows[0][1]
    header = [_column(h) for h in names]
    seen: dict[str, int] = {}
    for i, col in enumerate(header):
        if col and col in seen:
            raise RosterError(f"{path}: column {names[i]!r} appears twice in the header; keep one")
        seen[col] = i
    if "student" not in seen:
        raise RosterError(f"{path}: missing column 'student' (the id used for the submission folders); "
                          f"columns found: {', '.join(names)}")
    columns = tuple(c for c in header if c in KNOWN)
    entries: list[RosterEntry] = []
    by_student: dict[str, RosterEntry] = {}
    by_identity: dict[tuple[str, str], RosterEntry] = {}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
            raise RosterError(f"{path}: row {line} has {len(row)} fields but the header has {len(header)}; "
                              "quote values that contain commas")
        values = {col: (row[i].strip() if i < len(row) else "") for col, i in seen.items() if col in KNOWN}
        student = values["student"]
        if not student:
            raise RosterError(f"{path}: row {line} has an empty student id; fill it in or remove the row")
        entry = RosterEntry(student=student, row=line, fields=values)
        key = student.casefold()
        if key in by_student:
            raise RosterError(f"{path}: rows {by_student[key].row} and {line} are both for student {student!r}; "
                              "keep one row per student")
        by_student[key] = entry
        for col in IDENTITIES:
            value = values.get(col, "")
            if not value:
                continue
            other = by_identity.get((col, value.casefold()))
            if other is not None:
                raise RosterError(f"{path}: rows {other.row} and {line} have the same {col} {value!r} "
                                  f"(students {other.student!r} and {student!r}); each LMS identity must be unique")
            by_identity[(col, value.casefold())] = entry
        entries.append(entry)
    if not entries:
        raise RosterError(f"{path}: the roster has a header but no students")
    return Roster(path=path, columns=columns, entries=tuple(entries))


@dataclass(frozen=True)
class Match:
    """The roster joined with the results: pairs, plus everyone found on one side only."""

    pairs: tuple[tuple[RosterEntry, Result], ...]
    not_on_roster: tuple[str, ...]  # graded students with no roster row: cannot be exported
    no_result: tuple[RosterEntry, ...]  # roster students with no result (did not submit?)

    @property
    def complete(self) -> bool:
        return not self.not_on_roster and not self.no_result

    def exported(self, missing: str) -> list[tuple[RosterEntry, Result | None]]:
        """The students an export writes: matched ones, plus roster-only ones (as None) with 'zero'."""
        students: list[tuple[RosterEntry, Result | None]] = list(self.pairs)
        if missing == "zero":
            students += [(e, None) for e in self.no_result]
        elif missing != "skip":
            raise ExportError(f"--missing must be 'skip' or 'zero', got {missing!r}")
        return students

    def summary_lines(self) -> list[str]:
        lines = [f"matched {len(self.pairs)} students"]
        if self.not_on_roster:
            lines.append(f"graded but not on the roster (NOT exported; add them to the roster): "
                         f"{', '.join(self.not_on_roster)}")
        if self.no_result:
            lines.append(f"on the roster but no result (no submission?): "
                         f"{', '.join(e.student for e in self.no_result)}")
        return lines


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and who was left out, for the command to print."""

    path: Path | None
    rows: int
    match: Match
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        head = [f"wrote {self.path} ({self.rows} students)"] if self.path is not None else []
        return head + self.match.summary_lines() + list(self.notes)


def match(roster: Roster, results: Iterable[Result], *, strict: bool = False) -> Match:
    """Join by student id (case-insensitive). With `strict`, any unmatched student is an error."""
    by_student = {e.student.casefold(): e for e in roster.entries}
    pairs = []
    not_on_roster = []
    matched: set[str] = set()
    for result in sorted(results, key=lambda r: r.student):
        entry = by_student.get(result.student.casefold())
        if entry is None:
            not_on_roster.append(result.student)
        else:
            pairs.append((entry, result))
            matched.add(entry.student.casefold())
    no_result = tuple(e for e in roster.entries if e.student.casefold() not in matched)
    found = Match(tuple(pairs), tuple(not_on_roster), no_result)
    if strict and not found.complete:
        raise UnmatchedStudentsError(f"{roster.path}: the roster and the results do not match (--strict): "
                                     + "; ".join(found.summary_lines()[1:]))
    return found


__all__ = ["RosterEntry", "Roster", "Match", "ExportReport", "load_roster", "match", "KNOWN", "IDENTITIES"]
