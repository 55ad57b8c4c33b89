"""cgroup v2: a delegated subtree per run, one leaf per worker (memory.max, memory.swap.max, pids.max,
memory.oom.group), `cgroup.kill` to end everything in it, memory.events' oom_kill to report `memory`.

Where the subtree comes from (`find_parent`, first that fits):
  1. the zygote's own cgroup, when memory and pids are already enabled in its cgroup.subtree_control
     (a delegated subtree prepared by its owner);
  2. the zygote's own cgroup, when the zygote is its only process and the controllers are available
     there (a systemd scope made for it, `systemd-run [--user] --scope -p Delegate=yes`, which
     Sandbox.start uses when it finds nothing better): the zygote moves itself into a `zygote` leaf
     (no process may sit beside enabled controllers) and enables them;
  3. as root, the hierarchy's root cgroup when it has them enabled (a host, or a container whose
     cgroup namespace root was prepared so).
Otherwise there is no cgroup limit, and the reason says so.
"""

from __future__ import annotations

import os

from . import cgroupfs
from .cgroupfs import CONTROLLERS, WorkerCgroup, remove, write
from .limits import Limits


class Unavailable(OSError):
    """No cgroup v2 subtree with the memory and pids controllers can be had here."""


def own_cgroup(proc_self_cgroup: str = "/proc/self/cgroup") -> str:
    """This process's v2 cgroup path ("0::/a/b" -> "/a/b")."""
    with open(proc_self_cgroup) as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    raise Unavailable("this process is in no cgroup v2 hierarchy")


def _words(path: str, name: str) -> set[str]:
    try:
        with open(os.path.join(path, name)) as f:
            return {w.lstrip("+") for w in f.read().split()}
    except OSError:
        return set()


def _procs(path: str) -> set[int]:
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return {int(x) for x in f.read().split()}
    except (OSError, ValueError):
        return set()


def find_parent(mount: str, own: str, *, pid: int, root: bool,
                wanted: tuple[str, ...] = CONTROLLERS) -> str:
    """The cgroup directory the run's subtree goes into (see the module docstring); Unavailable if none."""
    need = set(wanted)
    here = os.path.join(mount, own.lstrip("/"))
    writable = os.access(here, os.W_OK) and os.access(os.path.join(here, "cgroup.subtree_control"), os.W_OK)
    if writable and need <= _words(here, "cgroup.subtree_control"):
        return here
    if writable and need <= _words(here, "cgroup.controllers") and _procs(here) == {pid}:
        leaf = os.path.join(here, "zygote")
        if not os.path.isdir(leaf):
            cgroupfs.mkdir(leaf)
        write(leaf, "cgroup.procs", pid)
        try:
            write(here, "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        except OSError as exc:
            raise Unavailable(f"cannot enable {', '.join(wanted)} in {here}: {exc.strerror or exc}") from None
        return here
    if root and need <= _words(mount, "cgroup.subtree_control") and os.access(mount, os.W_OK):
        return mount
    missing = sorted(need - _words(here, "cgroup.controllers"))
    why = (f"controllers {', '.join(missing)} not available in {here}" if missing
           else f"{here} is not delegated to uid {os.geteuid()} with the controllers enabled")
    raise Unavailable(f"no cgroup v2 subtree to use ({why}); run under `systemd-run --user --scope "
                      "-p Delegate=yes` or in a container with a delegated cgroup")


class V2Run:
    """`<parent>/autograder-<zygote pid>` with memory and pids enabled for its worker leaves."""

    def __init__(self, parent: str, name: str, wanted: tuple[str, ...] = CONTROLLERS) -> None:
        self.dir = os.path.join(parent, name)
        remove(self.dir)
        cgroupfs.mkdir(self.dir)
        try:
            if wanted:
                write(self.dir, "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        except OSError:
            remove(self.dir)
            raise
        self.controllers = tuple(c for c in wanted if c in _words(self.dir, "cgroup.subtree_control"))

    def worker(self, name: str, limits: Limits) -> WorkerCgroup:
        return V2Worker(self.dir, name, limits, self.controllers)

    def remove(self) -> None:
        remove(self.dir)


class V2Worker:
    def __init__(self, parent: str, name: str, limits: Limits, controllers: tuple[str, ...]) -> None:
        self.path: str | None = os.path.join(parent, name)
        self.controllers: tuple[str, ...] = ()
        self.failed: dict[str, str] = {}
        self.procs_fd = -1
        try:
            remove(self.path)
            cgroupfs.mkdir(self.path)
            if "memory" in controllers:
                write(self.path, "memory.max", limits.memory_bytes)
                if os.path.exists(os.path.join(self.path, "memory.swap.max")):
                    write(self.path, "memory.swap.max", 0)
                write(self.path, "memory.oom.group", 1)  # an OOM kill takes the worker's whole tree
            if "pids" in controllers:
                write(self.path, "pids.max", limits.processes)
            self.procs_fd = os.open(os.path.join(self.path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
            self.controllers = controllers
        except OSError as exc:
            for c in controllers:
                self.failed[f"cgroup_{c}"] = f"{type(exc).__name__}: {exc.strerror or exc}"
            remove(self.path)
            self.path = None
        for c in CONTROLLERS:
            if c not in controllers:
                self.failed.setdefault(f"cgroup_{c}", f"the {c} controller is not enabled in the run's cgroup")

    @property
    def applied(self) -> list[str]:
        return [f"cgroup_{c}" for c in self.controllers]

    def join(self) -> None:
        """Move the calling process into the worker's cgroup (through the fd its supervisor opened)."""
        if self.procs_fd >= 0:
            os.write(self.procs_fd, b"0")
        self.close_fds()

    def close_fds(self) -> None:
        if self.procs_fd >= 0:
            try:
                os.close(self.procs_fd)
            except OSError:
                pass
        self.procs_fd = -1

    def oom_killed(self) -> bool:
        if self.path is None or "memory" not in self.controllers:
            return False
        try:
            with open(os.path.join(self.path, "memory.events")) as f:
                counts = dict(line.split() for line in f if line.strip())
        except (OSError, ValueError):
            return False
        return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("oom_group_kill", 0)) > 0

    def remove(self) -> None:
        self.close_fds()
        if self.path is not None:
            remove(self.path)
        self.path = None
