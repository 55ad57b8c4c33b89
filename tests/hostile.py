"""Hostile submissions, built the way a careless or cheating student would: for staging and batch tests."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


def corrupt_member(path: Path, files: dict[str, bytes]) -> None:
    """The first file's deflate stream damaged; the central directory stays valid."""
    first = next(iter(files))
    data = bytearray(zip_bytes({first: files[first] * 50, **{k: v for k, v in files.items() if k != first}}))
    start = data.index(first.encode()) + len(first)
    data[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


def bad_utf8_name(path: Path, files: dict[str, bytes]) -> None:
    """A member flagged as UTF-8 whose name is not: zipfile raises UnicodeDecodeError on open."""
    first = next(iter(files))
    data = bytearray(zip_bytes(files))
    for marker in (b"PK\x01\x02", b"PK\x03\x04"):
        at = data.index(marker)
        flags_at = at + (8 if marker == b"PK\x01\x02" else 6)
        data[flags_at + 1] |= 0x08  # bit 11 (0x800) of the little-endian flags: "the name is UTF-8"
        name_at = data.index(first.encode(), at)
        data[name_at:name_at + 2] = b"\xff\xfe"
    path.write_bytes(bytes(data))


def empty_names(path: Path, files: dict[str, bytes]) -> None:
    """Members named "", "." and "./" beside the real files."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo(""), b"x")
        z.writestr(".", b"y")
        z.writestr("./", b"")
        for name, data in files.items():
            z.writestr(name, data)


def deep_name(path: Path, files: dict[str, bytes]) -> None:
    """Only members nested thousands of folders deep, or with a name thousands of characters long."""
    first = next(iter(files))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/" * 3000 + first, files[first])
        z.writestr("b" * 5000 + ".py", b"x = 1\n")


def make_deep_tree(root: Path, depth: int) -> None:
    """`root/d/d/.../d` `depth` levels deep, built through directory fds (paths would be too long)."""
    root.mkdir(parents=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
    finally:
        os.close(fd)


def remove_deep_tree(root: Path) -> None:
    """Remove a tree too deep for shutil.rmtree's recursion, innermost folder first."""
    fds = [os.open(root, os.O_RDONLY)]
    while "d" in os.listdir(fds[-1]):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    os.close(fds.pop())
    while fds:
        os.rmdir("d", dir_fd=fds[-1])
        os.close(fds.pop())
    os.rmdir(root)
