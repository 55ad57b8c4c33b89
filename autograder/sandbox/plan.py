"""What the sandbox tries on this machine, decided once by the grader before the zygote starts.

Two modes, chosen by the effective uid; the worker then reports what it actually managed (the probe):

- root: network, mount, pid, IPC and UTS namespaces; a uid of its own per worker, claimed
  machine-wide (uids.py); cgroups (v1, or a v2 subtree).
- not root (rootless): a user namespace first, mapping only the invoking user, then the same five
  namespaces inside it; every worker runs as the invoking user with no capabilities ("userns"), each
  in its own namespaces with private dirs (per-worker uids would need /etc/subuid and newuidmap,
  which this version does not use: the probe line says so); cgroups only from a delegated v2 subtree.

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
    launcher: tuple[str, ...] = ()  # a command prefix for the zygote (a systemd scope for cgroup v2)
    not_tried: dict[str, str] = field(default_factory=dict)  # protection -> why it is not tried

    def zygote_config(self) -> dict[str, Any]:
        return {"userns": self.userns, "namespaces": list(self.namespaces), "try_uid": self.per_worker_uid,
                "cgroups": dict(self.cgroups)}


def subuid_note(uid: int, subuid: str = "/etc/subuid", which: Callable[[str], str | None] = shutil.which) -> str:
    """Why every worker shares the invoking user's uid here (naming what per-worker uids would need)."""
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    granted = False
    try:
        with open(subuid) as f:
            granted = any(line.split(":")[0] in (name, str(uid)) for line in f if line.count(":") == 2)
    except OSError:
        pass
    have = (["a range in /etc/subuid"] if granted else []) + (["newuidmap"] if which("newuidmap") else [])
    return ("not root: every worker runs as the invoking user, without capabilities, in its own user, pid and "
            "mount namespaces with private dirs" + (f" (this machine has {' and '.join(have)}; per-worker "
                                                     "subordinate uids are not used yet)" if have else ""))


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
    if not root:
        not_tried.setdefault("uid", subuid_note(os.geteuid() if euid is None else euid, which=which))
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
    return Plan(root=root, userns=userns, namespaces=namespaces, per_worker_uid=root and "uid" not in skip,
                cgroups=cg, launcher=launcher, not_tried=not_tried)
