"""Staging's notebook route: a submission that is a notebook becomes the assignment's module files.

Accepted: `<student>.ipynb`; a folder or zip with one notebook (any name, at its shallowest level)
beside stray files; nbgrader's `submitted/<student>/<assignment>/` (its `timestamp.txt` is recorded,
copies of the released files are ignored). A submission with the student's own `.py` files takes
the `.py` route. Listing and bounded reading are staging's own (`submissions`); the notebook itself
may be larger than a source file (plots), up to gradekit.nbextract.MAX_NOTEBOOK_BYTES. The warnings
say where each question's code was found and what was not run (autograder/notebook/notes.py).
"""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

from ..notebook.handin import MAX_NOTEBOOK_BYTES, NotebookError, NotebookHandIn, from_notebook, is_notebook, release_copies
from ..notebook.notes import hand_in_notes
from ..notebook.questions import layout
from ..textsafe import visible
from . import submissions as staging
from .submissions import Entry, Selection, Submission, SubmissionError

if TYPE_CHECKING:
    from gradekit.spec import AssignmentSpec

    from ..course import CourseDir

Listing = tuple[list[Entry], list[str], Callable[..., bytes]]


@dataclass(frozen=True)
class NotebookRoute:
    """`stage(..., route=NotebookRoute(...))`: called with (submission, expected files)."""

    copies: Mapping[str, bytes]  # the released .py stubs (autograder.notebook.handin.release_copies)
    symbols: Mapping[str, tuple[str, ...]]  # question id -> graded names, for the warnings

    def __call__(self, sub: Submission, expected: tuple[str, ...]) -> tuple[dict[str, bytes], tuple[str, ...]] | None:
        taken = self.hand_in(sub, expected)
        if taken is None:
            return None
        hand_in, warnings = taken
        return dict(hand_in.files), warnings + hand_in_notes(hand_in, self.symbols)

    def hand_in(self, sub: Submission, expected: tuple[str, ...]) -> tuple[NotebookHandIn, tuple[str, ...]] | None:
        """The notebook hand-in and staging's warnings, or None for a `.py` hand-in."""
        with _opened(sub) as listing:
            if listing is None:
                return None
            entries, notes, read = listing
            entries = staging._strip_wrapper(entries)
            notebooks = [e for e in entries if is_notebook(e.path) and e.kind == "file"]
            if not notebooks:
                return None
            for name, entry in staging.select_files(entries, expected).chosen.items():
                if self.copies.get(name) != staging._read_chosen(Selection({name: entry}, ()), read)[name]:
                    return None  # the student's own .py files: the .py route (the notebook is an ignored extra)
            depth = min(e.path.count("/") for e in notebooks)
            best = [e for e in notebooks if e.path.count("/") == depth]
            if len(best) > 1:
                raise SubmissionError(f"several notebooks ({staging._names(e.path for e in best)}); hand in exactly one")
            others = [e for e in entries if e is not best[0]]
            hand_in = _read_notebook(best[0], others, read, expected)
            ignored = [e.path for e in others]
            warnings = [*dict.fromkeys(notes)]
            if ignored:
                warnings.append(f"ignored {len(ignored)} other file(s): {staging._grouped(ignored)}")
            return hand_in, tuple(warnings)


def notebook_route(course: "CourseDir", spec: "AssignmentSpec") -> NotebookRoute:
    """The route for one assignment: a local run's stage and the Ray head's reading both use it."""
    return NotebookRoute(release_copies(course, spec), layout(course, spec).symbols)


@contextmanager
def _opened(sub: Submission) -> Iterator[Listing | None]:
    """The submission's entries and a bounded reader; None when staging itself should report it."""
    if sub.path.is_dir():
        entries, notes = staging._list_folder(sub.path)
        yield entries, notes, lambda entry, limit=staging.MAX_FILE_BYTES: staging._read_folder_file(sub.path, entry, limit)
    elif is_notebook(sub.path.name):
        entry = Entry(sub.path.name, sub.path.stat().st_size, "file", sub.path.name)
        yield [entry], [], lambda e, limit=staging.MAX_FILE_BYTES: staging._read_folder_file(sub.path.parent, e, limit)
    else:
        archive = _open_zip(sub)
        if archive is None:
            yield None  # staging reports a zip it cannot read, in its own words
            return
        with archive:
            entries, notes = staging._list_zip(archive)
            yield entries, notes, lambda entry, limit=staging.MAX_FILE_BYTES: staging._read_member(archive, entry, limit)


def _open_zip(sub: Submission) -> zipfile.ZipFile | None:
    try:
        if sub.path.stat().st_size > staging.MAX_ARCHIVE_BYTES:
            return None
        return zipfile.ZipFile(sub.path)
    except Exception:  # noqa: BLE001 - BadZipFile, a bad name encoding, a bad header...
        return None


def _read_notebook(entry: Entry, others: list[Entry], read: Callable[..., bytes], expected: tuple[str, ...]) -> NotebookHandIn:
    if entry.size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{visible(entry.path)} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB; clear its outputs "
                              "(Edit > Clear Outputs of All Cells), save and hand it in again")
    data = read(entry, MAX_NOTEBOOK_BYTES)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{visible(entry.path)} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB; clear its outputs")
    stamp = next((e for e in others if PurePosixPath(e.path).name == "timestamp.txt" and 0 < e.size < 256), None)
    timestamp = visible(read(stamp, 256).decode("utf-8", "replace").strip())[:64] if stamp is not None else ""
    try:
        return from_notebook(PurePosixPath(entry.path).name, data, expected, timestamp)
    except NotebookError as exc:
        raise SubmissionError(str(exc)) from None
