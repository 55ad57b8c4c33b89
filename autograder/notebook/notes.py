"""What a student reads about their notebook hand-in: where each question's code was found,
cells with syntax errors, warnings, and the statements not run at grading (by cell and line)."""

from __future__ import annotations

from typing import Mapping

from gradekit.nbextract import CHECK_CELL, Skipped

from .handin import NotebookHandIn

MAX_CELLS = 20  # cells with statements not run, listed one by one; the rest are counted


def hand_in_notes(hand_in: NotebookHandIn, symbols: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Feedback lines for a notebook hand-in; `symbols` maps question ids to their graded names."""
    found = hand_in.extraction
    notes = [f"graded the notebook {hand_in.notebook}: only its top-level imports, functions, classes and "
             "simple constants were run, top to bottom (like Restart & Run All); nothing else in it ran"]
    if hand_in.timestamp:
        notes.append(f"nbgrader submission timestamp: {hand_in.timestamp}")
    for qid, names in symbols.items():
        for name in names:
            where = found.where(name)
            notes.append(f"question {qid}: `{name}` taken from cell {where.cell}" if where else
                         f"question {qid}: `{name}` is not defined in any code cell (a deleted or renamed cell?); "
                         "this question scores 0")
    notes += [f"cell {e.cell}, line {e.line}: syntax error ({e.why}); nothing in this cell was graded: fix it"
              for e in found.syntax_errors]
    notes += list(found.warnings)
    by_cell: dict[int, list[Skipped]] = {}
    for item in found.not_run:
        if item.why != CHECK_CELL:
            by_cell.setdefault(item.cell, []).append(item)
    for cell, items in sorted(by_cell.items())[:MAX_CELLS]:
        items.sort(key=lambda s: s.line)
        shown = ", ".join(f"line {s.line} `{s.text}`" for s in items[:3])
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        notes.append(f"not run at grading: cell {cell}: {shown}{more}")
    if len(by_cell) > MAX_CELLS:
        notes.append(f"not run at grading: statements in {len(by_cell) - MAX_CELLS} more cells")
    return tuple(notes)
