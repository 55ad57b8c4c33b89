"""cgroup v1 (root only): per-run parents `autograder-<pid>` in the memory and pids hierarchies, one
cgroup per worker in each; memory.oom_control's oom_kill (or memory.failcnt) reports `memory`."""

from __future__ import annotations

import os

from .cgroupfs import WorkerCgroup, remove, write
from .limits import Limits


class V1Run:
    """The per-run parent `autograder-<pid>` in each v1 controller's hierarchy (root only)."""

    def __init__(self, root: str, name: str, controllers: tuple[str, ...]) -> None:
        self.dirs = {c: os.path.join(root, c, name) for c in controllers}

    def worker(self, name: str, limits: Limits) -> WorkerCgroup:
        return V1Worker(self.dirs, name, limits)

    def remove(self) -> None:
        for path in self.dirs.values():
            remove(path)


class V1Worker:
    def __init__(self, parents: dict[str, str], name: str, limits: Limits) -> None:
        self.dirs: dict[str, str] = {}
        self.procs_fds: list[int] = []
        self.failed: dict[str, str] = {}
        for controller, parent in parents.items():
            path = os.path.join(parent, name)
            try:
                os.makedirs(parent, exist_ok=True)
                remove(path)
                os.mkdir(path, 0o700)
                self.dirs[controller] = path
                if controller == "memory":
                    write(path, "memory.limit_in_bytes", limits.memory_bytes)
                    if os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes")):
                        write(path, "memory.memsw.limit_in_bytes", limits.memory_bytes)
                    if os.path.exists(os.path.join(path, "memory.swappiness")):
                        try:
                            write(path, "memory.swappiness", 0)
                        except OSError:
                            pass
                else:
                    write(path, "pids.max", limits.processes)
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


