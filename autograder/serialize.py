"""Results to and from JSON, apart from the model; atomic writes so a killed run leaves no half file."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .model import QuestionResult, Result, TestResult

SCHEMA_PATH = Path(__file__).parent / "schema" / "result.schema.json"


def to_dict(result: Result) -> dict[str, Any]:
    data = asdict(result)
    data["protections"] = list(result.protections)
    data["notes"] = list(result.notes)
    for q in data["questions"]:
        q["tests"] = list(q["tests"])
    data["questions"] = list(data["questions"])
    return data


def from_dict(data: dict[str, Any]) -> Result:
    questions = tuple(
        QuestionResult(
            id=q["id"], title=q["title"], score=q["score"], max_score=q["max_score"],
            tests=tuple(TestResult(**t) for t in q.get("tests", [])),
        )
        for q in data["questions"]
    )
    fields = {k: v for k, v in data.items() if k not in ("questions", "protections", "notes")}
    return Result(questions=questions, protections=tuple(data.get("protections", ())),
                  notes=tuple(data.get("notes", ())), **fields)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temp file in the same folder and rename: readers never see half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(path: Path, result: Result) -> None:
    write_json_atomic(path, to_dict(result))


def read_result(path: Path) -> Result:
    return from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
