"""Turn a notebook hand-in into the assignment's module files, without running the notebook.

Accepted shapes: `<student>.ipynb`; a folder or zip holding one notebook (any name) beside stray
files; nbgrader's `submitted/<student>/<assignment>/` (its `timestamp.txt` is recorded, its
`submission_secret.txt` and copies of the released files are ignored). Every expected module file
receives the same generated source (gradekit.nbextract): a notebook is one namespace, and tests
find graded code by name, never by cell position or metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Mapping

from gradekit.nbextract import MAX_NOTEBOOK_BYTES, Cell, Extraction, NotebookError, extract, read_notebook

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

    from ..course import CourseDir

MAX_NOTEBOOKS = 4  # read per submission (each up to MAX_NOTEBOOK_BYTES): bounds the runner's memory


@dataclass(frozen=True)
class NotebookHandIn:
    notebook: str  # its path inside the submission
    files: dict[str, bytes]  # expected module file -> generated source
    extraction: Extraction
    timestamp: str = ""  # nbgrader's timestamp.txt, when present
    ignored: tuple[str, ...] = ()
    cells: tuple[Cell, ...] = ()  # the sources (outputs are not kept), for the feedback notebook


def is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def from_files(files: Mapping[str, bytes], expected: tuple[str, ...],
               release_copies: Mapping[str, bytes] | None = None) -> NotebookHandIn | None:
    """The hand-in as a notebook, or None when it is a `.py` hand-in (or has no notebook).

    A notebook route needs exactly one notebook and no expected `.py` file other than an unchanged
    copy of the released stub. Raises NotebookError (a per-student error) for several notebooks or
    a file that is not a readable notebook.
    """
    notebooks = sorted(n for n in files if is_notebook(n))
    if not notebooks:
        return None
    copies = release_copies or {}
    own_py = [f for f in expected if f in files and copies.get(f) != files[f]]
    if own_py:
        return None
    if len(notebooks) > 1:
        raise NotebookError(f"several notebooks ({', '.join(notebooks)}); hand in exactly one")
    name = notebooks[0]
    cells = read_notebook(bytes(files[name]), PurePosixPath(name).name)
    extraction = extract(cells)
    source = extraction.source.encode()
    timestamp = ""
    for other in files:
        if PurePosixPath(other).name == "timestamp.txt":
            timestamp = bytes(files[other])[:64].decode("utf-8", "replace").strip()
    ignored = tuple(sorted(n for n in files if n != name))
    return NotebookHandIn(name, {f: source for f in expected}, extraction, timestamp, ignored, cells)


def single_notebook(name: str, data: bytes, expected: tuple[str, ...]) -> NotebookHandIn:
    """A submission that is one `<student>.ipynb` file."""
    found = from_files({name: data}, expected)
    assert found is not None
    return found




def release_copies(course: "CourseDir", spec: "AssignmentSpec") -> dict[str, bytes]:
    """The released `.py` stubs: a notebook hand-in may carry them unchanged (nbgrader copies them)."""
    from ..release import make_stub

    return {f: make_stub((course.solutions_dir(spec.name) / f).read_text(encoding="utf-8"), f).encode()
            for f in spec.files}


__all__ = ["MAX_NOTEBOOK_BYTES", "MAX_NOTEBOOKS", "NotebookError", "NotebookHandIn", "from_files", "single_notebook", "is_notebook",
           "release_copies"]
