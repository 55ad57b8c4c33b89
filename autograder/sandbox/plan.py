"""What the sandbox tries on this machine, decided once by the grader before the zygote starts.

Two modes, chosen by the effective uid; the worker then reports what it actually managed (the probe):

- root: network, mount, pid, IPC and UTS namespaces; a uid of its own per worker, claimed
  machine-wide (uids.py); cgroups (v1, or a v2 subtree).
- not root (rootless): a user namespace first, mapping the invoking user onto itself, then the same
  five namespaces inside it; the worker keeps no capabilities ("userns"). Where /etc/subuid and
  /etc/subgid grant the user a range and newuidmap/newgidmap exist, each worker also gets a
  subordinate uid of its own ("uid", claimed like root's); otherwise every worker runs as the
  invoking user, each in its own namespaces with private dirs, and the probe line says so.
  cgroups only from a delegated v2 subtree.

Landlock, no_new_privs, seccomp and rlimits are the same in both.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass, field
from typing import Any, Callable

from . import cgroup2
from .cgroupfs import CGROUP_ROOT, CONTROLLERS, RLIMIT_ONLY, detect

NAMESPACES = ("netns", "mntns", "pidns", "ipcns", "utsns")


@dataclass(frozen=True)
class Plan:
    root: bool
    userns: bool  # rootless: a user namespace comes first
    namespaces: tuple[str, ...]
    per_worker_uid: bool
    cgroups: dict[str, Any]  # {"version", "controllers", "why"} for cgroups.start_run
    sub_ids: tuple[int, int, int] | None = None  # rootless per-worker ids: (first uid, first gid, count)
    uid_locks: str = "/run/autograder-uids"  # where worker uids are claimed (uids.py)
    launcher: tuple[str, ...] = ()  # a command prefix for the zygote (a systemd scope for cgroup v2)
    not_tried: dict[str, str] = field(default_factory=dict)  # protection -> why it is not tried

    def zygote_config(self) -> dict[str, Any]:
        return {"userns": self.userns, "namespaces": list(self.namespaces), "try_uid": self.per_worker_uid,
                "cgroups": dict(self.cgroups), "sub_ids": self.sub_ids, "uid_locks": self.uid_locks}


def subordinate_range(uid: int, path: str) -> tuple[int, int] | None:
    """(first, count) of the ids /etc/subuid (or /etc/subgid) grants this user, by name or number."""
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    try:
        with open(path) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[0] in (name, str(uid)) and fields[1].isdigit() and fields[2].isdigit():
                    return int(fields[1]), int(fields[2])
    except OSError:
        pass
    return None


def subuid_note(uid: int, subuid: str = "/etc/subuid", subgid: str = "/etc/subgid",
                which: Callable[[str], str | None] = shutil.which) -> str:
    """Why every worker shares the invoking user's uid here (naming what per-worker uids need)."""
    lacking = [what for what, ok in (("a range in /etc/subuid", subordinate_range(uid, subuid)),
                                     ("a range in /etc/subgid", subordinate_range(uid, subgid)),
                                     ("newuidmap", which("newuidmap")), ("newgidmap", which("newgidmap"))) if not ok]
    return ("not root: every worker runs as the invoking user, without capabilities, in its own user, pid and "
            "mount namespaces with private dirs (a uid per worker needs " + ", ".join(lacking) + ")")


def sub_ids(uid: int, gid: int, subuid: str = "/etc/subuid", subgid: str = "/etc/subgid",
            which: Callable[[str], str | None] = shutil.which) -> tuple[int, int, int] | None:
    """(first subordinate uid, first subordinate gid, how many) when per-worker uids are possible."""
    u, g = subordinate_range(uid, subuid), subordinate_range(uid, subgid)
    if u is None or g is None or not which("newuidmap") or not which("newgidmap"):
        return None
    return u[0], g[0], min(u[1], g[1])


def _v2_plan(root: bool, cgroup_root: str, which: Callable[[str], str | None]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """cgroup v2: use the grader's own cgroup if it is delegated, else a systemd scope if systemd-run exists."""
    try:
        own = cgroup2.own_cgroup()
        here = os.path.join(cgroup_root, own.lstrip("/"))
        with open(os.path.join(here, "cgroup.subtree_control")) as f:
            ready = set(CONTROLLERS) <= set(f.read().split()) and os.access(here, os.W_OK)
    except OSError:
        ready = False
    if not ready and root:
        try:
            with open(os.path.join(cgroup_root, "cgroup.subtree_control")) as f:
                ready = set(CONTROLLERS) <= set(f.read().split())
        except OSError:
            pass
    launcher: tuple[str, ...] = ()
    if not ready and which("systemd-run"):
        launcher = ("systemd-run",) + (() if root else ("--user",)) + ("--scope", "-p", "Delegate=yes", "--quiet",
                                                                       "--collect")
    return {"version": "v2", "controllers": list(CONTROLLERS), "why": None}, launcher


def make(skip: tuple[str, ...] = (), *, euid: int | None = None, cgroup_root: str = CGROUP_ROOT,
         which: Callable[[str], str | None] = shutil.which) -> Plan:
    """The plan for this machine and user; `skip` (tests only) names protections not to try."""
    root = (os.geteuid() if euid is None else euid) == 0
    not_tried = {name: "skipped" for name in skip}
    namespaces = tuple(n for n in NAMESPACES if n not in skip)
    userns = not root and "userns" not in skip
    if not root and not userns:
        not_tried.update({n: "not root and no user namespace" for n in namespaces})
        namespaces = ()
    subs = None
    locks = "/run/autograder-uids" if os.access("/run", os.W_OK) else "/tmp/autograder-uids-0"
    if not root:
        me = os.geteuid() if euid is None else euid
        subs = sub_ids(me, os.getegid(), which=which) if userns and "uid" not in skip else None
        if subs is None:
            not_tried.setdefault("uid", subuid_note(me, which=which))
        locks = os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"autograder-uids-{me}")
    else:
        not_tried.setdefault("userns", "root: a uid per worker instead")
    version = detect(cgroup_root)
    wanted = [c for c in CONTROLLERS if f"cgroup_{c}" not in skip]
    launcher: tuple[str, ...] = ()
    if version == "v1" and root:
        controllers = [c for c in wanted if os.path.exists(os.path.join(cgroup_root, c, "cgroup.procs"))]
        cg: dict[str, Any] = {"version": "v1", "controllers": controllers, "why": "no cgroup v1 controller mounted"}
    elif version == "v1":
        cg = {"version": "v1", "controllers": [], "why": "cgroup v1 needs root"}
    elif version == "v2" and wanted:
        cg, launcher = _v2_plan(root, cgroup_root, which)
        cg["controllers"] = wanted
    else:
        cg = {"version": version, "controllers": [], "why": "no cgroup controller mounted"}
    for c in CONTROLLERS:
        if c not in cg["controllers"] and f"cgroup_{c}" not in skip:
            not_tried[f"cgroup_{c}"] = cg["why"] + (f"; {RLIMIT_ONLY}" if c == "memory" else "")
    return Plan(root=root, userns=userns, namespaces=namespaces,
                per_worker_uid=(root and "uid" not in skip) or subs is not None, cgroups=cg, sub_ids=subs,
                uid_locks=locks, launcher=launcher, not_tried=not_tried)
