"""Cgroup memory and pids limits per worker, on cgroup v1 (cgroup1.py) or v2 (cgroup2.py), or none at all.

`detect` names the hierarchy the machine mounts: "v2" when /sys/fs/cgroup itself is cgroup2 (the
unified layout of current distributions and container hosts), "v1" when v1 memory or pids
controllers are mounted (a hybrid layout's extra cgroup2 mount, which holds no such controller,
counts as v1), "none" otherwise. v1 needs root (it has no safe delegation); v2 needs a delegated
subtree (cgroup2.py says which). Where neither can be had the worker's memory is bounded by its
address space (RLIMIT_AS) only and its processes by RLIMIT_NPROC and the pid namespace.

The zygote makes one *run* cgroup (`autograder-<zygote pid>`), each supervisor one cgroup per worker
below it, which the worker joins first thing; an out-of-memory kill is read back from the cgroup so
the student is told `memory`, not `crash`.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from . import cgroup1, cgroup2
from .cgroupfs import CGROUP_ROOT, RLIMIT_ONLY, WorkerCgroup, sweep_stale
from .limits import Limits


class Run(Protocol):
    def worker(self, name: str, limits: Limits) -> WorkerCgroup: ...
    def remove(self) -> None: ...


def start_run(plan: dict[str, Any], pid: int, *, root: str = CGROUP_ROOT) -> tuple[Run | None, list[str], dict[str, str]]:
    """The zygote's run cgroup per the grader's plan: (run or None, its directories, why controllers are missing).

    plan = {"version": "v1"|"v2"|"none", "controllers": [...], "why": reason when none are wanted}.
    """
    name = f"autograder-{pid}"
    wanted = tuple(plan.get("controllers", ()))
    failed: dict[str, str] = {}  # controllers the plan did not want are explained by the plan
    run: Run | None = None
    dirs: list[str] = []
    if plan.get("version") == "v1" and wanted:
        sweep_stale([os.path.join(root, c) for c in wanted])
        run = cgroup1.V1Run(root, name, wanted)
        dirs = list(run.dirs.values())
    elif plan.get("version") == "v2" and wanted:
        try:
            parent = cgroup2.find_parent(root, cgroup2.own_cgroup(), pid=pid, root=os.geteuid() == 0, wanted=wanted)
            sweep_stale([parent])
            run = cgroup2.V2Run(parent, name, wanted)
            dirs = [run.dir]
            for c in wanted:
                if c not in run.controllers:
                    failed[f"cgroup_{c}"] = f"cgroup v2: the {c} controller could not be enabled; {RLIMIT_ONLY}"
        except OSError as exc:
            why = f"cgroup v2: {exc}"
            failed.update({f"cgroup_{c}": (f"{why}; {RLIMIT_ONLY}" if c == "memory" else why) for c in wanted})
            run = None
    return run, dirs, failed
