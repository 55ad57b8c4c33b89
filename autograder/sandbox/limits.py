"""Resource limits: rlimits, cgroup v1 memory/pids controllers, and the unprivileged worker uid."""

from __future__ import annotations

import os
import resource
import signal
import time
from dataclasses import dataclass

CGROUP_ROOT = "/sys/fs/cgroup"
CONTROLLERS = ("memory", "pids")


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 << 30  # per worker
    cpu_seconds: int = 120  # per worker lifetime
    processes: int = 32  # per worker (threads count on Linux)
    file_bytes: int = 16 << 20  # largest file the worker may write
    output_bytes: int = 8192  # stdout+stderr kept per student; the rest is drained and dropped


def vm_size() -> int:
    """This process's virtual memory size in bytes (the baseline that RLIMIT_AS adds to)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def apply_rlimits(limits: Limits, baseline_vm: int) -> None:
    def lim(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    lim(resource.RLIMIT_AS, baseline_vm + limits.memory_bytes)
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    lim(resource.RLIMIT_NPROC, limits.processes)
    lim(resource.RLIMIT_FSIZE, limits.file_bytes)
    lim(resource.RLIMIT_CORE, 0)
    lim(resource.RLIMIT_NOFILE, 256)
    lim(resource.RLIMIT_MSGQUEUE, 0)
    lim(resource.RLIMIT_MEMLOCK, 0)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid or os.getgroups():
        raise OSError("could not drop privileges")


def parent_dir(name: str, controller: str) -> str:
    return os.path.join(CGROUP_ROOT, controller, name)


class Cgroups:
    """One worker's cgroups (created by its supervisor, joined by the worker, removed at the end)."""

    def __init__(self, parent: str, name: str, limits: Limits, controllers: tuple[str, ...]) -> None:
        self.dirs: dict[str, str] = {}
        self.procs_fds: list[int] = []
        self.failed: dict[str, str] = {}
        for controller in controllers:
            path = os.path.join(parent_dir(parent, controller), name)
            try:
                os.makedirs(parent_dir(parent, controller), exist_ok=True)
                remove(path)
                os.mkdir(path, 0o700)
                self.dirs[controller] = path
                if controller == "memory":
                    _write(path, "memory.limit_in_bytes", limits.memory_bytes)
                    if os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes")):
                        _write(path, "memory.memsw.limit_in_bytes", limits.memory_bytes)
                    if os.path.exists(os.path.join(path, "memory.swappiness")):
                        try:
                            _write(path, "memory.swappiness", 0)
                        except OSError:
                            pass
                else:
                    _write(path, "pids.max", limits.processes)
                self.procs_fds.append(os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC))
            except OSError as exc:
                self.failed[f"cgroup_{controller}"] = f"{type(exc).__name__}: {exc.strerror or exc}"
                if controller in self.dirs:
                    remove(self.dirs.pop(controller))

    @property
    def applied(self) -> list[str]:
        return [f"cgroup_{c}" for c in self.dirs]

    def join(self) -> None:
        """Move the calling process into every cgroup (the worker does this first thing)."""
        for fd in self.procs_fds:
            os.write(fd, b"0")
        self.close_fds()

    def close_fds(self) -> None:
        for fd in self.procs_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.procs_fds = []

    def oom_killed(self) -> bool:
        path = self.dirs.get("memory")
        if not path:
            return False
        try:
            with open(os.path.join(path, "memory.oom_control")) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1]) > 0
            with open(os.path.join(path, "memory.failcnt")) as f:
                return int(f.read().strip() or 0) > 0
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        self.close_fds()
        for path in self.dirs.values():
            remove(path)
        self.dirs = {}


def _write(path: str, name: str, value: int) -> None:
    with open(os.path.join(path, name), "w") as f:
        f.write(str(value))


def remove(path: str, deadline: float = 2.0) -> None:
    """Kill whatever is left in a cgroup directory tree and remove it."""
    if not os.path.isdir(path):
        return
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            remove(entry.path, deadline)
    end = time.monotonic() + deadline
    while True:
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > end:
                return
            time.sleep(0.01)


def sweep_stale(root: str = "/sys/fs/cgroup") -> None:
    """Remove `autograder-<pid>` cgroups left by a zygote that was killed (SIGKILL allows no cleanup)."""
    if not os.path.isdir(root):
        return
    for controller in os.scandir(root):
        if not controller.is_dir(follow_symlinks=False):
            continue
        try:
            entries = list(os.scandir(controller.path))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith("autograder-") and name[11:].isdigit() and entry.is_dir(follow_symlinks=False)):
                continue
            if os.path.exists(f"/proc/{name[11:]}"):
                continue  # that zygote is alive (another grader run)
            remove(entry.path)
