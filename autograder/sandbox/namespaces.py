"""Namespaces and the worker's mount view.

The supervisor unshares network, mount, pid, IPC and UTS namespaces (the worker it forks next is pid 1
of the new pid namespace). Without root it first enters a new user namespace that maps only the
invoking user onto itself (`uid uid 1`, setgroups denied): inside it the supervisor holds the
capabilities the other namespaces and the mounts need, outside it nothing changes; the worker drops
every capability before student code runs (limits.drop_capabilities). In the new mount namespace every top-level directory that is not part of
the system (/usr, /lib*, /etc, /dev, /proc, /sys) is covered by an empty tmpfs, and the Python runtime
directories are bind-mounted back read-only: this hides the project, the solutions, the tests, other
students' folders and the grader's output even without Landlock, and it makes a runtime below a
mode-0700 directory (/root/.pyenv) reachable for the unprivileged worker uid. /tmp is a fresh private
tmpfs holding the student's files (src/, read-only) and the worker's work dir (work/, its cwd).
"""

from __future__ import annotations

import os
import subprocess

from . import _sys

NAMESPACES = {
    "netns": _sys.CLONE_NEWNET,
    "mntns": _sys.CLONE_NEWNS,
    "pidns": _sys.CLONE_NEWPID,
    "ipcns": _sys.CLONE_NEWIPC,
    "utsns": _sys.CLONE_NEWUTS,
}
SYSTEM_DIRS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "dev", "proc", "sys"}
ROOT = "/tmp"  # inside the worker's mount namespace
SRC = "/tmp/src"
WORK = "/tmp/work"


def worker_id_inside(uid: int) -> int:
    """The id a worker with a subordinate uid has inside its user namespace (any id but the user's)."""
    return 1000 if uid != 1000 else 1001


def enter_user_namespace(sub_ids: tuple[int, int] | None = None) -> None:
    """Unshare a user namespace that maps the invoking user (and group) onto itself.

    With `sub_ids` (a subordinate uid and gid granted in /etc/subuid and /etc/subgid) it also maps
    worker_id_inside(uid) onto them, which only the setuid helpers newuidmap/newgidmap may write:
    they run in a child forked before the unshare, since from inside the namespace they would not
    be privileged.
    """
    uid, gid = os.geteuid(), os.getegid()
    if sub_ids is None:
        _sys.unshare(_sys.CLONE_NEWUSER)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1\n"), ("gid_map", f"{gid} {gid} 1\n")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
        return
    inside = worker_id_inside(uid)
    go_r, go_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.close(go_w)
            if os.read(go_r, 1) == b"1":
                target = str(os.getppid())
                done = [subprocess.run([tool, target, str(own), str(own), "1", str(inside), str(sub), "1"],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL).returncode
                        for tool, own, sub in (("newuidmap", uid, sub_ids[0]), ("newgidmap", gid, sub_ids[1]))]
                code = 0 if done == [0, 0] else 1
        finally:
            os._exit(code)
    os.close(go_r)
    try:
        _sys.unshare(_sys.CLONE_NEWUSER)
    except OSError:
        os.close(go_w)
        os.waitpid(helper, 0)
        raise
    os.write(go_w, b"1")
    os.close(go_w)
    _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(f"newuidmap/newgidmap could not map the worker's subordinate ids {sub_ids}")


def unshare_all(wanted: tuple[str, ...], user: bool = False,
                sub_ids: tuple[int, int] | None = None) -> tuple[list[str], dict[str, str]]:
    """Unshare the wanted namespaces, all at once if possible, else one by one. (applied, failed).

    With `user` (no root) a user namespace comes first; if it cannot be made none of the others can.
    """
    if user:
        try:
            enter_user_namespace(sub_ids)
        except OSError as exc:
            why = (f"no user namespace ({exc.strerror}): unprivileged user namespaces are disabled here"
                   if exc.strerror else f"no user namespace: {exc}")
            return [], {name: why for name in ("userns",) + tuple(wanted)}
    applied: list[str] = ["userns"] if user else []
    failed: dict[str, str] = {}
    flags = 0
    for name in wanted:
        flags |= NAMESPACES[name]
    try:
        _sys.unshare(flags)
        return applied + list(wanted), failed
    except OSError:
        pass
    for name in wanted:
        try:
            _sys.unshare(NAMESPACES[name])
            applied.append(name)
        except OSError as exc:
            failed[name] = str(exc)
    return applied, failed


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths that lie below another path of the list."""
    out: list[str] = []
    for p in sorted(set(os.path.realpath(p) for p in paths), key=len):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def build_view(keep: list[str], tmp_size: int) -> None:
    """In a fresh mount namespace (as root): hide non-system top-level dirs, keep `keep`, new /tmp."""
    _sys.mount(None, "/", None, _sys.MS_REC | _sys.MS_PRIVATE)
    keep = [p for p in _minimal(keep) if os.path.isdir(p)]
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for p in keep}
    locked = {p: _locked_flags(p) for p in keep}  # read now: the paths are hidden below
    try:
        hidden = []
        for entry in os.scandir("/"):
            if entry.name in SYSTEM_DIRS or entry.is_symlink():
                continue
            if entry.is_file(follow_symlinks=False):  # a stray top-level file: show an empty one
                _sys.mount("/dev/null", entry.path, None, _sys.MS_BIND)
                continue
            if not entry.is_dir(follow_symlinks=False):
                continue
            path = "/" + entry.name
            if path in keep:
                continue  # the runtime itself is a top-level dir
            opts = "mode=0755,size=16m" if path != ROOT else f"mode=0755,size={tmp_size}"
            _sys.mount("tmpfs", path, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, opts)
            hidden.append(path)
        if ROOT not in hidden:
            _sys.mount("tmpfs", ROOT, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, f"mode=0755,size={tmp_size}")
        for path, fd in fds.items():
            if not any(path.startswith(h + "/") for h in hidden):
                continue
            os.makedirs(path, 0o755, exist_ok=True)
            _sys.mount(f"/proc/self/fd/{fd}", path, None, _sys.MS_BIND | _sys.MS_REC)
            _sys.mount(None, path, None, _sys.MS_BIND | _sys.MS_REMOUNT | _sys.MS_RDONLY | _sys.MS_NOSUID | locked[path])
        for shm in ("/dev/shm", "/dev/mqueue"):
            if os.path.isdir(shm):
                _sys.mount("tmpfs", shm, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC, "mode=0755,size=1m")
    finally:
        for fd in fds.values():
            os.close(fd)


_STATVFS_TO_MS = ((os.ST_NODEV, _sys.MS_NODEV), (os.ST_NOEXEC, _sys.MS_NOEXEC), (os.ST_NOATIME, _sys.MS_NOATIME),
                  (os.ST_NODIRATIME, _sys.MS_NODIRATIME), (os.ST_RELATIME, _sys.MS_RELATIME))


def _locked_flags(path: str) -> int:
    """The mount flags of `path` a read-only remount must keep (in a user namespace they are locked)."""
    have = os.statvfs(path).f_flag
    return sum(ms for st, ms in _STATVFS_TO_MS if have & st)


def mount_proc() -> None:
    """In the new pid namespace (the worker, still root): a /proc that shows only its own processes."""
    _sys.mount("proc", "/proc", "proc", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC)
