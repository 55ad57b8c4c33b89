"""Bad input to the grader gets a clear per-student error, and nothing escapes the staging folder."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.grading.submissions import SubmissionError, discover, stage

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
    (sub,) = discover(folder)
    return sub


def test_folder_and_zip_are_staged(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "backprop.py").write_text("x = 1\n")
    (subs / "alice" / "__pycache__").mkdir()
    (subs / "alice" / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    make_zip(subs / "bob.zip", {"bob/backprop.py": b"x = 2\n", "bob/optim.py": b"y = 1\n"})
    found = discover(subs)
    assert [s.student for s in found] == ["alice", "bob"]
    a = stage(found[0], FILES, tmp_path / "stage" / "alice")
    b = stage(found[1], FILES, tmp_path / "stage" / "bob")
    assert a.files == ("backprop.py",) and b.files == ("backprop.py", "optim.py")
    assert (tmp_path / "stage" / "bob" / "optim.py").read_text() == "y = 1\n"
    assert len(a.sha256) == 64 and a.sha256 != b.sha256


@pytest.mark.parametrize(
    ("entries", "symlink", "words"),
    [
        ({"../evil.py": b"x"}, None, "outside the folder"),
        ({"/abs/backprop.py": b"x"}, None, "absolute path"),
        ({"backprop.py": b"x"}, "optim.py", "symbolic link"),
        ({"Backprop.py": b"x"}, None, "did you mean backprop.py"),
        ({"backprop.py": b"x", "notes.txt": b"hi"}, None, "unexpected file(s) notes.txt"),
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
    found = {s.student: s for s in discover(subs)}
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
    (subs / "notes.txt").write_text("not a submission")
    found = discover(subs)
    assert len(found) == 3
    assert all(s.problem for s in found)
    assert all(s.student.startswith("invalid-name-") or s.student == "notes.txt" for s in found)
    for s in found:
        with pytest.raises(SubmissionError):
            stage(s, FILES, tmp_path / "stage" / s.student)
