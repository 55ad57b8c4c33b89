"""The grader's side: RemoteProvider (gradekit's provider protocol) and RemoteObject handles.

Every use of student code becomes one request to the worker over its channel; the reply is decoded
strictly (gradekit.codec, JSON, no pickle, within the decoder limits). While waiting, the provider
drains the worker's output pipe in bounded reads (keeping the first `output_bytes`, counting the
rest), and watches the time limit and the supervisor's report of the worker's death. A worker is
killed before what is left of its output is drained. After a timeout or a crash the next use starts
a fresh worker.
"""

from __future__ import annotations

import base64
import builtins
import os
import select
import signal
import socket
import time
from typing import Any

from gradekit import codec
from gradekit.errors import (BadReturnValue, StudentCodeError, StudentCrash, StudentException, StudentImportError,
                             StudentMemoryError, StudentTimeout, tag_student)
from gradekit.handles import LIBRARIES, Handle

from . import wire

ALLOWED_EXCEPTIONS = ("ValueError", "TypeError", "ZeroDivisionError", "ArithmeticError", "OverflowError",
                      "FloatingPointError", "IndexError", "KeyError", "LookupError", "AttributeError",
                      "NotImplementedError", "RuntimeError", "RecursionError", "MemoryError", "AssertionError",
                      "PermissionError", "FileNotFoundError", "OSError", "Exception")
# a PermissionError in the worker is almost always the sandbox saying no: tell the student what to change
SANDBOX_REFUSED = (" (the grading sandbox refused this: student code may write only in its working folder, "
                   "may not open network connections, and may not use shared memory, so DataLoader worker "
                   "processes cannot start: use DataLoader(num_workers=0))")
SPAWN_TIMEOUT = 30.0
# the supervisor (grader code) reports only after the worker, its children and its cgroups are gone;
# this bound only guards against a bug there, it is no part of normal clean-up
EXIT_REPORT_TIMEOUT = 120.0
# Output: each read of the worker's output pipe takes at most DRAIN_CHUNK bytes, so a flood never
# holds a request past its deadline; after the worker is killed, what is left is read for at most
# DRAIN_SECONDS; past OUTPUT_READ_BUDGET bytes per student the pipe is closed (writers get EPIPE).
DRAIN_CHUNK = 1 << 20
DRAIN_SECONDS = 1.0
OUTPUT_READ_BUDGET = 32 << 20


class SandboxError(RuntimeError):
    """The sandbox itself failed (zygote gone, a protection missing in a worker): a grader problem."""


class _Dead(Exception):
    """The worker died during a request."""


class RemoteObject(Handle):
    """A handle to an object that lives in the worker's object table."""

    __slots__ = ("_gk_provider", "_gk_id", "_gk_gen", "_gk_label", "_gk_path")

    def __init__(self, provider: RemoteProvider, ref_id: int, type_name: str, gen: int, label: str,
                 path: tuple[str, ...] | None = None) -> None:
        super().__init__(type_name)
        object.__setattr__(self, "_gk_provider", provider)
        object.__setattr__(self, "_gk_id", ref_id)
        object.__setattr__(self, "_gk_gen", gen)
        object.__setattr__(self, "_gk_label", label)
        object.__setattr__(self, "_gk_path", path)  # (module,) or (module, attr): re-resolvable

    def _gk_apply(self, operation: str, *operands: Any) -> Any:
        return self._gk_provider._apply(self, operation, operands)

    def __del__(self) -> None:
        try:
            p = self._gk_provider
            if p._worker is not None and p._worker.gen == self._gk_gen:
                p._released.append(self._gk_id)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class _Worker:
    """One live worker as the provider sees it: channel, output pipe, pidfd, supervisor link."""

    def __init__(self, control: socket.socket, meta: dict[str, Any], fds: list[int], gen: int) -> None:
        self.control = control
        self.chan = socket.socket(fileno=fds[0])
        self.out = fds[1]
        self.pidfd = fds[2]
        self.pid = meta.get("pid")
        self.uid = meta.get("uid")
        self.gen = gen
        self.reader = wire.Reader(codec.MAX_WIRE_BYTES)
        self.control_reader = wire.Reader(1 << 16)
        self.exit: dict[str, Any] | None = None
        self.hello: dict[str, Any] | None = None
        self.spawn_ms = meta.get("spawn_ms")
        for fd in (self.chan.fileno(), self.out, control.fileno()):
            os.set_blocking(fd, False)

    def watched(self, *fds: Any) -> list[Any]:
        """`fds` plus the output pipe while it is still read (-1 once its byte budget is spent)."""
        return [*fds, self.out] if self.out >= 0 else list(fds)

    def close_output(self) -> None:
        if self.out >= 0:
            os.close(self.out)
            self.out = -1

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:
            pass

    def read_control(self) -> None:
        try:
            data = self.control.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if self.exit is None:
                self.exit = {"status": None, "oom": False}
            return
        try:
            self.control_reader.feed(data)
            body = self.control_reader.take()
            if body is not None:
                msg = codec.loads(body)
                if isinstance(msg, dict) and "status" in msg:
                    self.exit = msg
        except (wire.WireError, codec.DecodeError):
            self.exit = {"status": None, "oom": False}

    def close(self) -> None:
        for closer in (self.chan.close, self.control.close, self.close_output, lambda: os.close(self.pidfd)):
            try:
                closer()
            except OSError:
                pass


class RemoteProvider:
    """gradekit's provider protocol, backed by a sandboxed worker (started on first use)."""

    def __init__(self, socket_path: str, student_dir: os.PathLike | str, *, student_id: str,
                 time_limit: float, output_bytes: int, protections: tuple[str, ...]) -> None:
        self._socket_path = socket_path
        self.student_dir = os.path.abspath(os.fspath(student_dir))
        self.student_id = student_id
        self.time_limit = float(time_limit)
        self._output_limit = output_bytes
        self._required = protections
        self._output = bytearray()
        self._dropped = 0  # bytes read past output_bytes
        self._read = 0  # bytes read in all (the budget)
        self._unread = False  # the pipe was closed with the budget spent: more may have been written
        self._worker: _Worker | None = None
        self._requested: socket.socket | None = None  # a worker asked for ahead of use (prestart)
        self._gen = 0
        self._modules: dict[str, RemoteObject] = {}
        self._import_errors: dict[str, StudentImportError] = {}
        self._attrs: dict[tuple[int, str], Any] = {}
        self._released: list[int] = []
        self._seq = 0
        self._closed = False
        self._lost: StudentCodeError | None = None  # why the last worker was stopped (timeout, crash)
        self.last_hello: dict[str, Any] | None = None

    # -- the provider protocol ---------------------------------------------------------------------
    def module(self, name: str) -> Any:
        if name in self._import_errors:
            err = self._import_errors[name]
            raise StudentImportError(err.module, err.detail)
        handle = self._modules.get(name)
        if (handle is not None and self._worker is not None and self._worker.exit is None
                and handle._gk_gen == self._worker.gen):
            return handle
        worker = self._ensure_worker()
        try:
            reply = self._request(worker, {"op": "import", "name": name}, f"importing {name}.py")
        except StudentTimeout as exc:
            err = StudentImportError(name, f"importing the module did not finish within {exc.seconds:g} s")
            self._import_errors[name] = err
            raise StudentImportError(name, err.detail) from None
        except (StudentCrash, StudentMemoryError) as exc:
            err = StudentImportError(name, f"the module ended the process while being imported ({exc})")
            self._import_errors[name] = err
            raise StudentImportError(name, err.detail) from None
        if "import_error" in reply:
            err = StudentImportError(name, str(reply["import_error"])[:600])
            self._import_errors[name] = err
            raise StudentImportError(name, err.detail)
        value = self._decode_reply(worker, reply, name, (name,))
        if not isinstance(value, RemoteObject):
            raise BadReturnValue(f"importing {name}.py did not give a module")
        self._modules[name] = value
        return value

    def library(self, name: str) -> Any:
        """The worker's own `torch` (see gradekit.handles.LIBRARIES), for tests to build objects there."""
        if name not in LIBRARIES:
            raise AttributeError(f"tests may only reach the libraries {', '.join(LIBRARIES)}")
        key = f"@{name}"
        handle = self._modules.get(key)
        if (handle is not None and self._worker is not None and self._worker.exit is None
                and handle._gk_gen == self._worker.gen):
            return handle
        worker = self._ensure_worker()
        reply = self._request(worker, {"op": "library", "name": name}, f"importing {name} in the student's process")
        value = self._decode_reply(worker, reply, name, (key,))
        if not isinstance(value, RemoteObject):
            raise BadReturnValue(f"importing {name} did not give a module")
        self._modules[key] = value
        return value

    def stage(self, files: list[tuple[str, bytes]]) -> str:
        """Write data files, in this order, into a new folder of the worker's work dir; return its path.

        The folder belongs to the current worker: after a timeout or crash, stage the files again.
        """
        worker = self._ensure_worker()
        payload = [[rel, base64.b64encode(data).decode("ascii")] for rel, data in files]
        reply = self._request(worker, {"op": "stage", "files": payload}, "staging the test's data files")
        path = self._decode_reply(worker, reply, "staging the test's data files", None)
        if type(path) is not str:
            raise BadReturnValue("staging the test's data files gave no path")
        return path

    def set_time_limit(self, seconds: float) -> None:
        self.time_limit = float(seconds)

    def output(self) -> str:
        if self._worker is not None:
            self._drain(self._worker)
        text = bytes(self._output).decode("utf-8", "replace")
        if self._dropped or self._unread:
            more = "at least " if self._unread else ""
            text += f"\n[... {more}{self._dropped} more bytes of output dropped]"
        return text

    def prestart(self) -> None:
        """Have the zygote start this provider's worker now, while the caller does other work.

        The first use then finds it started (or waits less). The grader's batch calls this for the
        next student while the current one's tests run; a failure shows at that first use.
        """
        if self._closed or self._worker is not None or self._requested is not None:
            return
        try:
            self._requested = request_worker(self._socket_path, self.student_dir, self.student_id, self._required)
        except SandboxError:
            pass  # asked again, and reported, at first use

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._requested is not None and self._worker is None:
            try:  # started but never used: stop it like any worker, so its clean-up is awaited too
                self._worker = spawn(self._socket_path, self.student_dir, self.student_id, self._gen + 1,
                                     self._required, self._requested)
            except SandboxError:
                pass
            self._requested = None
        if self._worker is not None:
            self._stop(self._worker)
            self._worker = None
        self._modules.clear()
        self._attrs.clear()

    def __enter__(self) -> RemoteProvider:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def worker_uid(self) -> int | None:
        return None if self._worker is None else self._worker.uid

    # -- workers -------------------------------------------------------------------------------------
    def _ensure_worker(self) -> _Worker:
        if self._closed:
            raise SandboxError("the provider is closed")
        if self._worker is not None and self._worker.exit is None:
            return self._worker
        if self._worker is not None:
            self._stop(self._worker)
        self._gen += 1
        self._modules.clear()
        self._attrs.clear()
        self._released.clear()
        requested, self._requested = self._requested, None
        self._worker = spawn(self._socket_path, self.student_dir, self.student_id, self._gen, self._required,
                             requested)
        try:
            hello = self._await_hello(self._worker)
        except BaseException:
            self._stop(self._worker)
            self._worker = None
            raise
        self.last_hello = hello
        return self._worker

    def _await_hello(self, worker: _Worker) -> dict[str, Any]:
        try:
            msg = self._wait_reply(worker, time.monotonic() + SPAWN_TIMEOUT)
        except (_Dead, TimeoutError, wire.WireError, codec.DecodeError) as exc:
            raise SandboxError(f"the sandboxed worker did not start ({type(exc).__name__}: {exc})") from None
        hello = msg.get("hello") if isinstance(msg, dict) else None
        if not isinstance(hello, dict):
            raise SandboxError("the sandboxed worker did not say hello")
        if hello.get("error"):
            raise SandboxError(str(hello["error"]))
        missing = [p for p in self._required if p not in hello.get("applied", ())]
        if missing:
            raise SandboxError(f"protections missing in a worker: {', '.join(missing)}")
        return hello

    def _stop(self, worker: _Worker) -> None:
        """Kill the worker and everything it started, then read what is left of its output (bounded)."""
        self._kill_and_wait(worker)
        deadline = time.monotonic() + DRAIN_SECONDS
        while worker.out >= 0 and time.monotonic() < deadline:
            ready, _, _ = select.select([worker.out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready or not self._drain(worker):
                break
        worker.close()

    def _drain(self, worker: _Worker) -> bool:
        """Read the output that is waiting, at most DRAIN_CHUNK bytes; keep the first output_bytes.

        False at EOF or once the budget is spent (the pipe is then closed).
        """
        taken = 0
        while taken < DRAIN_CHUNK and worker.out >= 0:
            try:
                chunk = os.read(worker.out, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                worker.close_output()  # EOF: nothing more can come, and select would keep waking on it
                return False
            taken += len(chunk)
            self._read += len(chunk)
            room = self._output_limit - len(self._output)
            if room > 0:
                self._output += chunk[:room]
            self._dropped += max(0, len(chunk) - max(room, 0))
            if self._read >= OUTPUT_READ_BUDGET:
                worker.close_output()
                self._unread = True
                return False
        return worker.out >= 0

    # -- requests ------------------------------------------------------------------------------------
    def _request(self, worker: _Worker, msg: dict[str, Any], what: str) -> dict[str, Any]:
        if self._released:
            msg["free"] = self._released[:10000]
            del self._released[:10000]
        self._seq += 1
        msg["seq"] = self._seq
        data = wire.pack(msg)
        limit = self.time_limit
        deadline = time.monotonic() + limit
        try:
            self._send(worker, data, deadline)
            reply = self._wait_reply(worker, deadline)
        except TimeoutError:
            self._kill_and_wait(worker)
            self._lost = StudentTimeout(what, limit)
            raise StudentTimeout(what, limit) from None
        except _Dead:
            death = self._death(worker, what)
            self._lost = death
            raise death from None
        except (wire.WireError, codec.DecodeError) as exc:
            self._kill_and_wait(worker)
            raise BadReturnValue(f"{what} sent malformed data: {exc}"[:300]) from None
        except MemoryError:  # only a reply is being read here: its size is the student's doing
            self._kill_and_wait(worker)
            raise BadReturnValue(f"{what} sent a reply too large to read") from None
        if not isinstance(reply, dict) or len(reply) != 2 or reply.pop("seq", None) != self._seq:
            # forged or out of step (e.g. student code wrote to the channel): the stream cannot be trusted
            self._kill_and_wait(worker)
            raise BadReturnValue(f"{what} sent a malformed reply")
        return reply

    def _send(self, worker: _Worker, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        chan = worker.chan
        while view:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError
            ready_r, ready_w, _ = select.select(worker.watched(worker.control), [chan], [], timeout)
            self._handle_side(worker, ready_r)
            if ready_w:
                try:
                    n = chan.send(view[:1 << 20])
                except BlockingIOError:
                    continue
                except OSError:
                    raise _Dead from None
                view = view[n:]

    def _handle_side(self, worker: _Worker, ready: list[Any]) -> None:
        if worker.out >= 0 and worker.out in ready:
            self._drain(worker)
        if worker.control in ready:
            worker.read_control()
            if worker.exit is not None:
                raise _Dead

    def _wait_reply(self, worker: _Worker, deadline: float) -> Any:
        chan = worker.chan
        while True:
            body = worker.reader.take()
            if body is not None:
                return codec.loads(body)
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError
            ready, _, _ = select.select(worker.watched(chan, worker.control), [], [], timeout)
            if chan in ready:
                try:
                    data = chan.recv(1 << 20)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    raise _Dead
                if data:
                    worker.reader.feed(data)
                    continue
            self._handle_side(worker, ready)

    def _kill_and_wait(self, worker: _Worker) -> None:
        worker.kill()
        deadline = time.monotonic() + EXIT_REPORT_TIMEOUT
        while worker.exit is None and time.monotonic() < deadline:
            ready, _, _ = select.select(worker.watched(worker.control), [], [], max(0.0, deadline - time.monotonic()))
            if worker.out >= 0 and worker.out in ready:
                self._drain(worker)
            if worker.control in ready:
                worker.read_control()
        if worker.exit is None:
            worker.exit = {"status": None, "oom": False}

    def _death(self, worker: _Worker, what: str) -> Exception:
        # the channel closed or the supervisor reported: make sure it is dead, get the status
        self._kill_and_wait(worker)
        exit_info = worker.exit or {}
        status = exit_info.get("status")
        if exit_info.get("oom"):
            return StudentMemoryError(f"{what} ran out of memory (the worker was killed at its memory limit)")
        if type(status) is int:
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                try:
                    name = signal.Signals(sig).name
                except ValueError:
                    name = str(sig)
                why = f"killed by signal {name}"
                if sig == signal.SIGXCPU:
                    why += " (CPU time limit)"
            else:
                why = f"exit status {os.waitstatus_to_exitcode(status)}"
        else:
            why = "it disappeared"
        return StudentCrash(f"the process running the student's code ended during {what} ({why})")

    # -- operations ------------------------------------------------------------------------------------
    def _resolve(self, handle: RemoteObject) -> RemoteObject:
        worker = self._worker
        if worker is not None and worker.exit is None and handle._gk_gen == worker.gen:
            return handle
        path = handle._gk_path
        if path is None:
            raise self._lost_object(handle._gk_type)
        module = self.library(path[0][1:]) if path[0].startswith("@") else self.module(path[0])
        if len(path) == 1:
            return module
        return self._apply(module, "getattr", (path[1],))

    def _lost_object(self, type_name: str) -> StudentCodeError:
        """A handle of a stopped worker: say which earlier failure stopped it, with that failure's cause."""
        lost = self._lost
        if isinstance(lost, StudentTimeout):
            return StudentTimeout(lost.what, lost.seconds,
                                  f"not run: this test uses a {type_name} object that was lost when an earlier "
                                  f"call ({lost.what}) exceeded the time limit of {lost.seconds:g} s and the "
                                  "student's process was stopped; fix that timeout first")
        why = f" ({lost})" if lost is not None else ""
        return StudentCrash(f"not run: this test uses a {type_name} object that was lost when the student's "
                            f"process ended during an earlier call{why}"[:600])

    def _encode_arg(self, value: Any, gen: int) -> Any:
        def ref(obj: Any) -> int:
            if isinstance(obj, RemoteObject) and obj._gk_provider is self:
                if obj._gk_gen != gen:
                    raise self._lost_object(obj._gk_type)
                return obj._gk_id
            raise TypeError(f"cannot pass a {type(obj).__name__} to student code")

        try:
            return codec.encode(value, ref)
        except codec.NotPlainData as exc:
            raise TypeError(f"cannot pass this value to student code: {exc}") from None

    def _apply(self, handle: RemoteObject, operation: str, operands: tuple[Any, ...]) -> Any:
        handle = self._resolve(handle)
        worker = self._worker
        assert worker is not None
        label = handle._gk_label
        is_module = handle._gk_path is not None and len(handle._gk_path) == 1
        if operation == "getattr":
            name = str(operands[0])
            what = f"{label}.{name}"
            key = (handle._gk_id, name)
            if is_module and key in self._attrs:
                return self._attrs[key]
            wire_ops: list[Any] = [name]
            path = (handle._gk_path[0], name) if is_module else None
        elif operation in ("call", "call_capture"):
            what = f"{label}()"
            wire_ops = [self._encode_arg(tuple(operands[0]), worker.gen),
                        self._encode_arg(dict(operands[1]), worker.gen)]
            path = None
        elif operation in ("binop", "rbinop"):
            what = f"{label} {operands[0]}"
            wire_ops = [operands[0], self._encode_arg(operands[1], worker.gen)]
            path = None
        elif operation == "unary":
            what = f"{operands[0]}({label})"
            wire_ops = [operands[0]]
            path = None
        elif operation == "getitem":
            what = f"{label}[...]"
            wire_ops = [self._encode_arg(operands[0], worker.gen)]
            path = None
        elif operation == "len":
            what = f"len({label})"
            wire_ops = []
            path = None
        elif operation == "iter":
            what = f"iterating {label}"
            wire_ops = [int(operands[0])]
            path = None
        else:
            raise ValueError(f"unknown operation {operation!r}")
        reply = self._request(worker, {"op": "apply", "target": handle._gk_id, "operation": operation,
                                       "operands": wire_ops}, what)
        value = self._decode_reply(worker, reply, what, path)
        if operation == "getattr" and is_module and isinstance(value, RemoteObject):
            self._attrs[(handle._gk_id, operands[0])] = value
        return value

    def _decode_reply(self, worker: _Worker, reply: dict[str, Any], what: str, path: tuple[str, ...] | None) -> Any:
        if "ok" in reply:
            gen = worker.gen

            def make(ref_id: int, type_name: str) -> RemoteObject:
                return RemoteObject(self, ref_id, type_name, gen, what if path else f"<{type_name}>", path)

            try:
                return codec.decode(reply["ok"], make)
            except (codec.DecodeError, RecursionError, MemoryError) as exc:
                self._kill_and_wait(worker)  # only forged replies are malformed
                raise BadReturnValue(f"{what} returned malformed data: {str(exc)[:200]}") from None
        if "exc" in reply:
            exc = _student_exception(reply["exc"])
            if isinstance(exc, StudentMemoryError):
                self._lost = exc
                self._kill_and_wait(worker)  # its heap may stay full: the next call gets a fresh worker
            raise exc
        if "exit" in reply:
            raise StudentCrash(f"the student's code called sys.exit({str(reply['exit'])[:50]}) during {what}")
        if "bad" in reply:
            raise BadReturnValue(f"{what}: {str(reply['bad'])[:300]}")
        if "import_error" in reply:
            raise BadReturnValue(f"{what} sent an unexpected reply")
        raise BadReturnValue(f"{what} sent an unknown reply")


def _student_exception(info: Any) -> BaseException:
    if not isinstance(info, dict):
        return BadReturnValue("the student's code sent a malformed exception")
    message = str(info.get("message", ""))[:500]
    mro = info.get("mro")
    names = []
    if isinstance(mro, list):
        for item in mro[:50]:
            if isinstance(item, list) and len(item) == 2 and item[0] == "builtins" and isinstance(item[1], str):
                names.append(item[1])
    type_name = ""
    if isinstance(mro, list) and mro and isinstance(mro[0], list) and len(mro[0]) == 2:
        type_name = str(mro[0][1])[:100]
    if names and names[0] == "MemoryError" and type_name == "MemoryError":
        return StudentMemoryError(f"MemoryError: {message}" if message else "MemoryError (the memory limit was reached)")
    for name in names:
        if name in ALLOWED_EXCEPTIONS:
            cls = getattr(builtins, name)
            exc = cls(message + SANDBOX_REFUSED if name == "PermissionError" else message)
            return tag_student(exc)
    return StudentException(type_name or "exception", message)


def request_worker(socket_path: str, student_dir: str, student_id: str,
                   required: tuple[str, ...] = ()) -> socket.socket:
    """Ask the zygote for a worker and return at once: the zygote starts it while the caller goes on.

    `spawn(..., requested=)` then takes the worker's fds from the returned socket.
    """
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        control.settimeout(SPAWN_TIMEOUT)
        try:
            control.connect(socket_path)
        except OSError as exc:
            raise SandboxError(f"cannot reach the sandbox's zygote ({exc.strerror})") from None
        wire.send(control, {"student_dir": student_dir, "student_id": student_id, "required": list(required)}, 1 << 16)
        return control
    except BaseException:
        control.close()
        raise


def spawn(socket_path: str, student_dir: str, student_id: str, gen: int,
          required: tuple[str, ...] = (), requested: socket.socket | None = None) -> _Worker:
    """A worker from the zygote (the one `requested` earlier, else asked for now); returns once its
    fds arrived (the hello is read by the caller)."""
    control = requested or request_worker(socket_path, student_dir, student_id, required)
    try:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 65536, 3)
        except OSError as exc:
            raise SandboxError(f"the zygote did not answer ({exc})") from None
        reader = wire.Reader(1 << 16)
        reader.feed(msg)
        body = reader.take()
        while body is None:
            more = control.recv(65536)
            if not more:
                break
            reader.feed(more)
            body = reader.take()
        meta = codec.loads(body) if body is not None else None
        if not isinstance(meta, dict) or len(fds) != 3 or meta.get("fatal"):
            for fd in fds:
                os.close(fd)
            why = meta.get("error") if isinstance(meta, dict) else "no reply"
            raise SandboxError(f"the zygote could not start a worker: {why}")
        control.settimeout(None)
        return _Worker(control, meta, list(fds), gen)
    except BaseException:
        control.close()
        raise
