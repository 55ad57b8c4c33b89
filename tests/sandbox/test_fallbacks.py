"""Degraded machines: without Landlock and seccomp the mount namespace still hides every secret and
the network namespace still blocks the network; without any protection safe mode refuses to start,
and --unsafe runs a plain separate process."""

from __future__ import annotations

import os
import socket
import textwrap
import uuid

import pytest

from autograder.sandbox import IsolationUnavailable, Sandbox

from .conftest import TEST_LIMITS
from .test_hostile import SNOOP

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox tests need root; CI runs them as root")


def _folder(tmp_path, name, **files):
    folder = tmp_path / "students" / name
    folder.mkdir(parents=True)
    for module, source in files.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


def test_mount_namespace_alone_hides_secrets_and_netns_blocks_the_network(tmp_path) -> None:
    secret = "NO-LANDLOCK-" + uuid.uuid4().hex
    hidden = tmp_path / "solutions" / "backprop.py"
    hidden.parent.mkdir()
    hidden.write_text(secret)
    folder = _folder(tmp_path, "alice", snoop=SNOOP, net="""
        import socket
        def connect(port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2)
                return "connected"
            except OSError as e:
                return type(e).__name__
    """)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    box = Sandbox.start(work_dir=tmp_path / "sb", limits=TEST_LIMITS, _skip=("landlock", "seccomp"))
    try:
        assert "landlock" not in box.protections and "seccomp" not in box.protections
        assert "mntns" in box.protections and "netns" in box.protections
        with box.provider(folder, student_id="alice", time_limit=30) as p:
            snoop = p.module("snoop")
            results = snoop.read_all([str(hidden), "/etc/shadow"])
            assert results[0] == "ERR FileNotFoundError" and not any(secret in r for r in results)
            roots = [str(tmp_path), str(tmp_path.parent), "/tmp", "/", "/root", "/work"]
            assert "/tmp/src/snoop.py" in snoop.hunt("def hunt", roots)
            assert snoop.hunt(secret, roots) == []
            assert p.module("net").connect(listener.getsockname()[1]) != "connected"
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        box.close()
        listener.close()


EVERYTHING = ("netns", "mntns", "pidns", "ipcns", "utsns", "uid", "landlock", "seccomp", "cgroup_memory", "cgroup_pids")


def test_safe_mode_refuses_without_protections_and_unsafe_mode_still_runs(tmp_path) -> None:
    with pytest.raises(IsolationUnavailable, match="--unsafe"):
        Sandbox.start(work_dir=tmp_path / "a", limits=TEST_LIMITS, _skip=EVERYTHING)
    folder = _folder(tmp_path, "bob", m="import os\ndef pid():\n    return os.getpid()\n")
    box = Sandbox.start(work_dir=tmp_path / "b", limits=TEST_LIMITS, unsafe=True, _skip=EVERYTHING)
    try:
        assert "UNSAFE" in box.describe() and "uid" not in box.protections
        with box.provider(folder, student_id="bob") as p:
            assert p.module("m").pid() not in (os.getpid(), 1)  # a separate process, no pid namespace
    finally:
        box.close()
    assert not (tmp_path / "b").exists()


def test_a_scope_launcher_that_fails_falls_back_to_a_plain_start(tmp_path, monkeypatch) -> None:
    from dataclasses import replace

    from autograder.sandbox import plan

    real = plan.make
    tried = []

    def with_launcher(*args, **kwargs):
        p = real(*args, **kwargs)
        tried.append(True)
        return replace(p, launcher=("/bin/false",))  # like systemd-run without a user bus: exits at once

    monkeypatch.setattr(plan, "make", with_launcher)
    box = Sandbox.start(work_dir=tmp_path / "sb", limits=TEST_LIMITS)
    try:
        assert tried and "seccomp" in box.protections
        folder = _folder(tmp_path, "carl", m="def f():\n    return 7\n")
        with box.provider(folder, student_id="carl") as p:
            assert p.module("m").f() == 7
    finally:
        box.close()
