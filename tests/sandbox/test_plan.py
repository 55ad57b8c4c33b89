"""The plan: what the sandbox tries as root and without root, on cgroup v1, v2 and none, and what
the probe line says about what it does not apply."""

from __future__ import annotations

from pathlib import Path

from autograder.sandbox import plan, protections

ROOTLESS = ("process", "userns", "netns", "mntns", "pidns", "ipcns", "utsns", "no_new_privs", "landlock", "seccomp",
            "rlimits")


def _tree(tmp_path: Path, kind: str) -> str:
    root = tmp_path / kind
    root.mkdir()
    if kind == "v1":
        for c in ("memory", "pids"):
            (root / c).mkdir()
            (root / c / "cgroup.procs").write_text("")
    elif kind == "v2":
        (root / "cgroup.controllers").write_text("cpu memory pids")
        (root / "cgroup.subtree_control").write_text("")
    return str(root)


def test_root_keeps_its_mode_per_worker_uids_and_v1_cgroups(tmp_path: Path) -> None:
    p = plan.make(euid=0, cgroup_root=_tree(tmp_path, "v1"))
    assert p.root and not p.userns and p.per_worker_uid
    assert p.namespaces == plan.NAMESPACES
    assert p.cgroups["version"] == "v1" and p.cgroups["controllers"] == ["memory", "pids"]
    assert "uid" not in p.not_tried and not p.launcher


def test_without_root_a_user_namespace_comes_first_and_the_shared_uid_is_said(tmp_path: Path) -> None:
    p = plan.make(euid=1000, cgroup_root=_tree(tmp_path, "v1"), which=lambda _: None)
    assert not p.root and p.userns and not p.per_worker_uid
    assert p.namespaces == plan.NAMESPACES
    assert "every worker runs as the invoking user" in p.not_tried["uid"]
    assert p.cgroups["controllers"] == [] and "cgroup v1 needs root" in p.not_tried["cgroup_pids"]
    assert "RLIMIT_AS" in p.not_tried["cgroup_memory"]
    assert protections.missing(ROOTLESS) == []  # grading without --unsafe is allowed in this mode
    assert protections.missing(tuple(x for x in ROOTLESS if x != "userns")) == ["an unprivileged uid (uid or userns)"]


def test_cgroup_v2_without_a_delegated_subtree_asks_systemd_for_a_scope(tmp_path: Path) -> None:
    v2 = _tree(tmp_path, "v2")
    p = plan.make(euid=1000, cgroup_root=v2, which=lambda name: f"/usr/bin/{name}")
    assert p.cgroups == {"version": "v2", "controllers": ["memory", "pids"], "why": None}
    assert p.launcher[:3] == ("systemd-run", "--user", "--scope") and "Delegate=yes" in p.launcher
    bare = plan.make(euid=1000, cgroup_root=v2, which=lambda _: None)
    assert bare.launcher == () and bare.cgroups["controllers"] == ["memory", "pids"]  # the zygote still tries


def test_no_cgroups_at_all_says_memory_is_bounded_by_address_space_only(tmp_path: Path) -> None:
    p = plan.make(euid=0, cgroup_root=_tree(tmp_path, "none"))
    assert p.cgroups["controllers"] == []
    assert "RLIMIT_AS" in p.not_tried["cgroup_memory"] and "RLIMIT_AS" not in p.not_tried["cgroup_pids"]


def test_skips_are_honoured(tmp_path: Path) -> None:
    p = plan.make(("userns", "cgroup_memory"), euid=1000, cgroup_root=_tree(tmp_path, "v2"), which=lambda _: None)
    assert not p.userns and p.namespaces == () and p.not_tried["userns"] == "skipped"
    assert p.cgroups["controllers"] == ["pids"] and p.not_tried["cgroup_memory"] == "skipped"


def test_per_worker_uids_without_root_need_both_ranges_and_both_helpers(tmp_path: Path) -> None:
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("someone:100000:65536\n")
    subgid.write_text("root:200000:1000\n")
    have = lambda name: f"/usr/bin/{name}"  # noqa: E731
    assert plan.sub_ids(0, 0, str(subuid), str(subgid), which=have) is None  # no uid range for this user
    note = plan.subuid_note(0, str(subuid), str(subgid), which=lambda _: None)
    assert "needs a range in /etc/subuid, newuidmap, newgidmap" in note
    subuid.write_text("someone:1:2\nroot:100000:65536\n")
    assert plan.sub_ids(0, 0, str(subuid), str(subgid), which=have) == (100000, 200000, 1000)
    assert plan.sub_ids(0, 0, str(subuid), str(subgid), which=lambda n: None if n == "newgidmap" else n) is None
