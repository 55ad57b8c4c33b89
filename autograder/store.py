"""Result records to and from disk: one strict reader, one atomic writer.

Everything that reads a `<student>.json` (resuming a run, the exports, the gradebook) goes through
`from_dict`, which validates every field the exports use, so a damaged or foreign file is an
error naming the file, never a silently wrong grade. Everything written (results, CSVs, HTML,
zips) goes through `write_bytes_atomic`: a temp file in the target's folder, fsync, then
`os.replace`, so a killed run or a failed export never leaves half a file behind.
`grades.csv`, hidden temp files and JSON that is not a result are skipped by `read_results`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

from .errors import OutputPathError, ResultsError
from .results import QuestionResult, Result, TestResult

SUPPORTED_SCHEMA = 1
SCHEMA_PATH = Path(__file__).parent / "schema" / "result.schema.json"


def load_schema() -> dict[str, Any]:
    """The JSON schema of a result file (for tests and for anyone consuming the files)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- writing


def to_dict(result: Result) -> dict[str, Any]:
    """The record as plain JSON data (lists, not tuples)."""
    data = asdict(result)
    data["protections"] = list(result.protections)
    data["warnings"] = list(result.warnings)
    for q in data["questions"]:
        q["tests"] = list(q["tests"])
    data["questions"] = list(data["questions"])
    return data


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder; give a file name inside it instead")
    if not path.parent.is_dir():
        raise OutputPathError(f"cannot write {path}: the folder {path.parent} does not exist; create it or choose another path")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write `data` to `path` via a temp file in the same folder; on any error no file is left.

    `private` keeps the file readable by its owner only (the grader's own outputs); otherwise the
    usual umask applies (files meant to be shared or uploaded).
    """
    path = Path(path)
    _check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputPathError(f"cannot write {path}: {exc.strerror}; check the folder's permissions or choose another path") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if not private:
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


def write_text_atomic(path: Path, text: str, *, private: bool = False) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), private=private)


def write_json_atomic(path: Path, data: Any, *, private: bool = False) -> Path:
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text, private=private)


def write_result(path: Path, result: Result) -> Path:
    """A student's result file; private to the grader's user, like the rest of its output."""
    return write_json_atomic(path, to_dict(result), private=True)


# ---------------------------------------------------------------- reading



def _number(data: dict[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ResultsError(f"{where}: {key!r} must be a non-negative number, got {value!r}; regrade this student")
    return float(value)


def _string(data: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise ResultsError(f"{where}: {key!r} must be a string, got {value!r}; regrade this student")
    return value


def is_result(data: Any) -> bool:
    """A grader result, as opposed to any other JSON that may sit in the results folder."""
    return isinstance(data, dict) and "schema_version" in data and "student" in data and "questions" in data


def from_dict(data: dict[str, Any], source: str = "<result>") -> Result:
    """Validate the fields the exports use and build the record; errors name `source`."""
    if not is_result(data):
        raise ResultsError(f"{source}: not a grader result (no schema_version/student/questions)")
    if data["schema_version"] != SUPPORTED_SCHEMA:
        raise ResultsError(f"{source}: result schema_version {data['schema_version']!r} is not supported "
                           f"(this version reads {SUPPORTED_SCHEMA}); regrade with this autograder version")
    student = _string(data, "student", source)
    if not student or "/" in student or "\\" in student or student.startswith("."):
        raise ResultsError(f"{source}: student id {student!r} is not usable as a file name; regrade this submission")
    status = _string(data, "status", source)
    if status not in ("graded", "error"):
        raise ResultsError(f"{source}: status must be 'graded' or 'error', got {status!r}")
    if not isinstance(data["questions"], list):
        raise ResultsError(f"{source}: 'questions' must be a list")
    questions = []
    for i, q in enumerate(data["questions"]):
        where = f"{source}: questions[{i}]"
        if not isinstance(q, dict):
            raise ResultsError(f"{where}: expected an object")
        tests = []
        for j, t in enumerate(q.get("tests") or []):
            twhere = f"{where}.tests[{j}]"
            if not isinstance(t, dict):
                raise ResultsError(f"{twhere}: expected an object")
            tests.append(TestResult(
                name=_string(t, "name", twhere), hidden=bool(t.get("hidden")), passed=bool(t.get("passed")),
                score=_number(t, "score", twhere), max_score=_number(t, "max_score", twhere),
                message=_string(t, "message", twhere, optional=True), cause=_string(t, "cause", twhere, optional=True),
            ))
        questions.append(QuestionResult(
            id=_string(q, "id", where), title=_string(q, "title", where, optional=True) or _string(q, "id", where),
            score=_number(q, "score", where), max_score=_number(q, "max_score", where), tests=tuple(tests),
        ))
    causes = data.get("causes") or {}
    if not isinstance(causes, dict):
        raise ResultsError(f"{source}: 'causes' must be an object")
    duration = data.get("duration_s")
    return Result(
        student=student,
        assignment=_string(data, "assignment", source),
        status=status,
        score=_number(data, "score", source),
        max_score=_number(data, "max_score", source),
        questions=tuple(questions),
        error=data.get("error") if isinstance(data.get("error"), str) else None,
        causes={str(k): int(v) for k, v in causes.items()},
        output=_string(data, "output", source, optional=True),
        submission_sha256=data.get("submission_sha256") if isinstance(data.get("submission_sha256"), str) else None,
        seed=int(data.get("seed") or 0),
        grader_version=_string(data, "grader_version", source, optional=True),
        graded_at=_string(data, "graded_at", source, optional=True),
        duration_s=float(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool) else 0.0,
        protections=tuple(str(p) for p in data.get("protections") or ()),
        warnings=_strings(data, "warnings", source),
    )


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An optional list of strings (absent in results written before the field existed)."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ResultsError(f"{where}: {key!r} must be a list of strings; regrade this student")
    return tuple(value)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the result file: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc}); regrade this student or remove the file") from None


def read_result(path: Path) -> Result:
    path = Path(path)
    return from_dict(_load_json(path), str(path))


def read_results(folder: Path, *, assignment: str | None = None) -> list[Result]:
    """Every result in `folder`, sorted by student; all for one assignment (or `assignment` if given)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"no results folder {folder}; run `autograder grade SUBMISSIONS --out {folder}` first "
                           "or pass the folder that holds the <student>.json files")
    results = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith(".") or not path.is_file():
            continue
        data = _load_json(path)
        if not is_result(data):
            continue
        result = from_dict(data, str(path))
        if result.student != path.stem:
            raise ResultsError(f"{path}: holds the result of {result.student!r}, not {path.stem!r}; rename or regrade it")
        if assignment is None or result.assignment == assignment:
            results.append(result)
    return check_results(results, str(folder), assignment)


def check_results(results: Iterable[Result], where: str, assignment: str | None = None) -> list[Result]:
    """Non-empty, one assignment, one result per student."""
    results = sorted(results, key=lambda r: r.student)
    if not results:
        what = f" for assignment {assignment!r}" if assignment else ""
        raise ResultsError(f"no result files{what} in {where}; run `autograder grade` first")
    names = sorted({r.assignment for r in results})
    if len(names) > 1:
        raise ResultsError(f"{where} holds results for several assignments ({', '.join(names)}); "
                           "pass --assignment NAME to choose one")
    seen: set[str] = set()
    for r in results:
        if r.student in seen:
            raise ResultsError(f"{where}: two results for student {r.student!r}")
        seen.add(r.student)
    return results


def read_finished(path: Path, assignment: str) -> Result | None:
    """A finished result from an earlier run, for resuming; None if missing, unreadable, another
    assignment, or an internal error (never final: a plain re-run grades that student again)."""
    try:
        result = read_result(path)
    except ResultsError:
        return None
    return result if result.assignment == assignment and not result.internal_error else None


__all__ = ["from_dict", "to_dict", "is_result", "read_result", "read_results", "read_finished", "check_results",
           "write_bytes_atomic", "write_text_atomic", "write_json_atomic", "write_result", "load_schema"]
