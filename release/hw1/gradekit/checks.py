"""Checks that turn a student's return value into a verdict with a useful message.

Every check is strict before it is tolerant: the value must be plain numbers of the right shape
and finite where the expected value is finite; only then are values compared with the question's
tolerance. A failure raises `CheckFailure` whose message says what was checked, the expected and
received shape or value, the largest absolute and relative error against the tolerance, and a
hint. In hidden tests (see `context`) inputs and expected values never appear in a message.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from .context import current
from .errors import BadReturnValue, CheckFailure
from .handles import Handle

_TINY = 1e-300


def _fmt(x: Any) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.8g}"
    return repr(x)


def _fail(name: str, problem: str, lines: Sequence[str] = (), hint: str = "") -> None:
    parts = [f"{name}: {problem}"] + [f"  {line}" for line in lines if line]
    if hint:
        parts.append(f"  hint: {hint}")
    raise CheckFailure("\n".join(parts))


def _describe(value: Any) -> str:
    if isinstance(value, Handle):
        return f"a {value._gk_type} object"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    return f"a value of type {type(value).__name__}"


def _tolerance(rtol: float | None, atol: float | None) -> tuple[float, float]:
    ctx = current()
    return (ctx.rtol if rtol is None else rtol, ctx.atol if atol is None else atol)


def as_numeric_array(value: Any, *, name: str, allow_complex: bool = False) -> np.ndarray:
    """Convert a student's value to a float (or complex) array, refusing non-numbers clearly."""
    if isinstance(value, Handle) or _contains_handle(value):
        raise BadReturnValue(f"{name}: expected numbers, received {_describe(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        _fail(name, "expected a rectangular array of numbers, received a ragged or mixed value")
    kinds = "iufc" if allow_complex else "iuf"
    if arr.dtype.kind not in kinds:
        what = "booleans" if arr.dtype.kind == "b" else f"{arr.dtype.kind!r}-kind data ({arr.dtype})"
        _fail(name, f"expected numbers, received {what}")
    return arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)


def _contains_handle(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, (list, tuple)):
        return any(_contains_handle(v, depth + 1) for v in value)
    return isinstance(value, Handle)


def _compare(
    received: np.ndarray,
    expected: np.ndarray,
    *,
    name: str,
    rtol: float,
    atol: float,
    hint: str,
    extra: Callable[[np.ndarray, np.ndarray], list[str]] | None = None,
) -> None:
    hidden = current().hidden
    if received.shape != expected.shape:
        _fail(
            name,
            "wrong shape",
            [f"expected shape {expected.shape}, received shape {received.shape}"],
            hint,
        )
    finite = np.isfinite(expected)
    bad = finite & ~np.isfinite(received)
    if bad.any():
        where = "" if hidden else f" (first at index {tuple(int(i) for i in np.argwhere(bad)[0])})"
        _fail(
            name,
            f"received NaN or infinity at {int(bad.sum())} of {bad.size} positions{where}",
            [f"shape {expected.shape}"],
            hint or "look for overflow (exp of a large number) or a division by zero",
        )
    nonfinite_mismatch = ~finite & ~(received == expected) & ~(np.isnan(expected) & np.isnan(received))
    if nonfinite_mismatch.any():
        _fail(name, "infinite or NaN values differ from the expected ones", [], hint)
    with np.errstate(all="ignore"):
        err = np.where(finite, np.abs(received - expected), 0.0)
        allowed = atol + rtol * np.abs(np.where(finite, expected, 0.0))
        rel = np.where(finite & (expected != 0), err / np.maximum(np.abs(expected), _TINY), 0.0)
    if (err <= allowed).all():
        return
    ratio = np.where(allowed > 0, err / np.maximum(allowed, _TINY), np.inf)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.ndim else ()
    outside = err > allowed
    n_bad = int(outside.sum())
    lines = [f"shape {expected.shape}; {n_bad} of {err.size} values outside the tolerance"]
    if not hidden:
        at = f" at index {tuple(int(i) for i in worst)}" if worst else ""
        lines.append(f"worst{at}: expected {_fmt(expected[worst])}, received {_fmt(received[worst])}")
    # A relative error is only defined where the expected value is not 0; never print a made-up 0.
    rel_bad = outside & finite & (expected != 0)
    rel_text = (f"max rel error {float(rel[rel_bad].max()):.3g}" if rel_bad.any()
                else "no rel error (the expected values are 0 where they differ)")
    lines.append(f"max abs error {float(err.max()):.3g}, {rel_text}; tolerance rtol={rtol:g}, atol={atol:g}")
    if extra is not None:
        lines.extend(extra(received, expected))
    _fail(name, "values differ beyond the tolerance", lines, hint)


def check_array(
    received: Any,
    expected: Any,
    *,
    name: str,
    rtol: float | None = None,
    atol: float | None = None,
    hint: str = "",
) -> np.ndarray:
    """Check an array of numbers: exact shape, finiteness, then closeness; returns it as floats."""
    rtol, atol = _tolerance(rtol, atol)
    exp = np.asarray(expected)
    rec = as_numeric_array(received, name=name, allow_complex=exp.dtype.kind == "c")
    _compare(rec, exp.astype(rec.dtype), name=name, rtol=rtol, atol=atol, hint=hint)
    return rec


def check_gradient(
    received: Any,
    expected: Any,
    *,
    name: str,
    rtol: float | None = None,
    atol: float | None = None,
    hint: str = "",
) -> np.ndarray:
    """Like `check_array`, and the message also gives the gradient's relative error."""
    rtol, atol = _tolerance(rtol, atol)
    exp = np.asarray(expected, dtype=np.float64)
    rec = as_numeric_array(received, name=name)

    def relerr(r: np.ndarray, e: np.ndarray) -> list[str]:
        return [f"relative error ||received - expected|| / max(||received||, ||expected||) = {relative_error(r, e):.3g}"]

    _compare(rec, exp, name=name, rtol=rtol, atol=atol, hint=hint, extra=relerr)
    return rec


def check_close(
    received: Any,
    expected: float,
    *,
    name: str,
    rtol: float | None = None,
    atol: float | None = None,
    hint: str = "",
) -> float:
    """Check one real number (a Python or numpy scalar, or a 0-d array)."""
    rec = as_numeric_array(received, name=name)
    if rec.shape != ():
        _fail(name, f"expected a single number, received an array of shape {rec.shape}", [], hint)
    rtol, atol = _tolerance(rtol, atol)
    _compare(rec, np.asarray(float(expected)), name=name, rtol=rtol, atol=atol, hint=hint)
    return float(rec)


def check_int(received: Any, expected: int, *, name: str, hint: str = "") -> int:
    """Check an exact integer; floats (even 5.0) and bools are refused with a clear message."""
    if isinstance(received, Handle):
        raise BadReturnValue(f"{name}: expected an int, received {_describe(received)}")
    if isinstance(received, (bool, np.bool_)) or not isinstance(received, (int, np.integer)):
        shown = "" if current().hidden else f" {_fmt(received)}"
        _fail(name, f"expected an int, received{shown} ({type(received).__name__})", [], hint or "return an int, e.g. with //")
    if int(received) != int(expected):
        lines = [] if current().hidden else [f"expected {int(expected)}, received {int(received)}"]
        _fail(name, "wrong value", lines, hint)
    return int(received)


def check_equal(received: Any, expected: Any, *, name: str, hint: str = "") -> None:
    """Check exact equality of plain data (strings, ints, nested lists)."""
    if isinstance(received, Handle) or _contains_handle(received):
        raise BadReturnValue(f"{name}: expected plain data, received {_describe(received)}")
    if type(received) is not type(expected) or received != expected:
        lines = [] if current().hidden else [f"expected {expected!r}", f"received {received!r}"]
        _fail(name, "wrong value", lines, hint)


def check_true(condition: bool, *, name: str, hint: str = "", detail: str = "") -> None:
    """Check a property computed by the test; `detail` is shown in public tests only."""
    if not bool(condition):
        _fail(name, "property does not hold", [] if current().hidden else [detail], hint)


def check_raises(exc_type: type[BaseException], fn: Callable[..., Any], *args: Any, name: str, hint: str = "", **kwargs: Any) -> None:
    """Check that calling `fn` raises `exc_type` (a subclass counts)."""
    try:
        result = fn(*args, **kwargs)
    except exc_type:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # the student raised, but the wrong kind
        _fail(name, f"expected {exc_type.__name__}, but {type(exc).__name__} was raised", [], hint)
    shown = "" if current().hidden or isinstance(result, Handle) else f" and returned {_fmt(result)}"
    _fail(name, f"expected {exc_type.__name__} to be raised, but the call succeeded{shown}", [], hint)


def unpack(value: Any, n: int, *, name: str) -> tuple:
    """Check that the student returned a tuple or list of exactly `n` items, and return them."""
    if not isinstance(value, (tuple, list)):
        raise BadReturnValue(f"{name}: expected a tuple of {n} values, received {_describe(value)}")
    if len(value) != n:
        _fail(name, f"expected a tuple of {n} values, received {len(value)} values")
    return tuple(value)


def relative_error(a: Any, b: Any) -> float:
    """||a - b|| / max(||a||, ||b||): scale-free, 0 for identical arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), _TINY)
    return float(np.linalg.norm(a - b)) / denom


def numeric_gradient(f: Callable[[np.ndarray], float], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Centered finite differences of a scalar function `f` at the float array `x`."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = float(f(x))
        flat[i] = old - eps
        fm = float(f(x))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    if not math.isfinite(float(np.sum(grad))):
        raise ValueError("numeric gradient is not finite; choose another point")
    return grad
