"""The cgroup file system: which hierarchy is mounted, writing interface files, killing and removing a
cgroup tree, sweeping what a killed run left. Used by cgroup1.py, cgroup2.py and cgroups.py."""

from __future__ import annotations

import os
import signal
import time
from typing import Protocol

CGROUP_ROOT = "/sys/fs/cgroup"
CONTROLLERS = ("memory", "pids")
REMOVE_DEADLINE = 10.0
RLIMIT_ONLY = "memory is limited by address space (RLIMIT_AS) only"


def detect(root: str = CGROUP_ROOT) -> str:
    """"v2", "v1" or "none": which cgroup hierarchy holds the memory and pids controllers here."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return "v2"
    if any(os.path.exists(os.path.join(root, c, "cgroup.procs")) for c in CONTROLLERS):
        return "v1"
    return "none"


class WorkerCgroup(Protocol):
    """One worker's cgroup(s): made by its supervisor, joined by the worker, removed at the end."""

    failed: dict[str, str]

    @property
    def applied(self) -> list[str]: ...
    def join(self) -> None: ...
    def close_fds(self) -> None: ...
    def oom_killed(self) -> bool: ...
    def remove(self) -> None: ...




def write(path: str, name: str, value: object) -> None:
    with open(os.path.join(path, name), "w") as f:
        f.write(str(value))


def mkdir(path: str) -> None:
    os.mkdir(path, 0o755)  # on cgroupfs the kernel fills it with the interface files


def _rmdir(path: str) -> None:
    os.rmdir(path)  # on cgroupfs this also removes the interface files; EBUSY while processes are left


def remove(path: str, deadline: float | None = None) -> None:
    """Kill whatever is left in a cgroup tree (cgroup.kill on v2, SIGKILL per pid on v1), then remove it.

    Returns once the directory is gone: rmdir succeeds only when no process is left in it, so a
    caller that returns after this knows the worker's processes are dead. `deadline` only bounds a
    kernel that never lets go (then the directory is left and the next run sweeps it).
    """
    if not os.path.isdir(path):
        return
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            remove(entry.path, deadline)
    if deadline is None:
        deadline = REMOVE_DEADLINE
    end = time.monotonic() + deadline
    kill_file = os.path.join(path, "cgroup.kill")
    while True:
        if os.path.exists(kill_file):
            try:
                write(path, "cgroup.kill", 1)
            except OSError:
                pass
        else:
            for pid in _pids(path):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            _rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > end:
                return
            time.sleep(0.005)


def _pids(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def sweep_stale(parents: list[str]) -> None:
    """Remove `autograder-<pid>` cgroups left by a zygote that was killed (SIGKILL allows no clean-up)."""
    for parent in parents:
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith("autograder-") and name[11:].isdigit() and entry.is_dir(follow_symlinks=False)):
                continue
            if os.path.exists(f"/proc/{name[11:]}"):
                continue  # that zygote is alive (another grader run)
            remove(entry.path)
