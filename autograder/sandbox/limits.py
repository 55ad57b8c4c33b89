"""Per-process limits: rlimits, the worker uid (as root), and dropping every capability (without root).

The cgroup limits are in cgroups.py (v1 and v2)."""

from __future__ import annotations

import errno
import os
import resource
from dataclasses import dataclass

from . import _sys



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


def address_space_limit(limits: Limits, baseline_vm: int, cgroup_memory: bool) -> int:
    """RLIMIT_AS for a worker: the zygote's address space plus the memory limit.

    Where a memory cgroup holds the worker, the cgroup is the limit (it counts what is resident) and
    RLIMIT_AS is only the backstop against huge reservations, with half the limit again as headroom:
    otherwise memory touched bit by bit reaches whichever limit comes first by a few pages of
    allocator overhead, and the student reads a different reason from one run to the next.
    """
    return baseline_vm + limits.memory_bytes + (limits.memory_bytes // 2 if cgroup_memory else 0)


def apply_rlimits(limits: Limits, baseline_vm: int, cgroup_memory: bool = False) -> None:
    def lim(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    lim(resource.RLIMIT_AS, address_space_limit(limits, baseline_vm, cgroup_memory))
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


def drop_capabilities() -> None:
    """Drop every capability for good: the bounding and ambient sets, then effective/permitted/inheritable.

    In a user namespace the creator holds all capabilities *there*; student code must hold none.
    """
    for cap in range(64):
        try:
            _sys.prctl(_sys.PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                break  # past the kernel's last capability
            raise
    _sys.prctl(_sys.PR_CAP_AMBIENT, _sys.PR_CAP_AMBIENT_CLEAR_ALL)
    _sys.capset_none()
    with open("/proc/self/status") as f:
        left = {k: v.strip() for k, v in (line.split(":", 1) for line in f if line.startswith("Cap"))}
    if any(int(v, 16) for v in left.values()):
        raise OSError(f"capabilities left after dropping them: {left}")
