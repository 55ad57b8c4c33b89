"""The grader-side Sandbox: probe the machine, start and stop the zygote, hand out RemoteProviders.

Only the grader imports this module; the zygote and the workers never do (see `__init__`).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import cgroupfs as _cgroupfs
from . import plan as _plan
from . import protections as _protections
from .limits import Limits
from .remote import RemoteProvider, SandboxError

__all__ = ["IsolationUnavailable", "Sandbox"]

ZYGOTE_START_TIMEOUT = 180.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


class IsolationUnavailable(RuntimeError):
    """This machine cannot provide the protections safe grading requires."""


class Sandbox:
    """A running zygote plus what the probe found; hands out RemoteProviders."""

    def __init__(self) -> None:
        raise TypeError("use Sandbox.start()")

    @classmethod
    def start(cls, *, work_dir: Path, limits: Limits = Limits(), unsafe: bool = False,
              _skip: tuple[str, ...] = ()) -> Sandbox:
        """Probe, start the zygote; `_skip` (tests only) names protections not to try."""
        self = object.__new__(cls)
        self._skip = tuple(_skip)
        self.limits = limits
        self.unsafe = unsafe
        self._owner = os.getpid()
        self._closed = False
        self._cleanup: list[str] = []
        self._proc: subprocess.Popen | None = None
        self.cgroup_dirs: tuple[str, ...] = ()
        work_dir = Path(work_dir).resolve()
        if not work_dir.exists():
            self._cleanup.append(str(work_dir))
        work_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(work_dir, 0o700)
        self.work_dir = work_dir
        try:
            self._start(unsafe)
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, unsafe: bool) -> None:
        sock = self.work_dir / "zygote.sock"
        if len(str(sock)) > 100:
            short = tempfile.mkdtemp(prefix="ag-zygote-")
            self._cleanup.append(short)
            sock = Path(short) / "zygote.sock"
        self.socket_path = str(sock)
        plan = _plan.make(self._skip)
        fallback = tempfile.mkdtemp(prefix="ag-workers-")
        os.chmod(fallback, 0o711)
        self._cleanup.append(fallback)
        cfg = {
            "socket": self.socket_path,
            "limits": {k: getattr(self.limits, k) for k in self.limits.__dataclass_fields__},
            "project_roots": sorted({_PACKAGE_ROOT, str(self.work_dir), os.getcwd()}),
            **plan.zygote_config(),
            "try_landlock": "landlock" not in self._skip,
            "try_seccomp": "seccomp" not in self._skip,
            "fallback_dir": fallback,
        }
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": _PACKAGE_ROOT, "LANG": "C.UTF-8",
               "HOME": str(self.work_dir), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        if plan.launcher:  # a systemd scope of its own, for a cgroup v2 subtree; plain start if that fails
            env.update({k: os.environ[k] for k in ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS") if k in os.environ})
            try:
                ready = self._launch(cfg, env, plan.launcher)
            except SandboxError:
                self._stop_zygote()
                ready = self._launch(cfg, env, ())
        else:
            ready = self._launch(cfg, env, ())
        self.baseline_vm = ready["baseline_vm"]
        self.cgroup_dirs = tuple(ready["cgroup_dirs"])
        self.runtime_paths = tuple(ready["runtime"])
        # probe by trying: a real worker, with nothing required, reports what it managed to apply
        empty = tempfile.mkdtemp(prefix="ag-probe-")
        self._cleanup.append(empty)
        probe = RemoteProvider(self.socket_path, empty, student_id="probe", time_limit=30,
                               output_bytes=self.limits.output_bytes, protections=())
        t0 = time.perf_counter()
        try:
            probe._ensure_worker()
            hello = probe.last_hello or {}
        finally:
            probe.close()
        self.probe_ms = (time.perf_counter() - t0) * 1000
        applied = set(hello.get("applied", ()))
        self.protections: tuple[str, ...] = tuple(p for p in _protections.ALL if p in applied)
        self.failed: dict[str, str] = {str(k): str(v) for k, v in dict(hello.get("failed", {})).items()}
        for name, why in {**plan.not_tried, **ready["cgroup_failed"]}.items():
            self.failed.setdefault(name, why)
        missing = _protections.missing(self.protections)
        if missing and not unsafe:
            raise IsolationUnavailable(
                "cannot isolate student code on this machine: missing " + "; ".join(missing)
                + f" [{self.describe()}]. Grade on Linux with namespaces (as root, or with unprivileged "
                "user namespaces enabled), Landlock and seccomp, or pass --unsafe to grade without full "
                "isolation (only for trusted submissions).")

    def _launch(self, cfg: dict, env: dict[str, str], launcher: tuple[str, ...]) -> dict:
        """Start the zygote (under `launcher` if given) and return its ready line."""
        log = open(self.work_dir / "zygote.log", "wb")
        try:
            self._proc = subprocess.Popen(
                [*launcher, sys.executable, "-s", "-m", "autograder.sandbox.zygote"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, env=env, cwd=str(self.work_dir), close_fds=True,
                start_new_session=True)
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox's zygote: {exc}") from None
        finally:
            log.close()
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(cfg).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError as exc:  # it exited already (a launcher that cannot start it)
            raise SandboxError(f"the sandbox's zygote exited at start ({exc.strerror or exc})") from None
        return self._read_ready()

    def _read_ready(self) -> dict:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + ZYGOTE_START_TIMEOUT
        buf = b""
        while b"\n" not in buf:
            timeout = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
            if not ready:
                raise SandboxError("the sandbox's zygote did not start in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                tail = ""
                try:
                    tail = (self.work_dir / "zygote.log").read_text(errors="replace")[-2000:]
                except OSError:
                    pass
                raise SandboxError(f"the sandbox's zygote failed to start: {tail}")
            buf += chunk
        return json.loads(buf.split(b"\n", 1)[0])

    def describe(self) -> str:
        return _protections.describe(self.protections, self.failed, self.unsafe)

    def provider(self, student_dir: Path, *, student_id: str, time_limit: float = 10.0) -> RemoteProvider:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        return RemoteProvider(self.socket_path, student_dir, student_id=student_id, time_limit=time_limit,
                              output_bytes=self.limits.output_bytes, protections=self.protections)

    def close(self) -> None:
        if self._closed or os.getpid() != self._owner:
            return  # a forked runner must not stop the grader's zygote
        self._closed = True
        self._stop_zygote()
        for path in self.cgroup_dirs:  # normally gone already; not if the zygote was killed
            _cgroupfs.remove(path)
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)

    def _stop_zygote(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()  # type: ignore[union-attr]
                except (OSError, AttributeError):
                    pass

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
