"""The gradebook: every grading run kept in SQLite, so a regrade shows what changed.

Tables: `runs` (one row per recorded run), `submissions` (per run and student: status, total,
grader version, submission sha256 and the full result JSON, so any export can be taken from any
run) and `scores` (per run, student and question: score, time, grader version, submission hash).
A run is recorded in one transaction: it is there entirely or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from ..errors import GradebookError, OutputPathError, ResultsError, UnknownRunError
from ..results import Result
from ..store import check_results, from_dict, read_results, to_dict
from . import format_points

DB_NAME = "gradebook.sqlite"
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    assignment TEXT NOT NULL,
    source TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS submissions (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    student TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    graded_at TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    submission_sha256 TEXT,
    result_json TEXT NOT NULL,
    PRIMARY KEY (run_id, student)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    student TEXT NOT NULL,
    question TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    graded_at TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    submission_sha256 TEXT,
    PRIMARY KEY (run_id, student, question)
);
"""


def default_db(results_dir: Path) -> Path:
    return Path(results_dir) / DB_NAME


def _connect(db: Path, *, create: bool) -> sqlite3.Connection:
    db = Path(db)
    if not create and not db.is_file():
        raise GradebookError(f"no gradebook at {db}; record a run first with `autograder gradebook record RESULTS`")
    if create and not db.parent.is_dir():
        raise OutputPathError(f"cannot create the gradebook {db}: the folder {db.parent} does not exist")
    if db.is_dir():
        raise OutputPathError(f"cannot use {db} as the gradebook: it is a folder; pass --db FILE")
    try:
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise OutputPathError(f"cannot open the gradebook {db} ({exc}); check the folder's permissions or pass --db") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "meta" not in tables:
            conn.close()
            raise GradebookError(f"{db} is an SQLite file but not an autograder gradebook; pass another --db")
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                conn.close()
                raise GradebookError(f"{db}: gradebook schema {row[0] if row else '?'} is not supported "
                                     f"(this version uses {SCHEMA_VERSION})")
        elif create:
            with conn:
                conn.executescript(SCHEMA)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        raise OutputPathError(f"{db}: cannot write the gradebook ({exc}); check the file's permissions") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise GradebookError(f"{db}: not a usable gradebook ({exc}); pass another --db") from None


@dataclass(frozen=True)
class RunInfo:
    id: int
    recorded_at: str
    assignment: str
    source: str
    label: str
    students: int
    errors: int
    mean: float
    max_score: float
    grader_versions: str

    def line(self) -> str:
        label = f" [{self.label}]" if self.label else ""
        return (f"run {self.id}{label}: {self.assignment}, {self.students} students, mean "
                f"{self.mean:.2f}/{format_points(self.max_score)}, {self.errors} not graded, grader "
                f"{self.grader_versions}, recorded {self.recorded_at} from {self.source}")


def record_results(results: Iterable[Result], db: Path, *, source: str, label: str = "") -> int:
    """Store one run (all students of one assignment) and return its id."""
    results = check_results(results, source)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with closing(_connect(db, create=True)) as conn:
        try:
            with conn:
                cur = conn.execute("INSERT INTO runs (recorded_at, assignment, source, label) VALUES (?, ?, ?, ?)",
                                   (now, results[0].assignment, source, label))
                run_id = int(cur.lastrowid or 0)
                for r in results:
                    conn.execute(
                        "INSERT INTO submissions (run_id, student, status, error, score, max_score, graded_at, "
                        "grader_version, submission_sha256, result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, r.student, r.status, r.error, r.score, r.max_score, r.graded_at, r.grader_version,
                         r.submission_sha256, json.dumps(to_dict(r), sort_keys=True)))
                    conn.executemany(
                        "INSERT INTO scores (run_id, student, question, score, max_score, graded_at, grader_version, "
                        "submission_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(run_id, r.student, q.id, q.score, q.max_score, r.graded_at, r.grader_version,
                          r.submission_sha256) for q in r.questions])
        except sqlite3.IntegrityError as exc:
            raise ResultsError(f"{source}: cannot record these results ({exc})") from None
        except sqlite3.OperationalError as exc:
            raise OutputPathError(f"{db}: cannot write the gradebook ({exc}); nothing was recorded") from None
    return run_id


def record_run(results_dir: Path, db: Path | None = None, *, label: str = "", assignment: str | None = None) -> int:
    """Record the results in `results_dir` (default gradebook: `<results_dir>/gradebook.sqlite`)."""
    results = read_results(results_dir, assignment=assignment)
    return record_results(results, db or default_db(results_dir), source=str(Path(results_dir)), label=label)


def _runs(conn: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[RunInfo]:
    rows = conn.execute(
        "SELECT r.id, r.recorded_at, r.assignment, r.source, r.label, COUNT(s.student), "
        "SUM(s.status = 'error'), AVG(s.score), MAX(s.max_score), GROUP_CONCAT(DISTINCT s.grader_version) "
        f"FROM runs r LEFT JOIN submissions s ON s.run_id = r.id {where} GROUP BY r.id ORDER BY r.id", args).fetchall()
    return [RunInfo(id=row[0], recorded_at=row[1], assignment=row[2], source=row[3], label=row[4], students=row[5],
                    errors=int(row[6] or 0), mean=float(row[7] or 0.0), max_score=float(row[8] or 0.0),
                    grader_versions=row[9] or "?") for row in rows]


def list_runs(db: Path) -> list[RunInfo]:
    with closing(_connect(db, create=False)) as conn:
        return _runs(conn)


def _resolve(conn: sqlite3.Connection, db: Path, ref: int | str) -> RunInfo:
    """A run by id, or `latest` / `previous` (the one before latest)."""
    runs = _runs(conn)
    if not runs:
        raise UnknownRunError(f"{db} has no runs yet; record one with `autograder gradebook record RESULTS`")
    text = str(ref).strip().lower()
    if text in ("latest", "previous"):
        index = -1 if text == "latest" else -2
        if len(runs) < -index:
            raise UnknownRunError(f"{db} has only {len(runs)} run(s): there is no {text!r} run")
        return runs[index]
    try:
        run_id = int(text)
    except ValueError:
        raise UnknownRunError(f"{ref!r} is not a run id; use a number from `autograder gradebook runs`, "
                              "'latest' or 'previous'") from None
    for run in runs:
        if run.id == run_id:
            return run
    known = ", ".join(str(r.id) for r in runs)
    raise UnknownRunError(f"no run {run_id} in {db} (runs: {known}); see `autograder gradebook runs`")


def results_for_run(db: Path, run: int | str) -> list[Result]:
    """The results of a recorded run, as the results folder held them then."""
    with closing(_connect(db, create=False)) as conn:
        info = _resolve(conn, db, run)
        rows = conn.execute("SELECT student, result_json FROM submissions WHERE run_id = ? ORDER BY student",
                            (info.id,)).fetchall()
    return [from_dict(json.loads(text), f"{db} run {info.id} student {student}") for student, text in rows]


@dataclass(frozen=True)
class StudentChange:
    student: str
    kind: str  # added, removed, changed
    old: float | None
    new: float | None
    questions: tuple[tuple[str, float | None, float | None], ...] = ()
    old_status: str = ""
    new_status: str = ""
    same_submission: bool | None = None  # None: a hash is missing on one side
    grader: tuple[str, str] | None = None  # (old, new) when the grader version changed

    def line(self) -> str:
        if self.kind == "added":
            return f"{self.student}: new in this run ({format_points(self.new or 0)})"
        if self.kind == "removed":
            return f"{self.student}: not in this run (was {format_points(self.old or 0)})"
        delta = (self.new or 0) - (self.old or 0)
        parts = [f"{self.student}: {format_points(self.old or 0)} -> {format_points(self.new or 0)} "
                 f"({'+' if delta >= 0 else ''}{format_points(delta)})"]
        why = []
        if self.same_submission is not None:
            why.append("same submission" if self.same_submission else "new submission")
        if self.grader:
            why.append(f"grader {self.grader[0]} -> {self.grader[1]}")
        if self.old_status != self.new_status:
            why.append(f"{self.old_status} -> {self.new_status}")
        if why:
            parts.append(f"[{'; '.join(why)}]")
        parts += [f"{q}: {'-' if a is None else format_points(a)} -> {'-' if b is None else format_points(b)}"
                  for q, a, b in self.questions]
        return " ".join(parts[:2]) + ("; " + ", ".join(parts[2:]) if len(parts) > 2 else "")


@dataclass(frozen=True)
class RunDiff:
    run_a: RunInfo
    run_b: RunInfo
    changes: tuple[StudentChange, ...]
    unchanged: int

    def lines(self) -> list[str]:
        out = [f"run {self.run_a.id} -> run {self.run_b.id} ({self.run_b.assignment}): "
               f"{len(self.changes)} students changed, {self.unchanged} unchanged"]
        out += ["  " + c.line() for c in self.changes]
        return out


def diff(db: Path, run_a: int | str, run_b: int | str) -> RunDiff:
    """What changed from run A to run B: per student total and per-question scores, and why."""
    with closing(_connect(db, create=False)) as conn:
        a = _resolve(conn, db, run_a)
        b = _resolve(conn, db, run_b)
        if a.assignment != b.assignment:
            raise GradebookError(f"run {a.id} is for {a.assignment!r} and run {b.id} for {b.assignment!r}; "
                                 "compare two runs of the same assignment")

        def load(run_id: int) -> dict[str, tuple]:
            subs = {row[0]: row[1:] for row in conn.execute(
                "SELECT student, status, score, grader_version, submission_sha256 FROM submissions WHERE run_id = ?",
                (run_id,))}
            scores: dict[str, dict[str, float]] = {}
            for student, question, score in conn.execute(
                    "SELECT student, question, score FROM scores WHERE run_id = ?", (run_id,)):
                scores.setdefault(student, {})[question] = score
            return {s: (*v, scores.get(s, {})) for s, v in subs.items()}

        old, new = load(a.id), load(b.id)
    changes = []
    unchanged = 0
    for student in sorted(set(old) | set(new)):
        if student not in old:
            changes.append(StudentChange(student, "added", None, new[student][1], new_status=new[student][0]))
            continue
        if student not in new:
            changes.append(StudentChange(student, "removed", old[student][1], None, old_status=old[student][0]))
            continue
        (s_a, score_a, ver_a, sha_a, q_a), (s_b, score_b, ver_b, sha_b, q_b) = old[student], new[student]
        questions = tuple((q, q_a.get(q), q_b.get(q)) for q in sorted(set(q_a) | set(q_b), key=lambda q: q)
                          if q_a.get(q) is None or q_b.get(q) is None or abs(q_a[q] - q_b[q]) > 1e-9)
        if not questions and abs(score_a - score_b) <= 1e-9 and s_a == s_b:
            unchanged += 1
            continue
        same = None if not sha_a or not sha_b else sha_a == sha_b
        changes.append(StudentChange(student, "changed", score_a, score_b, questions, s_a, s_b, same,
                                     (ver_a, ver_b) if ver_a != ver_b else None))
    return RunDiff(a, b, tuple(changes), unchanged)


__all__ = ["DB_NAME", "default_db", "record_run", "record_results", "list_runs", "results_for_run", "diff",
           "RunInfo", "RunDiff", "StudentChange"]
