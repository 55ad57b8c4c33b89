"""RemoteProvider and RemoteObject: operations, errors, imports, restarts, output, forked use."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from autograder.sandbox import RemoteObject
from gradekit import checks
from gradekit.errors import (BadReturnValue, StudentCrash, StudentException, StudentImportError,
                             StudentTimeout, cause_of)

AUTODIFF = """
import math

class V:
    def __init__(self, data, parents=(), back=None):
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._back = back

    @staticmethod
    def wrap(x):
        return x if isinstance(x, V) else V(x)

    def __add__(self, other):
        other = V.wrap(other)
        out = V(self.data + other.data, (self, other))
        def back():
            self.grad += out.grad
            other.grad += out.grad
        out._back = back
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = V.wrap(other)
        out = V(self.data * other.data, (self, other))
        def back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = back
        return out

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-V.wrap(other))

    def __rsub__(self, other):
        return V.wrap(other) + (-self)

    def __pow__(self, k):
        out = V(self.data ** k, (self,))
        def back():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._back = back
        return out

    def __truediv__(self, other):
        return self * V.wrap(other) ** -1

    def backward(self):
        order, seen = [], set()
        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v._parents:
                    visit(p)
                order.append(v)
        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            if v._back:
                v._back()

def add(a, b):
    return a + b
"""


def test_autodiff_through_handles(student) -> None:
    p = student(autodiff=AUTODIFF)
    V = p.module("autodiff").V
    x = V(3.0)
    assert isinstance(x, RemoteObject)
    y = (x * x + 2 - x) / x
    y.backward()
    assert x.grad == pytest.approx(1 - 2 / 9)
    assert y.data == pytest.approx((9 + 2 - 3) / 3)
    z = 2 - x
    assert z.data == -1.0
    assert (-x).data == -3.0
    assert p.module("autodiff").add(x, x).data == 6.0
    with pytest.raises(BadReturnValue):
        bool(x == x)
    with pytest.raises(BadReturnValue):
        float(x)


def test_handles_of_another_provider_are_refused(student) -> None:
    a = student("a", autodiff=AUTODIFF)
    b = student("b", autodiff=AUTODIFF)
    xa = a.module("autodiff").V(1.0)
    with pytest.raises(TypeError):
        b.module("autodiff").add(xa, 1.0)
    with pytest.raises(TypeError):
        a.module("autodiff").add(object(), 1.0)


def test_plain_data_round_trips_and_arguments_are_copied(student) -> None:
    p = student(m="""
        import numpy as np
        def echo(*a, **k):
            return a, k
        def mutate(xs, arr):
            xs.append(99)
            arr[0] = -1.0
            return len(xs)
        def stats():
            import statistics, fractions   # lazy stdlib imports from the runtime below /root
            return statistics.mean([1, 2, 3]), str(fractions.Fraction(1, 3))
        CONST = 7
    """)
    m = p.module("m")
    a = np.arange(6.0).reshape(2, 3)
    args, kwargs = m.echo(1, 2.5, "s", None, [1, (2, 3)], a, np.float32(1.5), 1 + 2j, k={"x": a})
    assert args[:5] == (1, 2.5, "s", None, [1, (2, 3)])
    np.testing.assert_array_equal(args[5], a)
    assert type(args[6]) is np.float32 and args[7] == 1 + 2j
    np.testing.assert_array_equal(kwargs["k"]["x"], a)
    xs, arr = [1, 2], np.zeros(3)
    result, args_after, _ = m.mutate.call_capturing_args(xs, arr)
    assert result == 3 and args_after[0] == [1, 2, 99] and args_after[1][0] == -1.0
    assert xs == [1, 2] and arr[0] == 0.0
    assert m.stats() == (2, "1/3")
    assert m.CONST == 7


def test_student_exceptions_map_to_builtins_or_student_exception(student) -> None:
    p = student(m="""
        class MyKey(KeyError): pass
        class Mine(Exception): pass
        class Weird(BaseException): pass
        class ValueError(Exception): pass   # a fake 'ValueError' must not become the builtin one
        def raise_(kind):
            if kind == "value":
                raise __import__("builtins").ValueError("bad value " + "x" * 2000)
            if kind == "key": raise MyKey("k")
            if kind == "mine": raise Mine("mine")
            if kind == "weird": raise Weird("w")
            if kind == "fake": raise ValueError("fake")
            if kind == "notimpl": raise NotImplementedError
            if kind == "zero": return 1 / 0
            if kind == "rec":
                def f(): return f()
                return f()
    """)
    m = p.module("m")
    with pytest.raises(ValueError) as info:
        m.raise_("value")
    assert cause_of(info.value) == "exception" and len(str(info.value)) <= 500
    with pytest.raises(KeyError):
        m.raise_("key")
    with pytest.raises(Exception) as info:
        m.raise_("mine")
    assert type(info.value) is Exception and str(info.value) == "mine"
    with pytest.raises(StudentException, match="Weird"):
        m.raise_("weird")
    with pytest.raises(Exception) as info:
        m.raise_("fake")
    assert type(info.value) is Exception
    with pytest.raises(NotImplementedError) as info:
        m.raise_("notimpl")
    assert cause_of(info.value) == "not_implemented"
    with pytest.raises(ZeroDivisionError):
        m.raise_("zero")
    with pytest.raises(RecursionError):
        m.raise_("rec")


def test_import_errors_are_per_module_and_sticky(student) -> None:
    p = student(broken="def f(:\n    pass\n", backprop="def g():\n    return 1\n",
                optim="import backprop\ndef h():\n    return backprop.g() + 1\n")
    for _ in range(2):
        with pytest.raises(StudentImportError, match=r"SyntaxError at line 1"):
            p.module("broken")
    assert p.module("optim").h() == 2
    assert p.module("backprop").g() == 1
    with pytest.raises(StudentImportError, match="no file"):
        p.module("missing")


def test_timeout_then_a_fresh_worker_and_stale_handles(student) -> None:
    p = student(time_limit=1.0, autodiff=AUTODIFF, m="""
        def spin():
            while True:
                pass
        def ok():
            return 5
    """)
    x = p.module("autodiff").V(2.0)
    m = p.module("m")
    t0 = time.monotonic()
    with pytest.raises(StudentTimeout):
        m.spin()
    assert time.monotonic() - t0 < 2.5
    assert m.ok() == 5  # module handles and module functions re-resolve in the new worker
    with pytest.raises(StudentTimeout, match=r"lost when an earlier call \(m.spin\(\)\) exceeded"):
        x.data  # the object died with the timed-out worker: the message names that timeout


def test_exits_and_crashes_are_never_a_pass(student) -> None:
    p = student(exit_at_import="import sys\nsys.exit(0)\n", osexit_at_import="import os\nos._exit(0)\n",
                m="""
        import os, sys, signal
        def sys_exit(): sys.exit(0)
        def os_exit(): os._exit(0)
        def segv():
            import ctypes
            return ctypes.string_at(0)   # a real fault
        def ok(): return 1
    """)
    with pytest.raises(StudentImportError, match=r"called exit\(0\)"):
        p.module("exit_at_import")
    for _ in range(2):
        with pytest.raises(StudentImportError, match="exit status 0"):
            p.module("osexit_at_import")
    m = p.module("m")
    with pytest.raises(StudentCrash, match="sys.exit"):
        m.sys_exit()
    assert m.ok() == 1
    with pytest.raises(StudentCrash, match="exit status 0"):
        m.os_exit()
    assert m.ok() == 1
    with pytest.raises(StudentCrash, match="SIGSEGV"):
        m.segv()
    assert m.ok() == 1


def test_output_is_kept_bounded_and_never_blocks(student) -> None:
    p = student(m="""
        import os, sys
        def spam():
            print("hello from the student")
            for _ in range(20000):
                print("x" * 100)
            os.write(2, b"y" * (4 << 20))
            return 42
    """)
    t0 = time.monotonic()
    assert p.module("m").spam() == 42
    assert time.monotonic() - t0 < 5
    out = p.output()
    assert out.startswith("hello from the student")
    kept, note = out.split("\n[... ")
    assert len(kept.encode()) == 8192
    written = len("hello from the student\n") + 20000 * 101 + (4 << 20)
    assert note == f"{written - 8192} more bytes of output dropped]", "what is dropped is counted"


def test_output_past_the_read_budget_closes_the_pipe(student, monkeypatch) -> None:
    from autograder.sandbox import remote

    monkeypatch.setattr(remote, "OUTPUT_READ_BUDGET", 1 << 20)
    p = student(m="""
        import os
        def spam():
            for _ in range(64):
                os.write(1, b"z" * 65536)
            return 42
    """)
    with pytest.raises(Exception, match="Broken pipe") as info:
        p.module("m").spam()
    assert cause_of(info.value) == "exception", "the student's own write failed: the student's error"
    note = p.output().rpartition("\n[... at least ")[2]
    dropped = int(note.split()[0])
    assert note.endswith(" more bytes of output dropped]")
    assert (1 << 20) - 8192 <= dropped < (1 << 20) - 8192 + 65536, "read stops at the budget (one read past it at most)"


def test_writers_that_outlive_the_call_cannot_hold_close(student) -> None:
    """Children writing forever: the worker is killed before its output is drained, and the drain ends."""
    p = student(m="""
        import os
        def spam():
            # more than the 8 KiB kept, written first: once the children have flooded the pipe past the
            # grader's read budget it is closed, and a write after the forks could get EPIPE (a race)
            os.write(1, b"w" * 16384)
            for _ in range(3):
                if os.fork() == 0:
                    # a child must never return into the worker's loop: once the pipe is closed its
                    # EPIPE would otherwise become a second reply racing the parent's 42
                    try:
                        while True:
                            os.write(1, b"w" * 4096)
                    finally:
                        os._exit(0)
            return 42
    """)
    assert p.module("m").spam() == 42
    p.close()
    assert "more bytes of output dropped]" in p.output()


def test_provider_works_in_a_forked_child(sandbox, tmp_path) -> None:
    folder = tmp_path / "kid"
    folder.mkdir()
    (folder / "m.py").write_text("def f(x):\n    return x * 2\n")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            p = sandbox.provider(folder, student_id="kid")
            os.write(w, str(p.module("m").f(21)).encode())
            p.close()
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 100) == b"42" and os.waitstatus_to_exitcode(status) == 0
    os.close(r)


def test_protections_and_speed(sandbox, student) -> None:
    for name in ("process", "uid", "rlimits", "netns", "mntns", "pidns", "landlock", "seccomp", "no_new_privs"):
        assert name in sandbox.protections
    assert "landlock" in sandbox.describe()
    p = student(m="def f(x):\n    return x\n")
    f = p.module("m").f
    f(0)
    t0 = time.perf_counter()
    for i in range(200):
        assert f(i) == i
    assert (time.perf_counter() - t0) / 200 < 0.005


def test_checks_reject_handles_for_numbers(student) -> None:
    p = student(m="""
        class Liar:
            def __eq__(self, other): return True
            def __float__(self): return 1.0
        def liar(): return Liar()
    """)
    value = p.module("m").liar()
    with pytest.raises(BadReturnValue):
        checks.check_close(value, 1.0, name="x")


def _uptime_ticks() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK")


def test_a_prestarted_worker_starts_before_its_first_use_and_is_the_one_used(student) -> None:
    p = student(when="""
        def started():
            with open("/proc/self/stat") as f:  # field 22: the process's start, in clock ticks since boot
                return int(f.read().rsplit(")", 1)[1].split()[19])
        def double(x):
            return 2 * x
    """)
    p.prestart()
    time.sleep(2.0)  # the zygote starts it meanwhile (tens of milliseconds when idle)
    first_use = _uptime_ticks()
    when = p.module("when")
    assert when.started() < first_use, "the worker was started by the first use, not by prestart()"
    assert when.double(21) == 42
    p.prestart()  # a worker is running: nothing more is asked for
    assert when.started() < first_use


def test_a_prestarted_worker_that_is_never_used_is_stopped_by_close(student) -> None:
    p = student(unused="def f():\n    return 1\n")
    p.prestart()
    assert p._requested is not None, "a worker was asked for"
    p.close()  # takes the worker it asked for and stops it like any other, clean-up awaited
    assert p.worker_uid is None
    assert p._requested is None, "the request to the zygote is closed"
