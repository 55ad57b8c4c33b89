"""Bad input to the grader gets a clear per-student error, and nothing escapes the staging folder."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.grading.submissions import SubmissionError, discover, stage
from tests.hostile import (bad_utf8_name, corrupt_member, deep_name, empty_names, make_deep_tree,
                           remove_deep_tree)

FILES = ("backprop.py", "optim.py")


def make_zip(path: Path, entries: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return path


def only(folder: Path):
    (sub,) = discover(folder).submissions
    return sub


def test_folder_and_zip_are_staged(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "backprop.py").write_text("x = 1\n")
    (subs / "alice" / "__pycache__").mkdir()
    (subs / "alice" / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    make_zip(subs / "bob.zip", {"bob/backprop.py": b"x = 2\n", "bob/optim.py": b"y = 1\n"})
    found = discover(subs).submissions
    assert [s.student for s in found] == ["alice", "bob"]
    a = stage(found[0], FILES, tmp_path / "stage" / "alice")
    b = stage(found[1], FILES, tmp_path / "stage" / "bob")
    assert a.files == ("backprop.py",) and b.files == ("backprop.py", "optim.py")
    assert (tmp_path / "stage" / "bob" / "optim.py").read_text() == "y = 1\n"
    assert len(a.sha256) == 64 and a.sha256 != b.sha256
    assert b.warnings == () and a.warnings == ("missing optim.py (the questions on it score 0)",)


@pytest.mark.parametrize(
    ("entries", "symlink", "words"),
    [
        ({"../evil.py": b"x"}, None, "outside the folder"),
        ({"/abs/backprop.py": b"x"}, None, "absolute path"),
        ({"backprop.py": b"x"}, "optim.py", "symbolic link"),
        ({"notes.txt": b"hi"}, None, "none of the assignment's files (backprop.py, optim.py)"),
        ({"a/backprop.py": b"x", "b/backprop.py": b"y"}, None, "more than once (a/backprop.py, b/backprop.py)"),
        ({}, None, "empty"),
    ],
)
def test_bad_zips_get_a_clear_error(tmp_path: Path, entries: dict, symlink: str | None, words: str) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    make_zip(subs / "mallory.zip", entries, symlink=symlink)
    with pytest.raises(SubmissionError) as info:
        stage(only(subs), FILES, tmp_path / "stage" / "mallory")
    assert words in str(info.value)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "stage" / "evil.py").exists()


def test_corrupt_zip(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "eve.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        stage(only(subs), FILES, tmp_path / "stage")


def test_zip_bomb_is_bounded(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("backprop.py", b"0" * (20 << 20))
    with pytest.raises(SubmissionError, match="larger than"):
        stage(only(subs), FILES, tmp_path / "stage")


def test_symlinks_and_empty_folders(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "carol").mkdir(parents=True)
    os.symlink("/etc/passwd", subs / "carol" / "backprop.py")
    (subs / "dave").mkdir()
    os.symlink(subs / "carol", subs / "erin")
    found = {s.student: s for s in discover(subs).submissions}
    with pytest.raises(SubmissionError, match="symbolic link"):
        stage(found["carol"], FILES, tmp_path / "stage" / "carol")
    with pytest.raises(SubmissionError, match="empty"):
        stage(found["dave"], FILES, tmp_path / "stage" / "dave")
    with pytest.raises(SubmissionError, match="symbolic link"):
        stage(found["erin"], FILES, tmp_path / "stage" / "erin")


def test_unusable_names_are_kept_with_a_problem(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    os.mkdir(os.path.join(os.fsencode(subs), b"bad\xffname"))
    (subs / "has space").mkdir()
    found = discover(subs).submissions
    assert len(found) == 2
    assert all(s.problem for s in found)
    assert all(s.student.startswith("invalid-name-") for s in found)
    for s in found:
        with pytest.raises(SubmissionError):
            stage(s, FILES, tmp_path / "stage" / s.student)


def test_stray_files_are_skipped_not_students(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    make_zip(subs / "bob.zip", {"backprop.py": b"x = 1\n"})
    for stray in ("README.md", "notes.txt", "carol.tar.gz"):
        (subs / stray).write_text("not a submission")
    found = discover(subs)
    assert [s.student for s in found.submissions] == ["alice", "bob"]
    assert found.skipped == ("README.md", "carol.tar.gz", "notes.txt")


def test_extras_are_ignored_with_a_warning_and_never_copied(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    folder = subs / "alice"
    (folder / "tests" / "public").mkdir(parents=True)
    (folder / "backprop.py").write_text("x = 1\n")
    (folder / "optim.py").write_text("y = 1\n")
    for name in ("notes.txt", "helpers.py", "scratch.ipynb", "conftest.py", "numpy.py", "tests/public/test_a.py"):
        (folder / name).write_text("open('/tmp/pwned', 'w')\n")
    staged = stage(only(subs), FILES, tmp_path / "stage")
    assert staged.files == FILES
    assert sorted(p.name for p in (tmp_path / "stage").iterdir()) == list(FILES)
    (warning,) = staged.warnings
    assert warning.startswith("ignored 6 other file(s):")
    for name in ("conftest.py", "numpy.py", "notes.txt", "helpers.py", "scratch.ipynb", "tests/ (1 files)"):
        assert name in warning


@pytest.mark.parametrize(
    ("entries", "used"),
    [
        # the whole release folder zipped, with its tests, kit and conftest.py
        ({"backprop/backprop.py": b"a", "backprop/optim.py": b"b", "backprop/conftest.py": b"c",
          "backprop/tests/public/test_backprop.py": b"t", "backprop/gradekit/checks.py": b"k"}, None),
        ({"Backprop.py": b"a", "OPTIM.PY": b"b"}, "used Backprop.py as backprop.py"),
        ({"alice/hw/backprop.py": b"a", "alice/hw/optim.py": b"b", "alice/readme.txt": b"r"}, "used hw/backprop.py as backprop.py"),
    ],
)
def test_files_found_by_case_or_nesting(tmp_path: Path, entries: dict, used: str | None) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    make_zip(subs / "alice.zip", entries)
    staged = stage(only(subs), FILES, tmp_path / "stage")
    assert staged.files == FILES
    assert (tmp_path / "stage" / "backprop.py").read_bytes() == b"a"
    assert (tmp_path / "stage" / "optim.py").read_bytes() == b"b"
    if used:
        assert used in staged.warnings
    assert sorted(p.name for p in (tmp_path / "stage").iterdir()) == list(FILES)


CONTENT = {"backprop.py": b"def f(x):\n    return x\n", "optim.py": b"y = 1\n"}
HOSTILE_ZIPS = {"corrupt_member": (corrupt_member, "corrupt in the zip"),
                "bad_utf8_name": (bad_utf8_name, "not a readable zip file"),
                "empty_names": (empty_names, None),
                "deep_name": (deep_name, "nested too deeply")}


@pytest.mark.parametrize("kind", sorted(HOSTILE_ZIPS))
def test_malformed_zips_raise_only_submission_errors(tmp_path: Path, kind: str) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    make, words = HOSTILE_ZIPS[kind]
    make(subs / "mallory.zip", CONTENT)
    if words is None:
        staged = stage(only(subs), FILES, tmp_path / "stage")
        assert staged.files == FILES and any("empty name" in w for w in staged.warnings)
        return
    with pytest.raises(SubmissionError) as info:
        stage(only(subs), FILES, tmp_path / "stage")
    assert words in str(info.value)


def test_a_folder_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    import sys

    subs = tmp_path / "subs"
    make_deep_tree(subs / "mallory" / "deep", sys.getrecursionlimit() + 200)
    try:
        (subs / "mallory" / "backprop.py").write_text("x = 1\n")
        staged = stage(only(subs), FILES, tmp_path / "stage")
        assert staged.files == ("backprop.py",)
        assert any("nested too deeply" in w for w in staged.warnings)
    finally:
        remove_deep_tree(subs / "mallory" / "deep")
