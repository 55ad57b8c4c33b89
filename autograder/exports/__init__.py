"""Every output made from results in memory: LMS files, grades.csv, feedback, report, gradebook.

Each module takes `Result` records (from a `grade()` run, `store.read_results` or the gradebook)
and the assignment's spec when there is one, and writes through `store`'s atomic writer, so a
failed export never leaves a partial file for someone to upload by mistake. None of them runs
the grader or looks for the course: the CLI passes what they need.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Sequence

from ..store import write_text_atomic


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text (RFC 4180 quoting and CRLF line ends, via the csv module); text cells
    never start a spreadsheet formula and show control characters as escapes."""
    from ..textsafe import csv_cell

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_csv_atomic(path: Path, rows: Iterable[Sequence[object]], *, private: bool = False) -> Path:
    """Render the whole CSV in memory first, so a bad value fails before anything is written."""
    return write_text_atomic(path, csv_text(rows), private=private)


def format_points(value: float) -> str:
    """Points as LMS imports expect them: a plain decimal, no exponent, no trailing zeros."""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


__all__ = ["write_csv_atomic", "csv_text", "format_points"]
