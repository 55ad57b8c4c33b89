"""cgroups: v1/v2/none detection, the v2 delegation rules and interface files (against a fake cgroup2
tree: a temp dir holding the interface files), and the v2 code against the real kernel where this
machine mounts cgroup2 (memory and pids only where it enables them; skipped with the reason)."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pytest

from autograder.sandbox import cgroup2, cgroupfs, cgroups
from autograder.sandbox.limits import Limits

LIMITS = Limits(memory_bytes=64 << 20, processes=7)


def _cg(path: Path, controllers: str = "memory pids", subtree: str = "", procs: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in (("cgroup.controllers", controllers), ("cgroup.subtree_control", subtree),
                       ("cgroup.procs", procs), ("cgroup.kill", ""), ("memory.swap.max", "max")):
        (path / name).write_text(text)
    return path


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake cgroup2 mount. Like the kernel, rmdir refuses while cgroup.procs lists a process and
    takes the interface files with it; writing 1 to cgroup.kill empties cgroup.procs."""
    def rmdir(path: str) -> None:
        kill, procs = Path(path, "cgroup.kill"), Path(path, "cgroup.procs")
        if kill.exists() and kill.read_text() == "1":
            procs.write_text("")
        if procs.exists() and procs.read_text().strip():
            raise OSError(errno.EBUSY, "busy", path)
        for child in Path(path).iterdir():
            if child.is_file():
                child.unlink()
        os.rmdir(path)

    monkeypatch.setattr(cgroupfs, "_rmdir", rmdir)
    monkeypatch.setattr(cgroupfs, "mkdir", lambda path: _cg(Path(path), subtree=""))
    monkeypatch.setattr(cgroupfs, "REMOVE_DEADLINE", 1.0)
    return _cg(tmp_path / "cgroup", subtree="memory pids")


def test_detect_names_the_hierarchy(tmp_path: Path) -> None:
    assert cgroupfs.detect(str(_cg(tmp_path / "v2"))) == "v2"
    (tmp_path / "v1" / "memory").mkdir(parents=True)
    (tmp_path / "v1" / "memory" / "cgroup.procs").write_text("")
    (tmp_path / "v1" / "unified").mkdir()  # a hybrid layout's cgroup2 mount holds no controller we use
    assert cgroupfs.detect(str(tmp_path / "v1")) == "v1"
    (tmp_path / "none").mkdir()
    assert cgroupfs.detect(str(tmp_path / "none")) == "none"
    assert cgroupfs.detect() in ("v1", "v2", "none")  # and the real one is one of them


def test_own_cgroup_reads_the_unified_line(tmp_path: Path) -> None:
    (tmp_path / "cgroup").write_text("4:memory:/x\n0::/user.slice/run-1.scope\n")
    assert cgroup2.own_cgroup(str(tmp_path / "cgroup")) == "/user.slice/run-1.scope"
    (tmp_path / "v1only").write_text("4:memory:/x\n")
    with pytest.raises(cgroup2.Unavailable):
        cgroup2.own_cgroup(str(tmp_path / "v1only"))


def test_a_delegated_cgroup_with_controllers_enabled_is_used_as_it_is(fake: Path) -> None:
    _cg(fake / "user" / "delegated", subtree="cpu memory pids", procs="11 12")
    parent = cgroup2.find_parent(str(fake), "/user/delegated", pid=12, root=False)
    assert parent == str(fake / "user" / "delegated")
    assert not (fake / "user" / "delegated" / "zygote").exists()


def test_a_scope_of_its_own_moves_the_zygote_into_a_leaf_and_enables_the_controllers(fake: Path) -> None:
    scope = _cg(fake / "user" / "run-7.scope", procs="4242\n")
    assert cgroup2.find_parent(str(fake), "/user/run-7.scope", pid=4242, root=False) == str(scope)
    assert (scope / "zygote" / "cgroup.procs").read_text() == "4242"
    assert (scope / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_root_uses_the_hierarchy_root_and_others_get_a_reason(fake: Path) -> None:
    _cg(fake / "shared", subtree="", procs="1 2 3")  # other processes beside us, nothing enabled
    assert cgroup2.find_parent(str(fake), "/shared", pid=3, root=True) == str(fake)
    with pytest.raises(cgroup2.Unavailable, match="not delegated.*systemd-run --user --scope"):
        cgroup2.find_parent(str(fake), "/shared", pid=3, root=False)
    _cg(fake / "bare", controllers="cpu", procs="3")
    with pytest.raises(cgroup2.Unavailable, match="controllers memory, pids not available"):
        cgroup2.find_parent(str(fake), "/bare", pid=3, root=False)


def test_a_worker_cgroup_gets_its_limits_and_reports_an_oom_kill(fake: Path) -> None:
    run = cgroup2.V2Run(str(fake), "autograder-99")
    assert (fake / "autograder-99" / "cgroup.subtree_control").read_text() == "+memory +pids"
    w = run.worker("w1", LIMITS)
    leaf = fake / "autograder-99" / "w1"
    assert w.applied == ["cgroup_memory", "cgroup_pids"] and w.failed == {}
    assert (leaf / "memory.max").read_text() == str(64 << 20)
    assert (leaf / "memory.swap.max").read_text() == "0"
    assert (leaf / "memory.oom.group").read_text() == "1"
    assert (leaf / "pids.max").read_text() == "7"
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert not w.oom_killed()
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert w.oom_killed()
    (leaf / "cgroup.procs").write_text("555\n")  # a process left: cgroup.kill ends it, then rmdir works
    w.remove()
    assert not leaf.exists()
    run.remove()
    assert not (fake / "autograder-99").exists()


def test_start_run_explains_a_missing_subtree_and_names_the_rlimit_fallback(fake: Path, monkeypatch) -> None:
    _cg(fake / "shared", subtree="", procs="1 2")
    monkeypatch.setattr(cgroup2, "own_cgroup", lambda: "/shared")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    run, dirs, failed = cgroups.start_run({"version": "v2", "controllers": ["memory", "pids"]}, 2, root=str(fake))
    assert run is None and dirs == []
    assert "RLIMIT_AS" in failed["cgroup_memory"] and "not delegated" in failed["cgroup_pids"]


def _cgroup2_mount() -> str | None:
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    return None


def test_the_real_cgroup2_kills_and_removes_a_worker_cgroup() -> None:
    mount = _cgroup2_mount()
    if mount is None:
        pytest.skip("this machine mounts no cgroup2")
    if os.geteuid() != 0:
        pytest.skip("creating cgroups at the cgroup2 root needs root here")
    have = set(Path(mount, "cgroup.subtree_control").read_text().split())
    wanted = tuple(c for c in cgroupfs.CONTROLLERS if c in have)
    print(f"cgroup2 at {mount} with {sorted(have) or 'no controllers'} enabled; testing {wanted or 'kill and removal only'}")
    run = cgroup2.V2Run(mount, f"autograder-test-{os.getpid()}", wanted)
    try:
        w = run.worker("w1", Limits(memory_bytes=64 << 20, processes=8))
        assert w.applied == [f"cgroup_{c}" for c in wanted]
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                w.join()
                os.write(wfd, b"in")
                if "memory" in wanted:
                    hog = bytearray(256 << 20)  # past memory.max: the kernel's OOM killer ends us
                    os.write(wfd, bytes(hog[:1]))
                while True:
                    time.sleep(1)
            finally:
                os._exit(1)
        os.close(wfd)
        assert os.read(r, 2) == b"in"
        leaf = run.dir + "/w1"
        assert str(pid) in Path(leaf, "cgroup.procs").read_text().split() or "memory" in wanted
        if "memory" in wanted:
            _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and w.oom_killed()
        w.remove()  # cgroup.kill, then rmdir once empty: the process is gone when this returns
        assert not os.path.exists(leaf)
        if "memory" not in wanted:
            _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        os.close(r)
    finally:
        run.remove()
    assert not os.path.exists(run.dir)


def test_with_a_memory_cgroup_the_cgroup_binds_before_the_address_space_limit() -> None:
    """Touched memory must meet the cgroup (reported as "killed at its memory limit"), never RLIMIT_AS
    a few pages earlier; without a cgroup, RLIMIT_AS is the limit itself."""
    from autograder.sandbox.limits import address_space_limit

    lim, base = Limits(memory_bytes=2 << 30), 3 << 30
    assert address_space_limit(lim, base, cgroup_memory=False) == base + lim.memory_bytes
    headroom = address_space_limit(lim, base, cgroup_memory=True) - base - lim.memory_bytes
    assert headroom >= 256 << 20  # far more than an allocator's overhead between the two
