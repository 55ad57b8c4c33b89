"""Worker uids that are unique on the whole machine, not just within one grading run.

As root every worker runs under its own uid. Two grading runs on one machine (two instructors, two
CI jobs, a test suite beside a real run) must never hand the same uid to two live workers: student
code of one run could then signal, trace or read the files of the other's. A uid is therefore
*claimed* with an exclusive `flock` on `LOCK_DIR/<uid>`; the zygote claims it and hands the open
lock to the worker's supervisor, which holds it until the worker and everything it started are gone
(it exits only after that). The kernel drops the lock when the supervisor exits, even on SIGKILL.

The range starts at 0x5F000000: above the uids systemd allocates by default (regular users up to
60000, DynamicUser 61184-65519, which the old base 61000 overlapped) and below 2**31.
"""

from __future__ import annotations

import fcntl
import os
import stat

UID_BASE = 0x5F000000
UID_SLOTS = 4096
LOCK_DIR = "/run/autograder-uids"


class UidsExhausted(OSError):
    """Every uid of the range is claimed by a live worker on this machine."""


def _lock_dir(path: str) -> str:
    """The lock directory, created if needed; refused unless it is ours and private (no planted locks)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise PermissionError(f"{path} must be a directory owned by uid {os.geteuid()} and not writable by others")
    return path


def claim(skip: set[int] = frozenset(), *, base: int = UID_BASE, slots: int = UID_SLOTS,
          lock_dir: str = LOCK_DIR) -> tuple[int, int]:
    """Claim the lowest free uid of the range: (uid, fd of the held lock). Close the fd to release it.

    `skip` names uids this process already holds (a quick way past them without opening their files).
    """
    directory = _lock_dir(lock_dir)
    for uid in range(base, base + slots):
        if uid in skip:
            continue
        fd = os.open(os.path.join(directory, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except BaseException:
            os.close(fd)
            raise
        return uid, fd
    raise UidsExhausted(f"all {slots} worker uids from {base} are in use on this machine (locks in {directory})")
