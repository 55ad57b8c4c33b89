"""Find submissions and stage each one safely into a private folder.

A submission is `<student>/` or `<student>.zip` in the submissions folder; anything else there is
skipped and listed once. Nothing in a submission is trusted. Staging lists its entries (bounded in
count, depth and name length, walking folders with an explicit stack), chooses the assignment's
files by name (`select_files`), then reads only those (bounded in size and compression ratio, links
refused) and writes them under their expected names: an ignored file is never read, copied or
imported, and no entry name ever becomes a path. `stage` raises nothing but `SubmissionError`:
whatever a submission holds, it is that student's error with a reason, never the batch's.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from ..textsafe import visible

MAX_FILE_BYTES = 1 << 20  # one chosen file
MAX_TOTAL_BYTES = 8 << 20  # the chosen files together
MAX_ARCHIVE_BYTES = 64 << 20  # a .zip on disk
MAX_ENTRIES = 10_000  # entries listed (files and folders, read or not)
MAX_DEPTH = 16  # folder levels below the submission
MAX_NAME_CHARS = 1024  # one entry's relative path
MAX_RATIO = 200  # uncompressed / compressed size of a chosen zip member (above 64 KiB)
LISTED = 8  # names shown per warning
SUBMISSION_SUFFIXES = (".zip", ".ipynb")  # besides folders; a notebook is read by grading/notebook_route.py
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
class Found:
    """What `discover` found: the submissions, and the names of the other entries it skipped."""

    submissions: tuple[Submission, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Staged:
    student: str
    folder: Path
    files: tuple[str, ...]
    sha256: str
    warnings: tuple[str, ...] = ()  # files ignored, renamed or missing


@dataclass(frozen=True)
class Entry:
    """One listed entry of a submission: its relative path, size and kind ("file", "link", "other")."""

    path: str
    size: int
    kind: str = "file"
    source: str | int = ""  # how the reader finds it: the path in the folder, or the zip member's index


@dataclass(frozen=True)
class Selection:
    """The entry chosen for each expected file, and what the student should know about the choice."""

    chosen: dict[str, Entry]
    warnings: tuple[str, ...]


def discover(folder: Path) -> Found:
    """One entry per student, sorted; unusable names are kept with a problem, never dropped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    found: dict[str, Submission] = {}
    skipped: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith(".") or name in JUNK:
            continue
        suffix = next((s for s in SUBMISSION_SUFFIXES if name.lower().endswith(s)), "")
        is_dir = entry.is_dir()
        if not is_dir and not suffix:
            skipped.append(name)  # README.md, notes.txt, a .tar.gz: not a submission
            continue
        stem = name[: len(name) - len(suffix)] if suffix and not is_dir else name
        problem = ""
        try:
            stem.encode("utf-8")
        except UnicodeEncodeError:
            problem = "the submission's name is not valid UTF-8; rename it to the student's id"
            stem = "invalid-name-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        if not problem and not _SAFE_ID.match(stem):
            problem = (f"the submission name {visible(stem)!r} is not a usable student id (letters, digits "
                       "and ._@+- only); rename it")
            stem = "invalid-name-" + hashlib.sha256(stem.encode()).hexdigest()[:10]
        if not problem and entry.is_symlink():
            problem = f"{name} is a symbolic link; submit a real folder or zip"
        if stem in found:
            problem = problem or f"two submissions for {stem!r} (a folder and a zip?); keep one"
        found[stem] = Submission(stem, entry, problem)
    return Found(tuple(sorted(found.values(), key=lambda s: s.student)), tuple(skipped))


def stage(sub: Submission, expected: tuple[str, ...], dest: Path, route: Callable[..., Any] | None = None) -> Staged:
    """Copy the submission's expected files into `dest` (created); `route` may take it over (notebooks).

    Reading the submission raises only SubmissionError; writing `dest` (the grader's own folder)
    may raise OSError, which is the grader's problem, not the student's.
    """
    files, warnings = read_submission(sub, expected, route)
    dest.mkdir(parents=True, exist_ok=False)
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
        (dest / name).write_bytes(data)
    return Staged(sub.student, dest, tuple(sorted(files)), digest.hexdigest(), warnings)


def read_submission(sub: Submission, expected: tuple[str, ...],
                    route: Callable[..., Any] | None = None) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """The expected files' contents by name, and the warnings (`route(sub, expected)` may supply them
    instead: a notebook). Raises only SubmissionError."""
    if sub.problem:
        raise SubmissionError(sub.problem)
    try:
        if route is not None and (routed := route(sub, expected)) is not None:
            return routed
        return _read(sub, expected)
    except SubmissionError:
        raise
    except RecursionError:
        raise SubmissionError("the submission is nested too deeply to read; submit only "
                              f"{', '.join(expected)}") from None
    except MemoryError:
        raise SubmissionError("the submission is too large to read; submit only "
                              f"{', '.join(expected)}") from None
    except Exception as exc:  # noqa: BLE001 - the boundary: anything else is still this student's
        raise SubmissionError(f"the submission could not be read ({type(exc).__name__}: "
                              f"{visible(str(exc))[:200]}); submit only {', '.join(expected)} again") from None


def file_names(sub: Submission) -> set[str]:
    """The base names of a submission's files, for guessing its assignment; empty when unreadable."""
    try:
        if sub.path.is_dir() and not sub.path.is_symlink():
            entries, _ = _list_folder(sub.path)
        elif sub.path.is_file() and sub.path.stat().st_size <= MAX_ARCHIVE_BYTES:
            with zipfile.ZipFile(sub.path) as archive:
                entries, _ = _list_zip(archive)
        else:
            return set()
    except Exception:  # noqa: BLE001 - a guess only; staging reports the problem
        return set()
    return {PurePosixPath(e.path).name for e in entries}


def select_files(entries: list[Entry], expected: tuple[str, ...]) -> Selection:
    """Choose an entry for each expected file; everything else is ignored, with a warning.

    An expected file is found by its exact name, else by a unique case-insensitive match, at the
    shallowest depth where it occurs (the whole release folder zipped, or files one folder deeper).
    Two candidates at that depth are an error: guessing could grade the wrong file.
    """
    entries = _strip_wrapper(entries)
    chosen: dict[str, Entry] = {}
    warnings: list[str] = []
    for name in expected:
        exact = [e for e in entries if PurePosixPath(e.path).name == name]
        similar = exact or [e for e in entries if PurePosixPath(e.path).name.lower() == name.lower()]
        if not similar:
            continue
        depth = min(e.path.count("/") for e in similar)
        best = [e for e in similar if e.path.count("/") == depth]
        if len(best) > 1:
            raise SubmissionError(f"{name} is in the submission more than once ({_names(e.path for e in best)}); "
                                  "keep one copy")
        chosen[name] = best[0]
        if best[0].path != name:
            warnings.append(f"used {visible(best[0].path)} as {name}")
    used = {e.path for e in chosen.values()}
    ignored = [e.path for e in entries if e.path not in used]
    if ignored:
        warnings.append(f"ignored {len(ignored)} other file(s): {_grouped(ignored)}")
    missing = [n for n in expected if n not in chosen]
    if chosen and missing:
        warnings.append(f"missing {', '.join(missing)} (the questions on {'it' if len(missing) == 1 else 'them'} score 0)")
    return Selection(chosen, tuple(warnings))


# ---------------------------------------------------------------- staging


def _read(sub: Submission, expected: tuple[str, ...]) -> tuple[dict[str, bytes], tuple[str, ...]]:
    if sub.path.is_dir():
        entries, notes = _list_folder(sub.path)
        selection = _select(entries, notes, expected)
        read = lambda entry: _read_folder_file(sub.path, entry)  # noqa: E731
        return _read_chosen(selection, read), selection.warnings
    size = sub.path.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise SubmissionError(f"{sub.path.name} is larger than {MAX_ARCHIVE_BYTES >> 20} MiB; "
                              f"zip only {', '.join(expected)}")
    try:
        archive = zipfile.ZipFile(sub.path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, a bad name encoding, a bad header...
        raise SubmissionError(f"{sub.path.name} is not a readable zip file ({type(exc).__name__}: "
                              f"{visible(str(exc))[:120]}); zip the files again") from None
    with archive:
        entries, notes = _list_zip(archive)
        selection = _select(entries, notes, expected)
        return _read_chosen(selection, lambda entry: _read_member(archive, entry)), selection.warnings


def _select(entries: list[Entry], notes: list[str], expected: tuple[str, ...]) -> Selection:
    if not entries and not notes:
        raise SubmissionError(f"the submission is empty; it should contain {', '.join(expected)}")
    selection = select_files(entries, expected)
    notes = list(dict.fromkeys(notes))  # one line per distinct note
    warnings = tuple(notes) + selection.warnings
    if not selection.chosen:
        held = _names(e.path for e in entries) if entries else "no usable file"
        detail = f" ({'; '.join(notes)})" if notes else ""
        raise SubmissionError(f"none of the assignment's files ({', '.join(expected)}) is in the submission; "
                              f"it holds {held}{detail}")
    return Selection(selection.chosen, warnings)


def _read_chosen(selection: Selection, read: Callable[[Entry], bytes]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for name, entry in sorted(selection.chosen.items()):
        if entry.kind == "link":
            raise SubmissionError(f"{visible(entry.path)} is a symbolic link; submit the file itself")
        if entry.kind != "file":
            raise SubmissionError(f"{visible(entry.path)} is not a regular file")
        if entry.size > MAX_FILE_BYTES:
            raise SubmissionError(f"{visible(entry.path)} is larger than {MAX_FILE_BYTES >> 10} KiB")
        data = read(entry)
        if len(data) > MAX_FILE_BYTES:
            raise SubmissionError(f"{visible(entry.path)} is larger than {MAX_FILE_BYTES >> 10} KiB")
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"the submission is larger than {MAX_TOTAL_BYTES >> 20} MiB")
        files[name] = data
    return files


# ---------------------------------------------------------------- listing (bounded, no file read)


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p in JUNK_DIRS for p in parts[:-1]) or parts[-1] in JUNK or parts[-1].startswith("._")


def _list_folder(root: Path) -> tuple[list[Entry], list[str]]:
    """Walk `root` with an explicit stack, never following links; notes say what was left unread."""
    entries: list[Entry] = []
    notes: list[str] = []
    seen = 0
    stack: list[tuple[str, str]] = [(os.fspath(root), "")]
    while stack:
        path, rel = stack.pop()
        try:
            with os.scandir(path) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            notes.append(f"could not read the folder {visible(rel or '.')} ({exc.strerror})")
            continue
        for child in children:
            seen += 1
            if seen > MAX_ENTRIES:
                raise SubmissionError(f"the submission holds more than {MAX_ENTRIES} files and folders; "
                                      "submit only the assignment's files")
            child_rel = f"{rel}/{child.name}" if rel else child.name
            parts = tuple(child_rel.split("/"))
            if _is_junk(parts):
                continue
            if child.is_symlink():
                entries.append(Entry(child_rel, 0, "link", child_rel))
            elif child.is_dir(follow_symlinks=False):
                if parts[-1] in JUNK_DIRS:
                    continue
                if len(parts) >= MAX_DEPTH or len(child_rel) > MAX_NAME_CHARS:
                    notes.append(f"ignored the folder {visible(child_rel)[:200]}: nested too deeply")
                    continue
                stack.append((child.path, child_rel))
            elif child.is_file(follow_symlinks=False):
                entries.append(Entry(child_rel, child.stat(follow_symlinks=False).st_size, "file", child_rel))
            else:
                entries.append(Entry(child_rel, 0, "other", child_rel))
    return sorted(entries, key=lambda e: e.path), notes


def _list_zip(archive: zipfile.ZipFile) -> tuple[list[Entry], list[str]]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise SubmissionError(f"the zip has more than {MAX_ENTRIES} entries; zip only the assignment's files")
    entries: list[Entry] = []
    notes: list[str] = []
    for index, info in enumerate(infos):
        raw = info.filename
        name = raw.replace("\\", "/")
        parts = tuple(p for p in name.split("/") if p not in ("", "."))
        if not parts:
            if not name.endswith("/"):
                notes.append("ignored an entry with an empty name")
            continue
        shown = visible(raw)[:200]
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            notes.append(f"ignored {shown}: an absolute path")
            continue
        if ".." in parts:
            notes.append(f"ignored {shown}: it points outside the folder ('..')")
            continue
        if len(parts) > MAX_DEPTH or len(name) > MAX_NAME_CHARS:
            notes.append(f"ignored {shown}: nested too deeply")
            continue
        if name.endswith("/") or _is_junk(parts):
            continue
        kind = "link" if stat.S_ISLNK(info.external_attr >> 16) else "file"
        entries.append(Entry("/".join(parts), info.file_size, kind, index))
    return sorted(entries, key=lambda e: e.path), notes


def _strip_wrapper(entries: list[Entry]) -> list[Entry]:
    """Files that all sit in one wrapping folder (`alice/backprop.py`) are seen without it."""
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) == 1 and all("/" in e.path for e in entries):
        cut = len(tops.pop()) + 1
        return [Entry(e.path[cut:], e.size, e.kind, e.source) for e in entries]
    return entries


# ---------------------------------------------------------------- reading (bounded)


def _read_folder_file(root: Path, entry: Entry, limit: int = MAX_FILE_BYTES) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(os.path.join(os.fspath(root), str(entry.source)), flags)
    except OSError as exc:
        raise SubmissionError(f"{visible(entry.path)} cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionError(f"{visible(entry.path)} is not a regular file")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, 1 << 16)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_member(archive: zipfile.ZipFile, entry: Entry, limit: int = MAX_FILE_BYTES) -> bytes:
    info = archive.infolist()[int(entry.source)]
    if info.flag_bits & 0x1:
        raise SubmissionError(f"{visible(entry.path)} is encrypted; zip without a password")
    if info.file_size > (64 << 10) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise SubmissionError(f"{visible(entry.path)} is compressed {info.file_size // max(info.compress_size, 1)} "
                              "times: not a source file; zip the files again")
    try:
        with archive.open(info) as fh:
            return fh.read(limit + 1)
    except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), EOFError, NotImplementedError...
        raise SubmissionError(f"{visible(entry.path)} is corrupt in the zip ({type(exc).__name__}); "
                              "zip the files again") from None


def _names(paths: object) -> str:
    items = [visible(str(p))[:120] for p in paths]  # type: ignore[attr-defined]
    more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
    return ", ".join(items[:LISTED]) + more


def _grouped(paths: list[str]) -> str:
    """`tests/ (12 files), notes.txt`: folders summarised, at most LISTED items."""
    groups: dict[str, int] = {}
    for p in paths:
        top, sep, _ = p.partition("/")
        key = top + "/" if sep else top
        groups[key] = groups.get(key, 0) + 1
    return _names(f"{k} ({n} files)" if k.endswith("/") else k for k, n in groups.items())
