"""The worker: confines itself (still root, just forked by its supervisor), then serves requests.

Order of confinement: join the cgroups, new session, only the channel and the output pipe stay open,
a /proc of its own pid namespace, hostname, cwd = the private work dir, a scrubbed environment,
rlimits, Landlock, an unprivileged uid, no_new_privs, seccomp. Each step that succeeds is recorded;
the risky ones are then verified by trying (a socket must be refused, /etc must be unreadable, the uid
must not be 0). If a protection the sandbox requires is missing the worker refuses to serve.

Requests (JSON, see wire.py): {"op": "import", "name"} | {"op": "library", "name"} (a module of
gradekit.handles.LIBRARIES, e.g. torch, for tests to build modules and optimizers here) |
{"op": "stage", "files": [[relative path, base64]]} (data files a test writes into a fresh folder of
the work dir; the reply is its path) | {"op": "apply", "target", "operation", "operands", "free"}.
Replies: {"ok": value} | {"exc": {"mro", "message"}} | {"import_error": detail}
| {"bad": why} | {"exit": code}. Values are gradekit.codec encodings; non-plain objects stay in the
object table here and travel as references.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import itertools
import operator
import time
import os
import signal
import socket
import sys
from typing import Any

from gradekit import codec
from gradekit.direct import write_staged
from gradekit.handles import BINARY_OPS, LIBRARIES, UNARY_OPS
from gradekit.errors import describe_import_error

from . import _sys, landlock, limits, namespaces, seccomp, wire
from .cgroupfs import WorkerCgroup

CHANNEL_FD = 3
MESSAGE_CHARS = 500
SYSTEM_READ = ["/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc/ld.so.cache",
               "/etc/localtime", "/usr/share/zoneinfo", "/proc/self", "/proc/cpuinfo", "/proc/meminfo",
               "/sys/devices/system/cpu", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]


def confine(ctx: dict[str, Any], chan_fd: int, out_fd: int,
            cg: WorkerCgroup | None) -> tuple[list[str], dict[str, str]]:
    applied: list[str] = list(ctx["applied"])
    failed: dict[str, str] = dict(ctx["failed"])

    def step(name: str, fn: Any, *args: Any) -> bool:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - any failure means "not applied"
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
            if name in applied:
                applied.remove(name)
            return False
        if name not in applied:
            applied.append(name)
        return True

    if cg is not None:
        cg.join()
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    if chan_fd != CHANNEL_FD:
        os.dup2(chan_fd, CHANNEL_FD)
    os.closerange(CHANNEL_FD + 1, 1 << 16)
    os.set_inheritable(CHANNEL_FD, False)
    if "pidns" in applied and "mntns" in applied:
        step("pidns", namespaces.mount_proc)
    if "utsns" in applied:
        step("utsns", _sys.sethostname, "sandbox")
    src, work = ctx["src"], ctx["work"]
    os.chdir(work)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
                       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                       "NUMEXPR_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    lim = limits.Limits(**ctx["limits"])
    step("rlimits", limits.apply_rlimits, lim, ctx["baseline_vm"], "cgroup_memory" in applied)
    if ctx["try_landlock"]:
        step("landlock", landlock.restrict, ctx["runtime"] + SYSTEM_READ + [src], [work], DEVICES)
    if ctx["uid"] is not None:
        step("uid", limits.drop_privileges, ctx["uid"])
    if "userns" in applied:  # rootless: the invoking user's uid, and no capabilities in its namespace
        step("userns", limits.drop_capabilities)
    _sys.libc.prctl(_sys.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    step("no_new_privs", _sys.prctl, _sys.PR_SET_NO_NEW_PRIVS, 1)
    if "no_new_privs" in applied and ctx["try_seccomp"]:
        step("seccomp", seccomp.install)
    # verify by trying
    if "seccomp" in applied:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            applied.remove("seccomp")
            failed["seccomp"] = "installed, but socket() still works"
        except PermissionError:
            pass
    if "landlock" in applied:
        try:
            os.listdir("/etc")
            applied.remove("landlock")
            failed["landlock"] = "restricted, but /etc is still readable"
        except PermissionError:
            pass
    if "uid" in applied and os.getuid() == 0:
        applied.remove("uid")
        failed["uid"] = "still root"
    return applied, failed


def run(ctx: dict[str, Any], chan_fd: int, out_fd: int, cg: WorkerCgroup | None) -> None:
    """Entry point in the freshly forked worker (never returns)."""
    code = 0
    t0 = time.perf_counter()
    try:
        applied, failed = confine(ctx, chan_fd, out_fd, cg)
        chan = socket.socket(fileno=CHANNEL_FD)
        missing = [p for p in ctx["required"] if p not in applied]
        if missing:
            wire.send(chan, {"hello": {"error": f"protections missing in this worker: {', '.join(missing)}",
                                       "applied": applied, "failed": failed}})
            os._exit(70)
        _prepare_python(ctx)
        wire.send(chan, {"hello": {"applied": applied, "failed": failed, "uid": os.getuid(),
                                   "confine_ms": (time.perf_counter() - t0) * 1000}})
        Server(chan, ctx["src"]).serve()
    except BaseException:  # noqa: BLE001
        code = 71
    os._exit(code)


def _prepare_python(ctx: dict[str, Any]) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001
            pass
    allowed = tuple(p.rstrip("/") + "/" for p in ctx["runtime"])
    sys.path[:] = [ctx["src"]] + [p for p in sys.path if p and (p.rstrip("/") + "/").startswith(allowed)]
    sys.dont_write_bytecode = True
    sys.argv = ["student"]
    for name in ("__main__",):
        main = sys.modules.get(name)
        if main is not None:
            main.__dict__.pop("__file__", None)


class Server:
    def __init__(self, chan: socket.socket, src: str) -> None:
        self.chan = chan
        self.src = src
        self.table: dict[int, Any] = {}
        self.next_id = 1
        self.staged = 0

    def add(self, obj: Any) -> int:
        i = self.next_id
        self.next_id += 1
        self.table[i] = obj
        return i

    def serve(self) -> None:
        while True:
            try:
                request = wire.recv(self.chan)
            except wire.PeerClosed:
                return
            reply = self.handle(request)
            reply["seq"] = request.get("seq") if isinstance(request, dict) else None
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - the student may have replaced or closed them
                    pass
            try:
                data = wire.pack(reply)
            except (wire.WireError, ValueError, TypeError) as exc:
                data = wire.pack({"bad": f"the result cannot be sent: {exc}"[:MESSAGE_CHARS], "seq": reply["seq"]})
            self.chan.sendall(data)

    def handle(self, request: Any) -> dict[str, Any]:
        try:
            for i in request.get("free", ()):
                self.table.pop(i, None)
            op = request["op"]
            if op == "import":
                return self.import_module(request["name"])
            if op == "library":
                return self.library(request["name"])
            if op == "stage":
                return self.stage(request["files"])
            if op == "apply":
                obj = self.table[request["target"]]
                return self.apply(obj, request["operation"], request["operands"])
            if op == "ping":
                return {"ok": None}
            return {"bad": f"unknown request {op!r}"}
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, codec.DecodeError) as exc:
            return {"bad": f"malformed request: {type(exc).__name__}"}

    def import_module(self, name: str) -> dict[str, Any]:
        if not isinstance(name, str) or not name.isidentifier():
            return {"import_error": "not a module name"}
        path = os.path.join(self.src, f"{name}.py")
        module = sys.modules.get(name)
        if module is None or os.path.dirname(str(getattr(module, "__file__", "") or "")) != self.src:
            if not os.path.isfile(path):
                return {"import_error": f"there is no file {name}.py in the submission"}
            try:
                spec = importlib.util.spec_from_file_location(name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            except BaseException as exc:  # noqa: BLE001 - SystemExit at import is the student's too
                sys.modules.pop(name, None)
                return {"import_error": describe_import_error(exc)[:MESSAGE_CHARS]}
        return {"ok": {"__ref__": self.add(module), "type": "module"}}

    def library(self, name: Any) -> dict[str, Any]:
        if name not in LIBRARIES:
            return {"bad": "not a library tests may use"}
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - e.g. torch missing, or broken by the student
            return {"exc": _describe(exc)}
        return {"ok": {"__ref__": self.add(module), "type": "module"}}

    def stage(self, files: Any) -> dict[str, Any]:
        self.staged += 1
        folder = os.path.join(os.getcwd(), f"staged-{self.staged}")
        try:
            os.mkdir(folder, 0o755)
            write_staged(folder, [(str(rel), base64.b64decode(data, validate=True)) for rel, data in files])
        except (OSError, ValueError) as exc:
            return {"bad": f"cannot stage the test's files: {exc}"[:MESSAGE_CHARS]}
        return {"ok": folder}

    def _decode(self, value: Any) -> Any:
        return codec.decode(value, lambda i, _type: self.table[i])

    def apply(self, obj: Any, operation: str, operands: list[Any]) -> dict[str, Any]:
        try:
            if operation == "getattr":
                result = getattr(obj, str(operands[0]))
            elif operation in ("call", "call_capture"):
                args, kwargs = self._decode(operands[0]), self._decode(operands[1])
                if type(args) is not tuple or type(kwargs) is not dict:
                    return {"bad": "malformed call"}
                result = obj(*args, **kwargs)
                if operation == "call_capture":
                    result = (result, args, kwargs)
            elif operation in ("binop", "rbinop"):
                if operands[0] not in BINARY_OPS:
                    return {"bad": "unknown operator"}
                fn, other = getattr(operator, operands[0]), self._decode(operands[1])
                result = fn(obj, other) if operation == "binop" else fn(other, obj)
            elif operation == "unary":
                if operands[0] not in UNARY_OPS:
                    return {"bad": "unknown operator"}
                result = getattr(operator, operands[0])(obj)
            elif operation == "getitem":
                result = obj[self._decode(operands[0])]
            elif operation == "len":
                result = len(obj)
            elif operation == "iter":
                limit = int(operands[0])
                result = list(itertools.islice(iter(obj), limit + 1))
                if len(result) > limit:
                    return {"bad": f"iterating the object gave more than {limit} items"}
            else:
                return {"bad": f"unknown operation {operation!r}"}
        except SystemExit as exc:
            return {"exit": _text(exc.code)[:100]}
        except BaseException as exc:  # noqa: BLE001
            return {"exc": _describe(exc)}
        try:
            return {"ok": codec.encode(result, self.add)}
        except codec.NotPlainData as exc:
            return {"bad": str(exc)[:MESSAGE_CHARS]}
        except RecursionError:
            return {"bad": "the result is nested too deeply"}
        except BaseException as exc:  # noqa: BLE001 - e.g. a broken ndarray subclass
            return {"bad": f"the result could not be encoded ({type(exc).__name__})"}


def _text(value: Any) -> str:
    try:
        return str(value)
    except BaseException:  # noqa: BLE001
        return "<unprintable>"


def _describe(exc: BaseException) -> dict[str, Any]:
    mro = []
    for cls in type(exc).__mro__:
        mro.append([str(getattr(cls, "__module__", ""))[:100], str(getattr(cls, "__name__", ""))[:100]])
    return {"mro": mro[:50], "message": _text(exc)[:MESSAGE_CHARS]}
