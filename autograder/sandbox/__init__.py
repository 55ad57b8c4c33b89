"""Isolation layer: student code runs in sandboxed worker processes, never in the grader's.

    sandbox = Sandbox.start(work_dir=Path(tmp) / "sandbox")     # probes, starts the zygote
    print(sandbox.describe())
    provider = sandbox.provider(student_dir, student_id="alice", time_limit=10)  # also in forked children
    provider.module("backprop").sigmoid(x)                       # one round trip to the worker
    provider.output(); provider.close(); sandbox.close()

Layers: host.py (the grader-side Sandbox: probe, zygote start and stop), plan.py (what to try: root
or rootless, cgroup v1/v2/none), zygote.py (fork server in a fresh interpreter), namespaces.py (incl.
the rootless user namespace), landlock.py, seccomp.py, limits.py (rlimits, uid, capabilities),
uids.py (worker uids unique on the machine), cgroups.py with cgroupfs.py, cgroup1.py and cgroup2.py,
worker.py (self-confinement and the request loop), wire.py (framing), remote.py (RemoteProvider,
RemoteObject), protections.py (names and requirements).

The names below are imported on first use, so that the zygote and the workers, which import
`autograder.sandbox.<layer>`, never load the grader-side host.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "IsolationUnavailable": "host", "Sandbox": "host",
    "Limits": "limits", "RemoteObject": "remote", "RemoteProvider": "remote", "SandboxError": "remote",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
