"""The fork server: a fresh interpreter (it never held tests or solutions) that forks workers fast.

Started by Sandbox.start as `python -m autograder.sandbox.zygote`, with the configuration as one JSON
line on stdin. It imports numpy and torch (running no torch op: forking after one can deadlock), then
listens on a Unix socket in a root-only directory and answers with one line on stdout.

Each connection asks for one worker: {"student_dir", "student_id"}. The zygote claims a worker uid
(unique on the machine, uids.py) and forks a *supervisor*, which
  1. reads the student's regular files (never following symlinks),
  2. creates the worker's cgroups, unshares the namespaces, builds the mount view (namespaces.py),
  3. forks the worker (pid 1 of the new pid namespace; it confines itself, worker.py),
  4. sends the client the worker's channel, its output pipe and a pidfd (SCM_RIGHTS),
  5. waits: when the worker dies it reports {"status", "oom"}; when the client hangs up it kills it,
  6. removes the cgroups and exits, which releases the uid claim.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import sys
import time
import traceback
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from . import _sys, cgroups, limits, namespaces, uids, worker, wire  # noqa: E402

MAX_STUDENT_BYTES = 64 << 20
MAX_STUDENT_FILES = 2000
PRELOAD = ("numpy", "torch", "math", "statistics", "random", "collections", "itertools", "functools",
           "operator", "copy", "dataclasses", "typing", "json", "re", "decimal", "fractions", "heapq",
           "bisect", "string", "textwrap", "abc", "enum", "numbers", "time", "warnings", "contextlib",
           "traceback", "linecache", "inspect", "importlib.util", "unittest", "numpy.linalg", "numpy.random",
           "torch.nn", "torch.nn.functional", "torch.optim", "torch.autograd", "torch.utils.data",
           "torch._dynamo")  # torch.optim's first step imports torch._dynamo: about 1 s per worker otherwise


def preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional (torch may be missing)
            pass


def runtime_paths(project_roots: list[str]) -> list[str]:
    """Directories the worker may read: the interpreter, the stdlib and site-packages, nothing else."""
    import site
    import sysconfig

    cands = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    cands.update(v for k, v in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib"))
    try:
        cands.update(site.getsitepackages())
    except AttributeError:
        pass
    cands.update(p for p in sys.path if p and os.path.isdir(p))
    out = []
    forbidden = [os.path.realpath(p) for p in project_roots]
    for p in cands:
        real = os.path.realpath(p)
        if not os.path.isdir(real) or real == "/":
            continue
        inside_prefix = any(real == q or real.startswith(q + "/")
                            for q in (os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)))
        if any(f == real or f.startswith(real + "/") for f in forbidden):
            continue  # an ancestor of the project would expose it
        if any(real.startswith(f + "/") for f in forbidden) and not inside_prefix:
            continue
        out.append(real)
    return sorted(set(out))


def read_student_files(folder: str) -> list[tuple[str, bytes]]:
    """Regular files below `folder` (relative path, content); symlinks and special files are skipped."""
    out: list[tuple[str, bytes]] = []
    total = 0

    def walk(rel: str, depth: int) -> None:
        nonlocal total
        if depth > 4:
            return
        with os.scandir(os.path.join(folder, rel)) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            path = os.path.join(rel, e.name)
            if e.is_symlink():
                continue
            if e.is_dir(follow_symlinks=False):
                if e.name != "__pycache__":
                    walk(path, depth + 1)
                continue
            fd = os.open(os.path.join(folder, path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                st = os.fstat(fd)
                if (not stat.S_ISREG(st.st_mode) or total + st.st_size > MAX_STUDENT_BYTES
                        or len(out) >= MAX_STUDENT_FILES):
                    continue
                with os.fdopen(os.dup(fd), "rb") as f:
                    data = f.read(MAX_STUDENT_BYTES - total + 1)
                total += len(data)
                out.append((path, data))
            finally:
                os.close(fd)

    walk("", 0)
    return out


def write_student_files(files: list[tuple[str, bytes]], src: str, work: str, uid: int | None) -> None:
    os.makedirs(src, 0o755, exist_ok=True)
    os.makedirs(work, 0o700, exist_ok=True)
    for rel, data in files:
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o444)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    for root, dirs, _files in os.walk(src):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o555)
    os.chmod(src, 0o555)
    if uid is not None:
        os.chown(work, uid, uid)
    os.chmod(work, 0o700)


class Zygote:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.limits = limits.Limits(**cfg["limits"])
        self.slots: dict[int, int | None] = {}  # supervisor pid -> the worker uid it holds
        self.seq = 0
        self.runtime = runtime_paths(cfg["project_roots"])
        self.baseline_vm = limits.vm_size()
        self.cgroup_run, self.cgroup_dirs, self.cgroup_failed = cgroups.start_run(cfg["cgroups"], os.getpid())
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(cfg["socket"])
        os.chmod(cfg["socket"], 0o600)
        self.listener.listen(64)

    def reap(self) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.slots.pop(pid, None)

    def serve(self) -> None:
        sys.stdout.write(json.dumps({"ready": True, "pid": os.getpid(), "baseline_vm": self.baseline_vm,
                                     "runtime": self.runtime, "cgroup_dirs": self.cgroup_dirs,
                                     "cgroup_failed": self.cgroup_failed}) + "\n")
        sys.stdout.flush()
        stdin = sys.stdin.fileno()
        while True:
            ready, _, _ = select.select([self.listener, stdin], [], [], 0.5)
            self.reap()
            if stdin in ready and not os.read(stdin, 4096):
                return  # the grader went away (or closed us)
            if self.listener in ready:
                conn, _ = self.listener.accept()
                try:
                    self.spawn(conn)
                except Exception:  # noqa: BLE001 - one bad request must not stop the zygote
                    traceback.print_exc()
                finally:
                    conn.close()

    def spawn(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        request = wire.recv(conn, 1 << 16)
        conn.settimeout(None)
        uid, lock = None, -1
        if self.cfg["try_uid"]:  # machine-wide: the supervisor holds the claim until its worker is gone
            held = {u for u in self.slots.values() if u is not None}
            subs = self.cfg.get("sub_ids")
            try:
                if subs:  # rootless: a subordinate uid of this user's range
                    uid, lock = uids.claim(held, base=subs[0], slots=min(subs[2], uids.UID_SLOTS),
                                           lock_dir=self.cfg["uid_locks"])
                else:
                    uid, lock = uids.claim(held, lock_dir=self.cfg["uid_locks"])
            except OSError as exc:
                self._refuse(conn, f"no worker uid: {exc}")
                return
        self.seq += 1
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except BaseException:
            if lock >= 0:
                os.close(lock)
            raise
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, _terminate)
                _sys.prctl(_sys.PR_SET_CHILD_SUBREAPER, 0)
                _sys.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGKILL)
                self.listener.close()
                code = self.supervise(conn, request, uid)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
            finally:
                os._exit(code)
        if lock >= 0:
            os.close(lock)  # the supervisor's copy keeps the uid claimed
        self.slots[pid] = uid

    def supervise(self, conn: socket.socket, request: dict[str, Any], uid: int | None) -> int:
        cfg = self.cfg
        t0 = time.perf_counter()
        try:
            files = read_student_files(str(request["student_dir"]))
        except OSError as exc:
            files = []
            error = f"cannot read the submission: {exc.strerror}"
        else:
            error = None
        cg = self.cgroup_run.worker(f"w{self.seq}", self.limits) if self.cgroup_run is not None else None
        applied = ["process"] + (cg.applied if cg else [])
        failed = dict(cg.failed) if cg else {}
        subs = cfg.get("sub_ids")
        sub_ids = (uid, subs[1] + uid - subs[0]) if subs and uid is not None else None
        worker_uid = namespaces.worker_id_inside(os.geteuid()) if sub_ids else uid  # as the worker sees it
        ns_applied, ns_failed = namespaces.unshare_all(tuple(cfg["namespaces"]), user=cfg["userns"], sub_ids=sub_ids)
        applied += ns_applied
        failed.update(ns_failed)
        if "mntns" in ns_applied:
            try:
                namespaces.build_view(self.runtime, max(64 << 20, 4 * self.limits.file_bytes))
                src, work = namespaces.SRC, namespaces.WORK
            except OSError as exc:
                applied.remove("mntns")
                failed["mntns"] = str(exc)
                return self._refuse(conn, f"cannot build the worker's file system view: {exc}")
        else:
            base = os.path.join(cfg["fallback_dir"], f"w{self.seq}")
            src, work = os.path.join(base, "src"), os.path.join(base, "work")
            os.makedirs(base, 0o755)
        write_student_files(files, src, work, worker_uid)
        ctx = {"applied": applied, "failed": failed, "limits": cfg["limits"],
               "baseline_vm": self.baseline_vm,
               "runtime": self.runtime, "src": src, "work": work, "uid": worker_uid, "required": list(request.get("required", [])),
               "try_landlock": cfg["try_landlock"], "try_seccomp": cfg["try_seccomp"]}
        parent_chan, child_chan = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                conn.close()
                parent_chan.close()
                os.close(out_r)
                worker.run(ctx, child_chan.detach(), out_w, cg)
            finally:
                os._exit(72)
        child_chan.close()
        os.close(out_w)
        if cg is not None:
            cg.close_fds()
        pidfd = os.pidfd_open(pid)
        _STATE["pidfd"] = pidfd
        if _STATE["terminate"]:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        meta = {"pid": pid, "uid": uid, "error": error, "spawn_ms": (time.perf_counter() - t0) * 1000}
        socket.send_fds(conn, [wire.pack(meta)], [parent_chan.fileno(), out_r, pidfd])
        parent_chan.close()
        os.close(out_r)
        status = self._watch(conn, pid, pidfd)
        oom = bool(cg is not None and status is not None and os.WIFSIGNALED(status) and cg.oom_killed())
        if cg is not None:
            cg.remove()
        if "mntns" not in ns_applied:
            import shutil

            shutil.rmtree(os.path.dirname(src), ignore_errors=True)
        try:
            wire.send(conn, {"status": status, "oom": oom})
        except OSError:
            pass
        return 0

    @staticmethod
    def _refuse(conn: socket.socket, why: str) -> int:
        try:
            socket.send_fds(conn, [wire.pack({"error": why, "fatal": True})], [])
        except OSError:
            pass
        return 1

    @staticmethod
    def _watch(conn: socket.socket, pid: int, pidfd: int) -> int | None:
        """Wait for the worker's end; kill it when the client hangs up. Returns its wait status."""
        while True:
            ready, _, _ = select.select([conn, pidfd], [], [])
            if pidfd in ready:
                break
            if conn in ready:
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                    break
        _, status = os.waitpid(pid, 0)
        return status


_STATE: dict[str, Any] = {"pidfd": None, "terminate": False}


def _terminate(*_: Any) -> None:
    """SIGTERM in a supervisor (the zygote is shutting down): kill the worker; _watch then cleans up."""
    _STATE["terminate"] = True
    if _STATE["pidfd"] is not None:
        try:
            signal.pidfd_send_signal(_STATE["pidfd"], signal.SIGKILL)
        except OSError:
            pass


def main() -> None:
    _sys.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGTERM)
    _sys.prctl(_sys.PR_SET_CHILD_SUBREAPER, 1)  # orphaned workers come back here to be reaped
    cfg = json.loads(sys.stdin.readline())
    for root in cfg["project_roots"]:  # the zygote found its own code there; the worker must not
        while root in sys.path:
            sys.path.remove(root)
    preload()
    zygote = Zygote(cfg)
    import gc

    gc.collect()
    gc.freeze()  # forked children never scan (and so never copy) the preloaded objects
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        zygote.serve()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            for pid in list(zygote.slots):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            deadline = time.monotonic() + wait
            while zygote.slots and time.monotonic() < deadline:
                zygote.reap()
                time.sleep(0.005)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # orphans (a SIGKILLed supervisor's worker) are ours to reap
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.005)
            except ChildProcessError:
                break
        if zygote.cgroup_run is not None:  # the per-run parent; workers' own dirs are gone
            zygote.cgroup_run.remove()


if __name__ == "__main__":
    main()
