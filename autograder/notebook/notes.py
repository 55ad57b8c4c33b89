"""What a student reads about a notebook hand-in, as a few warning lines of their result: where
each question's code was found (or that it was not), cells with syntax errors, names defined twice,
cells run out of order, and the statements not run at grading, by cell."""

from __future__ import annotations

from typing import Mapping

from gradekit.nbextract import CHECK_CELL, Skipped

from .handin import NotebookHandIn

SHOWN = 12  # cells listed in the "not run" line


def hand_in_notes(hand_in: NotebookHandIn, symbols: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Warning lines for a notebook hand-in; `symbols` maps question ids to their graded names."""
    found = hand_in.extraction
    notes = [f"graded the notebook {hand_in.notebook} without running it: only its top-level imports, functions, "
             "classes and simple constants, top to bottom (like Restart & Run All)"]
    if hand_in.timestamp:
        notes.append(f"nbgrader submission timestamp: {hand_in.timestamp}")
    located = []
    for qid, names in symbols.items():
        for name in names:
            where = found.where(name)
            if where is None:
                notes.append(f"question {qid}: `{name}` is not defined in any code cell (a deleted or renamed cell?); "
                             "its tests cannot find it")
            else:
                located.append(f"`{name}` cell {where.cell}")
    if located:
        notes.insert(1, "found " + ", ".join(located))
    notes += [f"cell {e.cell}, line {e.line}: syntax error ({e.why}); nothing in this cell was graded"
              for e in found.syntax_errors]
    notes += list(found.warnings)
    by_cell: dict[int, list[Skipped]] = {}
    for item in found.not_run:
        if item.why != CHECK_CELL:
            by_cell.setdefault(item.cell, []).append(item)
    if by_cell:
        shown = []
        for cell, items in sorted(by_cell.items())[:SHOWN]:
            first = min(items, key=lambda s: s.line)
            more = f" and {len(items) - 1} more" if len(items) > 1 else ""
            shown.append(f"cell {cell} (`{first.text[:40]}`{more})")
        rest = f", and {len(by_cell) - SHOWN} more cells" if len(by_cell) > SHOWN else ""
        notes.append("not run at grading: " + ", ".join(shown) + rest)
    return tuple(notes)
