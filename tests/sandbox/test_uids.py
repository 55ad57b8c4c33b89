"""Worker uids are unique on the machine: claims are exclusive across processes and runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from autograder.sandbox import Sandbox, uids

from .conftest import TEST_LIMITS


def test_a_claim_held_by_another_process_is_skipped_and_freed_when_it_exits(tmp_path) -> None:
    lock_dir = str(tmp_path / "locks")
    mine, fd = uids.claim(base=1000, slots=3, lock_dir=lock_dir)
    assert mine == 1000
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from autograder.sandbox import uids
            uid, fd = uids.claim(base=1000, slots=3, lock_dir={lock_dir!r})
            print(uid, flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "1001"  # another process: 1000 is taken
        second, fd2 = uids.claim(base=1000, slots=3, lock_dir=lock_dir)
        assert second == 1002
        with pytest.raises(uids.UidsExhausted, match="in use on this machine"):
            uids.claim(base=1000, slots=3, lock_dir=lock_dir)
    finally:
        holder.stdin.close()
        holder.wait()
    assert uids.claim(base=1000, slots=3, lock_dir=lock_dir)[0] == 1001  # its exit released the claim
    os.close(fd)
    assert uids.claim(base=1000, slots=3, lock_dir=lock_dir)[0] == 1000
    os.close(fd2)


def test_a_lock_dir_others_can_write_is_refused(tmp_path) -> None:
    lock_dir = tmp_path / "open"
    lock_dir.mkdir(mode=0o777)
    os.chmod(lock_dir, 0o777)
    with pytest.raises(PermissionError, match="not writable by others"):
        uids.claim(base=1000, slots=1, lock_dir=str(lock_dir))


@pytest.mark.skipif(os.geteuid() != 0, reason="per-worker uids need root")
def test_two_grading_runs_never_share_a_worker_uid(sandbox, tmp_path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "m.py").write_text("import os\ndef uid():\n    return os.getuid()\n")
    other = Sandbox.start(work_dir=tmp_path / "other", limits=TEST_LIMITS)
    try:
        with sandbox.provider(folder, student_id="a") as a, other.provider(folder, student_id="b") as b:
            ua, ub = a.module("m").uid(), b.module("m").uid()
            assert ua == a.worker_uid and ub == b.worker_uid
            assert ua != ub and min(ua, ub) >= uids.UID_BASE
    finally:
        other.close()
