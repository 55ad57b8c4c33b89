"""Hostile submissions: each isolation promise has an attack written for it, and the attack must fail.

A test proves the attack failed (the secret never arrives, no connection is made, the process count
stays bounded...), not merely that the grader survived.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import numpy as np
import pytest

from autograder.sandbox import RemoteObject
from gradekit.errors import BadReturnValue, StudentCrash, StudentMemoryError, StudentTimeout

from .conftest import TEST_LIMITS, processes_of_uid

# held only in the test process: no worker may ever see it
GRADER_SENTINEL = "GRADER-SENTINEL-" + uuid.uuid4().hex
_KEEP = {"answer": GRADER_SENTINEL, "nested": [GRADER_SENTINEL * 2]}

SNOOP = r"""
import os

def read_all(paths):
    out = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                out.append(f.read().decode("latin-1"))
        except BaseException as e:
            out.append("ERR " + type(e).__name__)
        try:
            out.append(" ".join(os.listdir(os.path.dirname(p))))
        except BaseException as e:
            out.append("ERR " + type(e).__name__)
    return out

def hunt(needle, roots=("/",), limit=20000):
    # walk every directory the worker can see and grep every small file for the needle
    found, seen = [], 0
    visited = set()
    skip = ("/proc", "/sys", "/usr", "/dev")
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.startswith(skip):
                dirnames[:] = []
                continue
            for name in filenames:
                seen += 1
                if seen > limit:
                    return found
                path = os.path.join(dirpath, name)
                if path in visited:
                    continue
                visited.add(path)
                try:
                    if os.path.getsize(path) < (1 << 20):
                        with open(path, "rb") as f:
                            if needle.encode() in f.read():
                                found.append(path)
                except BaseException:
                    pass
    return found

def proc_snoop(needle):
    found = []
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pids = [str(n) for n in range(1, 5000)]  # cannot list /proc: guess pids instead
    for pid in pids:
        if not pid.isdigit():
            continue
        for sub in ("environ", "cmdline", "root/tmp/src", "cwd"):
            path = f"/proc/{pid}/{sub}"
            try:
                if os.path.isdir(path):
                    for name in os.listdir(path):
                        with open(os.path.join(path, name), "rb") as f:
                            if needle.encode() in f.read():
                                found.append(path)
                else:
                    with open(path, "rb") as f:
                        if needle.encode() in f.read():
                            found.append(path)
            except BaseException:
                pass
    visible = [int(p) for p in pids if os.path.exists(f"/proc/{p}/status")]
    return found, visible
"""


def _make_secrets(tmp_path, secret):
    paths = []
    for rel in ("solutions/backprop/backprop.py", "assignments/backprop/tests/hidden/test_hidden.py",
                "out/alice.json"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"SECRET = {secret!r}\n")
        paths.append(str(path))
    return paths


def test_secret_files_cannot_be_read(student, tmp_path) -> None:
    secret = "TOP-SECRET-" + uuid.uuid4().hex
    paths = _make_secrets(tmp_path, secret)
    here = os.path.dirname(os.path.abspath(__file__))
    project = os.path.dirname(os.path.dirname(here))
    paths += [os.path.join(project, "tests", "sandbox", "test_hostile.py"), os.path.join(project, "README.md"),
              "/etc/shadow", "/root/.bashrc"]
    p = student(snoop=SNOOP, time_limit=30)
    snoop = p.module("snoop")
    results = snoop.read_all(paths)
    assert all(r.startswith("ERR") for r in results), results
    assert not any(secret in r or GRADER_SENTINEL in r for r in results)
    roots = [str(tmp_path), str(tmp_path.parent), "/tmp", "/tmp/src", project, "/", "/root", "/work", "/home"]
    assert snoop.hunt("def hunt", roots) == ["/tmp/src/snoop.py"]  # the search works where it may look
    assert snoop.hunt(secret, roots) == []
    assert snoop.hunt(GRADER_SENTINEL, roots) == []
    found, pids = snoop.proc_snoop(secret)
    assert found == [] and os.getpid() not in pids and all(pid < 100 for pid in pids)


def test_another_students_files_and_process_are_out_of_reach(student, tmp_path) -> None:
    secret = "BOB-ANSWER-" + uuid.uuid4().hex
    bob = student("bob", backprop=f"ANSWER = {secret!r}\ndef f():\n    return 1\n")
    assert bob.module("backprop").f() == 1  # bob's worker is alive and holds the secret
    alice = student("alice", snoop=SNOOP, time_limit=30)
    snoop = alice.module("snoop")
    bob_file = str(tmp_path / "students" / "bob" / "backprop.py")
    results = snoop.read_all([bob_file, "/tmp/src/backprop.py"])
    assert results[0].startswith("ERR") and results[1].startswith("ERR") and results[2].startswith("ERR")
    assert results[3] == "snoop.py"  # its own private copy, nothing of bob's
    assert not any(secret in r for r in results)
    assert snoop.hunt(secret, ["/", "/tmp", str(tmp_path), str(tmp_path / "students" / "bob")]) == []
    found, _ = snoop.proc_snoop(secret)
    assert found == []
    assert alice.worker_uid != bob.worker_uid


def test_network_is_unreachable_and_sockets_cannot_be_made(student) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    p = student(net="""
        import socket, os
        def attack(port):
            out = []
            for make in (lambda: socket.create_connection(("127.0.0.1", port), timeout=2),
                         lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                         lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM),
                         lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW),
                         lambda: socket.socketpair()):
                try:
                    make()
                    out.append("OK")
                except BaseException as e:
                    out.append(type(e).__name__)
            return out
        def stolen_channel(port):
            # the only socket it has is its channel to the grader: it cannot be re-pointed elsewhere
            s = socket.socket(fileno=os.dup(3))
            try:
                s.connect(("127.0.0.1", port))
                return "connected"
            except BaseException as e:
                return type(e).__name__
    """)
    result = p.module("net").attack(port)
    assert result == ["PermissionError"] * 5
    assert p.module("net").stolen_channel(port) != "connected"
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection ever arrived
    listener.close()


def test_fork_bomb_is_bounded_and_cleaned_up(student) -> None:
    p = student(bomb="""
        import os, time
        def bomb():
            n = 0
            for _ in range(1000):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(600)
                    os._exit(0)
                n += 1
            return n
    """, time_limit=20)
    count = p.module("bomb").bomb()
    assert count < TEST_LIMITS.processes
    uid = p.worker_uid
    assert len(processes_of_uid(uid)) >= count
    p.close()
    assert processes_of_uid(uid) == []
    assert student("next", m="def f():\n    return 1\n").module("m").f() == 1


def test_setsid_daemon_does_not_outlive_grading(student) -> None:
    p = student(daemon="""
        import os, time
        def start():
            r, w = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.write(w, str(os.getpid()).encode())
                    while True:
                        time.sleep(0.1)
                os._exit(0)
            os.wait()
            return int(os.read(r, 20))
    """)
    assert p.module("daemon").start() > 1
    uid = p.worker_uid
    assert len(processes_of_uid(uid)) >= 2  # the worker and the daemon
    p.close()
    assert processes_of_uid(uid) == []


def test_memory_hog_is_stopped_and_the_next_call_works(student, sandbox) -> None:
    p = student(hog="""
        import numpy as np
        held = []
        def big():
            return len(bytearray(8 << 30))
        def gradual():
            while True:
                held.append(np.ones(16 << 20))   # 128 MB each, touched
        def ok():
            return len(held)
    """, time_limit=20)
    hog = p.module("hog")
    with pytest.raises(StudentMemoryError):  # reported as memory, never as a crash
        hog.big()
    with pytest.raises(StudentMemoryError) as killed:
        hog.gradual()
    if "cgroup_memory" in sandbox.protections:  # the cgroup's OOM kill, read back from the cgroup (v1 or v2)
        assert "killed at its memory limit" in str(killed.value)
    assert hog.ok() == 0  # a fresh worker


def test_infinite_loop_times_out_and_the_next_call_works(student) -> None:
    p = student(loop="""
        import time
        def spin():
            while True:
                pass
        def sleepy():
            time.sleep(100)
        def ok():
            return "fine"
    """, time_limit=1.0)
    loop = p.module("loop")
    for fn in (loop.spin, loop.sleepy):
        t0 = time.monotonic()
        with pytest.raises(StudentTimeout):
            fn()
        assert time.monotonic() - t0 < 1.0 + 1.5
        assert loop.ok() == "fine"


def test_untrustworthy_return_values_become_handles(student) -> None:
    p = student(ret="""
        import numpy as np
        class AlwaysEqual:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __bool__(self): return True
        class F(float):
            def __eq__(self, other): return True
        class Sub(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
        def always_equal(): return AlwaysEqual()
        def float_sub(): return F(1.0)
        def object_array(): return np.array([AlwaysEqual(), 1.0], dtype=object)
        def ndarray_sub(): return np.zeros(3).view(Sub)
        def nested(): return [1.0, {"x": F(2.0)}]
        def deep():
            x = []
            for _ in range(100):
                x = [x]
            return x
    """)
    ret = p.module("ret")
    for fn in (ret.always_equal, ret.float_sub, ret.object_array, ret.ndarray_sub):
        value = fn()
        assert isinstance(value, RemoteObject)
        with pytest.raises(BadReturnValue):
            value == 1.0  # noqa: B015
        with pytest.raises(BadReturnValue):
            float(value)
        with pytest.raises(BadReturnValue):
            np.asarray(value, dtype=float)
    nested = ret.nested()
    assert nested[0] == 1.0 and isinstance(nested[1]["x"], RemoteObject)
    with pytest.raises(BadReturnValue):
        ret.deep()


def test_forged_and_oversized_wire_data_is_refused(student) -> None:
    p = student(forge="""
        import os, struct, time
        def huge():
            os.write(3, struct.pack(">I", 0xFFFFFFF0))
            time.sleep(30)
        def pickle_like():
            body = b'{"ok":{"__pickle__":"Y29zCnN5c3RlbQ=="}}'
            os.write(3, struct.pack(">I", len(body)) + body)
            time.sleep(30)
        def ok():
            return 3
    """)
    forge = p.module("forge")
    t0 = time.monotonic()
    with pytest.raises(BadReturnValue):
        forge.huge()
    assert time.monotonic() - t0 < 3
    assert forge.ok() == 3
    with pytest.raises(BadReturnValue):
        forge.pickle_like()
    assert forge.ok() == 3


def test_introspection_finds_nothing_of_the_grader(student) -> None:
    assert _KEEP["answer"] == GRADER_SENTINEL
    p = student(spy="""
        import gc, sys, inspect
        PREFIX = "GRADER-" + "SENTINEL"
        def spy():
            found = []
            for obj in gc.get_objects():
                if obj is found:  # it grows while it is read: an endless loop, stopped only by the memory limit
                    continue
                try:
                    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
                    for x in items:
                        if isinstance(x, str) and PREFIX in x:
                            found.append(x)
                except Exception:
                    pass
            for frame in sys._current_frames().values():
                while frame is not None:
                    for v in list(frame.f_locals.values()) + list(frame.f_globals.values()):
                        if isinstance(v, str) and PREFIX in v and v != PREFIX:
                            found.append(v)
                    frame = frame.f_back
            bad = [m for m in sys.modules if m.startswith(("test_", "conftest", "solutions", "pytest", "_pytest"))
                   or "hidden" in m or m.startswith("tests")]
            return [f for f in found if f != PREFIX], bad, sorted(k for k in sys.modules if k.startswith("autograder"))
    """, time_limit=60)
    found, bad, ours = p.module("spy").spy()
    assert found == [] and bad == []
    grader_side = ("autograder.grading", "autograder.config", "autograder.course", "autograder.store",
                   "autograder.results", "autograder.exports", "autograder.sandbox.host", "autograder.cli")
    assert ours and not [name for name in ours if name.startswith(grader_side)], ours


def test_monkeypatching_in_the_worker_stays_there(student) -> None:
    p = student(patch="""
        import numpy, builtins, math
        def patch():
            numpy.allclose = lambda *a, **k: True
            numpy.testing.assert_allclose = lambda *a, **k: None
            builtins.abs = lambda x: 0
            math.isclose = lambda *a, **k: True
            return numpy.allclose([1], [2])
    """)
    assert p.module("patch").patch() is True
    assert not np.allclose([1], [2])
    with pytest.raises(AssertionError):
        np.testing.assert_allclose([1.0], [2.0])
    assert abs(-3) == 3


def test_writes_outside_the_work_dir_fail_and_files_are_size_limited(student, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    p = student(writer="""
        import os
        def attempt(paths):
            res = []
            for path in paths:
                try:
                    with open(path, "w") as f:
                        f.write("PWN" + "ED")
                    res.append("OK")
                except BaseException as e:
                    res.append(type(e).__name__)
            return res
        def big():
            try:
                with open("big.bin", "wb") as f:
                    for _ in range(8):
                        f.write(b"x" * (1 << 20))
                    f.flush()
            except OSError as e:
                err = e.errno
            else:
                err = 0
            return err, os.path.getsize("big.bin")
        def local():
            with open("scratch.txt", "w") as f:
                f.write("ok")
            return open("scratch.txt").read(), os.getcwd()
    """)
    w = p.module("writer")
    targets = [str(out / "alice.json"), str(tmp_path / "students" / "alice" / "writer.py"),
               "/tmp/evil.txt", "/tmp/src/writer.py", "/dev/shm/evil", "/etc/evil", "/root/evil", "/evil"]
    assert "OK" not in w.attempt(targets)
    assert not (out / "alice.json").exists()
    assert "PWNED" not in (tmp_path / "students" / "alice" / "writer.py").read_text()
    assert not os.path.exists("/tmp/evil.txt") and not os.path.exists("/evil")
    err, size = w.big()
    assert err == 27 and size <= TEST_LIMITS.file_bytes  # EFBIG
    assert w.local()[0] == "ok"


def test_killing_other_processes_cannot_hurt_the_grader(student, sandbox) -> None:
    zygote_pid = sandbox._proc.pid
    p = student(killer="""
        import os, signal
        def kill_all(pids):
            res = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    res.append("sent")
                except BaseException as e:
                    res.append(type(e).__name__)
            return res
    """)
    res = p.module("killer").kill_all([os.getpid(), os.getppid(), zygote_pid, -1, 0])
    assert res[0] in ("ProcessLookupError", "PermissionError")  # the grader is not even visible
    time.sleep(0.2)
    assert sandbox._proc.poll() is None
    os.kill(os.getpid(), 0)
    again = student("other", m="def f():\n    return 7\n")
    assert again.module("m").f() == 7
    try:
        p.module("killer").kill_all([1])  # its own pid 1: at most its own worker dies
    except StudentCrash:
        pass


def test_signals_from_the_grader_side_still_reach_the_worker(student) -> None:
    # after close() the worker is gone for good, even if it ignores every signal it can
    p = student(stubborn="""
        import signal, os
        def ignore():
            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(s, signal.SIG_IGN)
            return os.getpid()
    """)
    assert p.module("stubborn").ignore() == 1
    uid = p.worker_uid
    p.close()
    assert processes_of_uid(uid) == []


def test_kernel_attack_surface_is_closed_but_threads_work(student) -> None:
    p = student(kern="""
        import ctypes, os, threading
        libc = ctypes.CDLL(None, use_errno=True)
        def attempts():
            res = {}
            res["unshare_user"] = libc.unshare(0x10000000) == 0        # CLONE_NEWUSER: a way back to caps
            res["unshare_net"] = libc.unshare(0x40000000) == 0
            res["mount"] = libc.mount(b"none", b"/tmp/work", b"tmpfs", 0, None) == 0
            res["ptrace"] = libc.ptrace(0, 0, None, None) == 0          # PTRACE_TRACEME
            res["setuid0"] = libc.setuid(0) == 0
            res["chroot"] = libc.chroot(b"/tmp/work") == 0
            res["bpf"] = libc.syscall(321, 0, None, 0) >= 0
            res["io_uring"] = libc.syscall(425, 1, None) >= 0
            res["userfaultfd"] = libc.syscall(323, 0) >= 0
            res["perf"] = libc.syscall(298, None, 0, -1, -1, 0) >= 0
            return res
        def threads():
            out = []
            ts = [threading.Thread(target=lambda i=i: out.append(i)) for i in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            return sorted(out)
        def torch_works():
            import torch
            x = torch.tensor([1.0, 2.0], requires_grad=True)
            (x * x).sum().backward()
            return x.grad.tolist(), torch.get_num_threads()
    """)
    kern = p.module("kern")
    assert kern.attempts() == {k: False for k in ("unshare_user", "unshare_net", "mount", "ptrace", "setuid0",
                                                  "chroot", "bpf", "io_uring", "userfaultfd", "perf")}
    assert kern.threads() == [0, 1, 2, 3]
    assert kern.torch_works() == ([2.0, 4.0], 1)
