"""Rootless isolation: as an ordinary user the grader isolates with a user namespace, the other
namespaces, Landlock and seccomp, without --unsafe, and scores exactly as root does.

Run as root, the tests switch to `nobody` (setpriv) with a throwaway venv that reuses this
environment's packages; run as an ordinary user they use this interpreter directly. They skip, with
the reason, where the kernel forbids unprivileged user namespaces or no such user can run Python.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator

import pytest
import torch

from autograder.grading import GradeOptions, grade
from autograder.course import CourseDir

ROOT = Path(__file__).resolve().parents[2]
USERNS_PROBE = ("import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
                "sys.exit(0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno())")


class AsUser:
    """Runs commands as a non-root user, with a Python that user can read and that imports this project."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        if os.geteuid() != 0:
            self.prefix: list[str] = []
            self.python = sys.executable
            self.uid = os.geteuid()
            return
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to switch to a non-root user")
        try:
            self.uid = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            pytest.skip("there is no user `nobody` to grade as")
        gid = pwd.getpwnam("nobody").pw_gid
        self.prefix = ["setpriv", f"--reuid={self.uid}", f"--regid={gid}", "--clear-groups", "--"]
        os.chown(tmp, self.uid, gid)
        self.python = self._venv()

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.tmp), "TMPDIR": str(self.tmp),
               "LANG": "C.UTF-8", "AUTOGRADER_COURSE": str(ROOT)}
        return subprocess.run([*self.prefix, *args], cwd=str(ROOT), env=env, capture_output=True, text=True,
                              timeout=timeout)

    def _venv(self) -> str:
        """A venv from an interpreter the user can run, whose .pth adds this environment's site-packages."""
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        site_dir = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))
        for base in dict.fromkeys([os.path.realpath(sys.executable), getattr(sys, "_base_executable", ""),
                                   f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]):
            if not base or not os.path.exists(base):
                continue
            # not frozen, and run again from inside: setpriv execs with root's capabilities still in
            # effect, so a first exec can reach an interpreter the user itself cannot start
            probe = self.run(base, "-c", "import json, subprocess, sys; subprocess.run([sys.executable, '-c', "
                             "'import json'], check=True); print('%d.%d' % sys.version_info[:2])")
            if probe.returncode != 0 or probe.stdout.strip() != version:
                continue
            venv = self.tmp / "venv"
            made = self.run(base, "-m", "venv", "--without-pip", str(venv))
            if made.returncode != 0:
                continue
            python = venv / "bin" / "python"
            pth = Path(self.run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                       .stdout.strip()) / "autograder-test.pth"
            pth.write_text(f"import site; site.addsitedir({site_dir!r})\n")
            check = self.run(str(python), "-c", "import torch, numpy, yaml, click, autograder")
            if check.returncode != 0:
                pytest.skip(f"user nobody cannot import this environment's packages from {site_dir} "
                            f"({check.stderr.strip().splitlines()[-1:]})")
            return str(python)
        pytest.skip(f"no Python {version} that user nobody can run (this one is {sys.executable})")


@pytest.fixture
def as_user() -> Iterator[AsUser]:
    tmp = Path(tempfile.mkdtemp(prefix="ag-rootless-"))
    try:
        user = AsUser(tmp)
        probe = user.run(user.python, "-c", USERNS_PROBE)
        if probe.returncode != 0:
            pytest.skip(f"the kernel forbids unprivileged user namespaces here (unshare: errno {probe.returncode})")
        yield user
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _submissions(dest: Path, uid: int) -> Path:
    subs = dest / "subs"
    for name in ("bob",):  # the partly wrong example: passes and failures to compare, in one small run
        shutil.copytree(ROOT / "examples" / "backprop" / name, subs / name)
    for path in [subs, *subs.rglob("*")]:
        os.chown(path, uid, -1)
    return subs


def test_grading_as_a_non_root_user_is_isolated_and_scores_as_root(as_user: AsUser, course: CourseDir) -> None:
    subs = _submissions(as_user.tmp, as_user.uid)
    out = as_user.tmp / "out"
    done = as_user.run(as_user.python, "-c", "from autograder.cli import main; main()", "grade", str(subs),
                       "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in (done.stdout + done.stderr).splitlines() if x.startswith("isolation: sandbox:"))
    active = line.split("sandbox:", 1)[1].split(";", 1)[0].replace(" ", "").split(",")
    print(line)
    assert {"userns", "netns", "mntns", "pidns", "ipcns", "landlock", "seccomp", "rlimits"} <= set(active)
    assert "UNSAFE" not in line
    assert "uid" in active or "uid (not root: every worker runs as the invoking user" in line  # said either way
    if os.geteuid() != 0:
        return  # no root run to compare with
    reference = grade(course, subs, GradeOptions(out=as_user.tmp / "root-out"))
    for student in ("bob",):
        mine = json.loads((out / f"{student}.json").read_text())
        theirs = json.loads((as_user.tmp / "root-out" / f"{student}.json").read_text())
        outcome = lambda r: [(t["name"], t["passed"], t["score"], t["cause"]) for q in r["questions"] for t in q["tests"]]  # noqa: E731
        assert outcome(mine) == outcome(theirs), student
        assert mine["score"] == theirs["score"]
    assert 0 < reference.results[0].score < reference.results[0].max_score  # both pass and fail tests


HOSTILE = textwrap.dedent("""
    import json, os, sys, tempfile
    from pathlib import Path
    from autograder.sandbox import Sandbox
    secret_dir = Path(sys.argv[1])
    secret = secret_dir / "solution.py"
    secret.write_text("SECRET-" + "RootlessAnswer")
    student = secret_dir / "student"
    student.mkdir()
    (student / "attack.py").write_text('''
    import os, signal, socket
    def attack(path, grader_pid):
        out = {}
        try:
            out["secret"] = open(path).read()
        except OSError as e:
            out["secret"] = type(e).__name__
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            out["socket"] = "made"
        except OSError as e:
            out["socket"] = type(e).__name__
        try:
            os.kill(grader_pid, signal.SIGKILL)
            out["kill"] = "sent"
        except OSError as e:
            out["kill"] = type(e).__name__
        status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
        out["caps"] = [status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")]
        out["uid"] = os.getuid()
        out["pids"] = [n for n in range(1, 5000) if os.path.exists(f"/proc/{n}")]  # listing /proc is denied
        return out
    ''')
    box = Sandbox.start(work_dir=Path(tempfile.mkdtemp()) / "sb")
    try:
        with box.provider(student, student_id="mallory", time_limit=30) as p:
            print(json.dumps({"protections": list(box.protections),
                              "attack": p.module("attack").attack(str(secret), os.getpid())}))
    finally:
        box.close()
""")


def test_a_hostile_submission_is_contained_without_root(as_user: AsUser) -> None:
    secret_dir = as_user.tmp / "secret"
    secret_dir.mkdir()
    os.chown(secret_dir, as_user.uid, -1)  # the worker runs as this very uid: only the view and Landlock hide it
    done = as_user.run(as_user.python, "-c", HOSTILE, str(secret_dir))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    attack = report["attack"]
    assert "userns" in report["protections"] and "landlock" in report["protections"]
    assert attack["secret"] in ("FileNotFoundError", "PermissionError")
    assert attack["socket"] == "PermissionError"
    assert attack["kill"] in ("ProcessLookupError", "PermissionError")  # the grader is not in its pid namespace
    assert attack["caps"] == ["0000000000000000"] * 3
    if "uid" in report["protections"]:  # a subordinate uid of its own (/etc/subuid, newuidmap)
        assert attack["uid"] != as_user.uid
    else:
        assert attack["uid"] == as_user.uid
    assert attack["pids"] and max(attack["pids"]) < 100  # its own pid namespace: none of the machine's processes
