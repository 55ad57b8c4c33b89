"""Names of the protections, what safe mode requires, and the one-line description."""

from __future__ import annotations

ALL = ("process", "userns", "netns", "mntns", "pidns", "ipcns", "utsns", "uid", "no_new_privs", "landlock",
       "seccomp", "rlimits", "cgroup_memory", "cgroup_pids")

# each requirement is satisfied by any one of its alternatives
REQUIRED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a separate process", ("process",)),
    # root: a uid of its own; rootless: the invoking (unprivileged) user, no capabilities, own user namespace
    ("an unprivileged uid", ("uid", "userns")),
    ("resource limits", ("rlimits",)),
    ("network isolation", ("netns", "seccomp")),
    ("file isolation", ("landlock", "mntns")),
    ("process containment", ("pidns", "cgroup_pids")),
)


def missing(active: tuple[str, ...]) -> list[str]:
    return [f"{what} ({' or '.join(alts)})" for what, alts in REQUIRED if not any(a in active for a in alts)]


def describe(active: tuple[str, ...], failed: dict[str, str], unsafe: bool) -> str:
    line = "sandbox: " + (", ".join(active) or "none")
    # as root a uid per worker stands in for the rootless user namespace: not worth a line
    off = [f"{name} ({failed.get(name, 'not tried')})" for name in ALL
           if name not in active and not (name == "userns" and "uid" in active)]
    if off:
        line += "; unavailable: " + ", ".join(off)
    if unsafe and missing(active):
        line += "; UNSAFE MODE: student code is not fully isolated"
    return line
