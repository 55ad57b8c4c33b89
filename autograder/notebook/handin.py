"""A notebook hand-in as the assignment's module files, without running the notebook.

Every expected module file receives the same generated source (gradekit.nbextract): a notebook
is one namespace, and tests find graded code by name, never by cell position or metadata.
Which submissions are notebooks, and reading them safely, is staging's (grading/notebook_route.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradekit.nbextract import MAX_NOTEBOOK_BYTES, Cell, Extraction, NotebookError, extract, read_notebook

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

    from ..course import CourseDir


@dataclass(frozen=True)
class NotebookHandIn:
    notebook: str  # its file name in the submission
    files: dict[str, bytes]  # expected module file -> generated source
    extraction: Extraction
    timestamp: str = ""  # nbgrader's timestamp.txt, when present
    cells: tuple[Cell, ...] = ()  # the sources (outputs are not kept), for the feedback notebook


def is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def from_notebook(name: str, data: bytes, expected: tuple[str, ...], timestamp: str = "") -> NotebookHandIn:
    """The module files for one notebook's bytes; NotebookError when it is not a readable notebook."""
    cells = read_notebook(data, name)
    extraction = extract(cells)
    source = extraction.source.encode()
    return NotebookHandIn(name, {f: source for f in expected}, extraction, timestamp, cells)


def release_copies(course: "CourseDir", spec: "AssignmentSpec") -> dict[str, bytes]:
    """The released `.py` stubs: a notebook hand-in may carry them unchanged (nbgrader copies them)."""
    from ..release import make_stub

    return {f: make_stub((course.solutions_dir(spec.name) / f).read_text(encoding="utf-8"), f).encode()
            for f in spec.files}


__all__ = ["MAX_NOTEBOOK_BYTES", "NotebookError", "NotebookHandIn", "from_notebook", "is_notebook", "release_copies"]
