"""Find submissions and stage each one safely into a private folder.

A submission is `<student>/` or `<student>.zip` in the submissions folder. Nothing in it is trusted:
zip entries are read as bytes and written only under the staging folder (never `extract`), links
are refused, sizes are bounded, and anything unexpected becomes a per-student error, not a crash.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..notebook import handin as notebook  # notebook hand-ins (autograder/notebook/)

MAX_FILE_BYTES = 1 << 20
MAX_ENTRIES = 200
MAX_TOTAL_BYTES = 8 << 20
JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}
JUNK_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


class SubmissionError(ValueError):
    """This student's submission cannot be graded; the message says why and what to do."""


@dataclass(frozen=True)
class Submission:
    student: str  # the id used for output files and seeding
    path: Path
    problem: str = ""  # set when even the id is unusable


@dataclass(frozen=True)
class Staged:
    student: str
    folder: Path
    files: tuple[str, ...]
    sha256: str
    notebook: notebook.NotebookHandIn | None = None  # set when the hand-in was a notebook


def discover(folder: Path) -> list[Submission]:
    """One entry per student, sorted; unusable names are kept with a problem, never dropped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith(".") or name in JUNK:
            continue
        stem = name[:-4] if name.lower().endswith(".zip") and not entry.is_dir() else name
        if notebook.is_notebook(name) and not entry.is_dir():  # notebooks: <student>.ipynb
            stem = name[:-6]
        problem = ""
        try:
            stem.encode("utf-8")
        except UnicodeEncodeError:
            problem = "the submission's name is not valid UTF-8; rename it to the student's id"
            stem = "invalid-name-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        if not problem and not _SAFE_ID.match(stem):
            problem = (f"the submission name {stem!r} is not a usable student id (letters, digits and ._@+- only); "
                       "rename it")
            stem = "invalid-name-" + hashlib.sha256(stem.encode()).hexdigest()[:10]
        if not problem and entry.is_symlink():
            problem = f"{name} is a symbolic link; submit a real folder or zip"
        elif not problem and not entry.is_dir() and not name.lower().endswith((".zip", ".ipynb")):
            problem = f"{name} is neither a folder nor a .zip or .ipynb file"
        if stem in found:
            problem = problem or f"two submissions for {stem!r} (a folder and a zip?); keep one"
        found[stem] = Submission(stem, entry, problem)
    return sorted(found.values(), key=lambda s: s.student)


def stage(sub: Submission, expected: tuple[str, ...], dest: Path,
          release_copies: dict[str, bytes] | None = None) -> Staged:
    """Copy the submission's expected files into `dest` (created), validating everything.

    A notebook hand-in is turned into the expected module files (definitions only, never run);
    `release_copies` are the released stubs, which a notebook hand-in may carry unchanged.
    """
    if sub.problem:
        raise SubmissionError(sub.problem)
    try:  # notebooks: a single <student>.ipynb, or one notebook inside a folder or zip
        if notebook.is_notebook(sub.path.name) and sub.path.is_file():
            hand_in: notebook.NotebookHandIn | None = notebook.single_notebook(
                sub.path.name, _read_notebook_file(sub.path), expected)
        else:
            files = _strip_wrapper(_read_zip(sub.path) if sub.path.is_file() else _read_folder(sub.path))
            hand_in = notebook.from_files(files, expected, release_copies)
    except notebook.NotebookError as exc:
        raise SubmissionError(str(exc)) from None
    if hand_in is not None:
        files = dict(hand_in.files)
    else:
        files = {n: d for n, d in files.items() if not notebook.is_notebook(n) or n in expected}
    if not files:
        raise SubmissionError(f"the submission is empty; it should contain {', '.join(expected)}")
    unexpected = sorted(set(files) - set(expected))
    if unexpected:
        near = {e.lower(): e for e in expected}
        hints = [f"{u} (did you mean {near[PurePosixPath(u).name.lower()]}?)" if PurePosixPath(u).name.lower() in near else u
                 for u in unexpected]
        raise SubmissionError(
            f"unexpected file(s) {', '.join(hints)}; the assignment expects exactly {', '.join(expected)}"
        )
    dest.mkdir(parents=True, exist_ok=False)
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
        (dest / name).write_bytes(data)
    return Staged(sub.student, dest, tuple(sorted(files)), digest.hexdigest(), hand_in)


def _read_notebook_file(path: Path) -> bytes:
    if path.is_symlink():
        raise SubmissionError(f"{path.name} is a symbolic link; submit the notebook itself")
    if path.stat().st_size > notebook.MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {notebook.MAX_NOTEBOOK_BYTES >> 20} MiB; clear the "
                              "outputs (Edit > Clear Outputs of All Cells), save and hand it in again")
    return path.read_bytes()


def _check_size(name: str, size: int, total: int, read: dict[str, bytes] | None = None) -> None:
    if notebook.is_notebook(name):  # notebooks carry plots: limit the code (at reading), not the outputs
        if size > notebook.MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"{name} is larger than {notebook.MAX_NOTEBOOK_BYTES >> 20} MiB; clear its outputs")
        if sum(map(notebook.is_notebook, read or {})) >= notebook.MAX_NOTEBOOKS:
            raise SubmissionError(f"more than {notebook.MAX_NOTEBOOKS} notebooks; hand in one")
        return
    if size > MAX_FILE_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_FILE_BYTES >> 10} KiB")
    if total > MAX_TOTAL_BYTES:
        raise SubmissionError(f"the submission is larger than {MAX_TOTAL_BYTES >> 20} MiB")


def _read_folder(folder: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in JUNK_DIRS for part in rel.parts) or rel.name in JUNK:
            continue
        if path.is_symlink():
            raise SubmissionError(f"{rel.as_posix()} is a symbolic link; submit the file itself")
        if path.is_dir():
            continue
        if not path.is_file():
            raise SubmissionError(f"{rel.as_posix()} is not a regular file")
        try:
            rel.as_posix().encode("utf-8")
        except UnicodeEncodeError:
            raise SubmissionError("a file name is not valid UTF-8; rename it") from None
        if len(out) >= MAX_ENTRIES:
            raise SubmissionError(f"more than {MAX_ENTRIES} files")
        size = path.stat().st_size
        total += 0 if notebook.is_notebook(rel.name) else size
        _check_size(rel.as_posix(), size, total, out)
        out[rel.as_posix()] = path.read_bytes()
    return out


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file ({exc}); zip the files again") from None
    out: dict[str, bytes] = {}
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise SubmissionError(f"{path.name} has more than {MAX_ENTRIES} entries")
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x800 == 0 and any(ord(c) > 127 for c in name):
                raise SubmissionError(f"{path.name}: an entry name is not valid UTF-8; rename the files and zip again")
            pure = PurePosixPath(name.replace("\\", "/"))
            if name.startswith(("/", "\\")) or pure.is_absolute() or re.match(r"^[A-Za-z]:", name):
                raise SubmissionError(f"{path.name}: entry {name!r} has an absolute path; zip relative paths only")
            if ".." in pure.parts:
                raise SubmissionError(f"{path.name}: entry {name!r} points outside the folder ('..')")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise SubmissionError(f"{path.name}: entry {name!r} is a symbolic link; zip the file itself")
            if info.is_dir() or any(p in JUNK_DIRS for p in pure.parts) or pure.name in JUNK:
                continue
            if info.flag_bits & 0x1:
                raise SubmissionError(f"{path.name}: entry {name!r} is encrypted; zip without a password")
            total += 0 if notebook.is_notebook(name) else info.file_size
            _check_size(name, info.file_size, total, out)
            try:
                with archive.open(info) as fh:
                    limit = notebook.MAX_NOTEBOOK_BYTES if notebook.is_notebook(name) else MAX_FILE_BYTES
                    data = fh.read(limit + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise SubmissionError(f"{path.name}: entry {name!r} is corrupt ({exc}); zip the files again") from None
            if len(data) > limit:
                raise SubmissionError(f"{name} is larger than {MAX_FILE_BYTES >> 10} KiB")
            key = pure.as_posix()
            if key in out:
                raise SubmissionError(f"{path.name}: entry {name!r} appears twice")
            out[key] = data
    return out


def _strip_wrapper(files: dict[str, bytes]) -> dict[str, bytes]:
    """Accept a zip or folder whose files all sit in one wrapping folder (`alice/backprop.py`)."""
    tops = {PurePosixPath(n).parts[0] for n in files}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in files):
        top = tops.pop()
        return {PurePosixPath(n).relative_to(top).as_posix(): d for n, d in files.items()}
    return files
