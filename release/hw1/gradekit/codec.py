"""Plain-data encoding of values that cross the boundary between student code and the tests.

Only plain data is ever copied: None, bool, int, float, complex, str, numpy arrays and scalars of a
numeric dtype, torch tensors (dense, on the CPU, of a dtype numpy has: dtype, shape and values
exact; decoded as a new tensor without autograd history), and lists, tuples and str-keyed dicts of
those (`collections.OrderedDict`, e.g. a `state_dict()`, arrives as a dict; `torch.Size` as a tuple). Types are matched exactly
(`type(x) is float`), so a subclass that overrides `__eq__` or `__float__` is not plain. Anything
else becomes an opaque *reference* that the caller resolves (a handle in the grader, the object
itself in direct mode). The wire form is JSON, so decoding never runs code (no pickle).
"""

from __future__ import annotations

import base64
import json
import math
import sys
import warnings
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000  # containers' items in one value, in total
MAX_ARRAY_BYTES = 256 * 1024 * 1024
NUMERIC_KINDS = "biufc"

_MARKERS = ("__tuple__", "__dict__", "__ndarray__", "__npscalar__", "__complex__", "__ref__", "__float__",
            "__tensor__")

# -- decoder limits: what one message from the other side may cost this process ---------------------
# A hostile worker can send any bytes. They are refused before parsing when too large or holding
# too many values (a few tens of MB of `[],` would otherwise become gigabytes of lists), and while
# parsing for integers too long to convert or arrays numpy cannot build. Every refusal is a
# DecodeError, which the grader files as the student's bad return value.
MAX_WIRE_BYTES = 64 << 20  # one message's JSON text
MAX_WIRE_VALUES = 2 * MAX_ITEMS  # JSON values (and keys) in one message, counted before parsing
MAX_INT_DIGITS = 1000
MAX_NDIM = 32


class NotPlainData(TypeError):
    """A value cannot be encoded as plain data (and no reference table was given)."""


class DecodeError(ValueError):
    """Wire data does not follow the codec's format: treated as a bad return value."""


def _float(x: float) -> Any:
    # JSON has no NaN/inf; keep them exact and explicit instead of relying on non-standard tokens.
    if math.isfinite(x):
        return x
    return {"__float__": repr(x)}


def encode(value: Any, ref: Callable[[Any], int] | None = None) -> Any:
    """Turn `value` into JSON-able data; non-plain objects go through `ref` (or raise NotPlainData)."""
    budget = [MAX_ITEMS]

    def enc(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise NotPlainData("value is nested too deeply")
        budget[0] -= 1
        if budget[0] < 0:
            raise NotPlainData("value has too many items")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v
        if t is float:
            return _float(v)
        if t is complex:
            return {"__complex__": [_float(v.real), _float(v.imag)]}
        if t is np.ndarray and v.dtype.kind in NUMERIC_KINDS and v.dtype.fields is None:
            if v.nbytes > MAX_ARRAY_BYTES:
                raise NotPlainData("array is too large")
            data = np.ascontiguousarray(v)  # note: 0-d becomes 1-d here, so take the shape from v
            return {
                "__ndarray__": data.dtype.str,
                "shape": list(v.shape),
                "data": base64.b64encode(data.tobytes()).decode("ascii"),
            }
        if isinstance(v, np.generic) and t.__module__ == "numpy" and v.dtype.kind in NUMERIC_KINDS:
            return {"__npscalar__": v.dtype.str, "data": base64.b64encode(v.tobytes()).decode("ascii")}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"__tuple__": [enc(x, depth + 1) for x in v]}
        if (t is dict or t is OrderedDict) and all(type(k) is str for k in v):
            return {"__dict__": [[k, enc(x, depth + 1)] for k, x in v.items()]}
        torch_value = _encode_torch(v, lambda x: enc(x, depth + 1))
        if torch_value is not None:
            return torch_value
        if ref is None:
            raise NotPlainData(f"a value of type {t.__name__} is not plain data")
        return {"__ref__": ref(v), "type": str(getattr(t, "__name__", "object"))[:80]}

    return enc(value, 0)


def check_wire_size(data: bytes) -> None:
    """Refuse a message too large, or with too many values, before parsing it."""
    if len(data) > MAX_WIRE_BYTES:
        raise DecodeError(f"message of {len(data)} bytes exceeds the limit of {MAX_WIRE_BYTES} bytes")
    # every JSON value or key but the first follows one of these (counting those inside strings too,
    # so this is an upper bound)
    values = data.count(b",") + data.count(b"[") + data.count(b"{") + data.count(b":")
    if values > MAX_WIRE_VALUES:
        raise DecodeError(f"message holds more than {MAX_WIRE_VALUES} values")


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:
        raise DecodeError(f"an integer with more than {MAX_INT_DIGITS} digits")
    return int(text)


def _check_array(shape: list[int], dt: np.dtype) -> None:
    """Shape limits checked before numpy sees them: numpy's own refusals are ValueErrors."""
    if len(shape) > MAX_NDIM:
        raise DecodeError(f"array has {len(shape)} dimensions (at most {MAX_NDIM})")
    if math.prod(max(n, 1) for n in shape) * dt.itemsize > MAX_ARRAY_BYTES:
        raise DecodeError("array is too large")


def _dtype(spec: Any) -> np.dtype:
    if not isinstance(spec, str) or len(spec) > 8:
        raise DecodeError("bad dtype")
    try:
        with warnings.catch_warnings():  # deprecated aliases ("a") from the other side: refused below anyway
            warnings.simplefilter("ignore")
            dt = np.dtype(spec)
    except Exception as exc:  # noqa: BLE001 - TypeError, ValueError, SyntaxError for odd strings
        raise DecodeError("bad dtype") from exc
    if dt.kind not in NUMERIC_KINDS or dt.fields is not None or dt.hasobject:
        raise DecodeError(f"dtype {spec!r} is not numeric")
    return dt


def _b64(data: Any) -> bytes:
    if not isinstance(data, str):
        raise DecodeError("array data is not base64 text")
    try:
        return base64.b64decode(data.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise DecodeError("array data is not base64") from exc


def _decode_float(v: Any) -> float:
    if type(v) in (int, float):
        try:
            return float(v)
        except OverflowError:
            raise DecodeError("float out of range") from None
    if type(v) is dict and set(v) == {"__float__"} and v["__float__"] in ("nan", "inf", "-inf"):
        return float(v["__float__"])
    raise DecodeError("bad float")


def decode(obj: Any, ref: Callable[[int, str], Any] | None = None) -> Any:
    """Rebuild a value from `encode`'s output, strictly; `ref(id, type_name)` makes a handle."""

    def dec(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise DecodeError("value is nested too deeply")
        t = type(v)
        if v is None or t in (bool, int, str):
            return v
        if t is float:
            return v
        if t is list:
            return [dec(x, depth + 1) for x in v]
        if t is not dict or len(v) == 0:
            raise DecodeError(f"unexpected {t.__name__} on the wire")
        key = next(iter(v))
        if key == "__float__" and len(v) == 1:
            return _decode_float(v)
        if key == "__tuple__" and len(v) == 1 and type(v[key]) is list:
            return tuple(dec(x, depth + 1) for x in v[key])
        if key == "__dict__" and len(v) == 1 and type(v[key]) is list:
            out = {}
            for item in v[key]:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
                    raise DecodeError("bad dict item")
                out[item[0]] = dec(item[1], depth + 1)
            return out
        if key == "__complex__" and len(v) == 1 and type(v[key]) is list and len(v[key]) == 2:
            return complex(_decode_float(v[key][0]), _decode_float(v[key][1]))
        if key == "__ndarray__" and set(v) == {"__ndarray__", "shape", "data"}:
            raw, dt, shape = _wire_buffer(v, "__ndarray__", "array")
            try:
                return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
            except (ValueError, TypeError) as exc:
                raise DecodeError(f"array refused by numpy: {str(exc)[:100]}") from None
        if key == "__npscalar__" and set(v) == {"__npscalar__", "data"}:
            dt = _dtype(v["__npscalar__"])
            raw = _b64(v["data"])
            if len(raw) != dt.itemsize:
                raise DecodeError("scalar data does not match its dtype")
            try:
                return np.frombuffer(raw, dtype=dt)[0]
            except (ValueError, TypeError) as exc:
                raise DecodeError(f"scalar refused by numpy: {str(exc)[:100]}") from None
        if key == "__tensor__" and set(v) == {"__tensor__", "shape", "data"}:
            return _decode_tensor(v)
        if key == "__ref__" and set(v) == {"__ref__", "type"} and type(v[key]) is int:
            if ref is None or type(v["type"]) is not str:
                raise DecodeError("a reference where plain data was required")
            return ref(v[key], v["type"][:80])
        raise DecodeError("unknown object on the wire")

    return dec(obj, 0)


# ---------------------------------------------------------------- torch tensors (kept apart on purpose)


def _encode_torch(v: Any, enc: Callable[[Any], Any]) -> Any:
    """The encoding of a tensor or a torch.Size, or None when `v` is neither (or not plain).

    torch is never imported here: a value can only be a tensor if torch is already loaded. Types are
    matched exactly (Tensor, or Parameter, whose values are sent without the autograd state), so a
    student's subclass stays a handle; so do sparse, quantized, meta and non-CPU tensors, and dtypes
    numpy does not have (bfloat16, float8).
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    t = type(v)
    if t is torch.Size:
        return {"__tuple__": [enc(int(n)) for n in v]}
    if t is not torch.Tensor and t is not torch.nn.Parameter:
        return None
    if v.layout is not torch.strided or v.device.type != "cpu" or v.is_quantized:
        return None
    if v.dtype is torch.bfloat16 or (v.dtype.is_floating_point and v.element_size() == 1):
        return None
    if v.numel() * v.element_size() > MAX_ARRAY_BYTES:
        raise NotPlainData("tensor is too large")
    try:
        data = v.detach().resolve_conj().resolve_neg().contiguous().numpy()
    except (TypeError, RuntimeError):
        return None
    if data.dtype.kind not in NUMERIC_KINDS:
        return None
    return {
        "__tensor__": data.dtype.str,
        "shape": list(v.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def _wire_buffer(v: dict[str, Any], tag: str, what: str) -> tuple[bytes, np.dtype, tuple[int, ...]]:
    """The raw bytes, dtype and shape of an encoded array or tensor, checked against the decoder limits
    and against each other before numpy or torch sees them."""
    dt = _dtype(v[tag])
    shape = v["shape"]
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise DecodeError(f"bad {what} shape")
    _check_array(shape, dt)
    raw = _b64(v["data"])
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise DecodeError(f"{what} data does not match its shape")
    return raw, dt, tuple(shape)


def _decode_tensor(v: dict[str, Any]) -> Any:
    """A new CPU tensor with exactly the encoded dtype, shape and values (no autograd history)."""
    raw, dt, shape = _wire_buffer(v, "__tensor__", "tensor")
    try:
        import torch
    except ImportError as exc:
        raise DecodeError("a torch tensor arrived, but torch is not installed here") from exc
    try:
        return torch.from_numpy(np.frombuffer(raw, dtype=dt).reshape(shape).copy())
    except (ValueError, TypeError) as exc:  # e.g. a byte order or dtype torch does not take
        raise DecodeError(f"tensor refused by torch: {str(exc)[:100]}") from None


def dumps(value: Any) -> bytes:
    """Serialize encoded data to compact JSON bytes (no NaN tokens: `encode` already removed them)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


def loads(data: bytes) -> Any:
    """Parse JSON bytes from the other side, refusing NaN/Infinity tokens, duplicate keys, and
    anything past the decoder limits; raises only DecodeError."""
    check_wire_size(data)

    def no_constants(name: str) -> Any:
        raise DecodeError(f"non-standard JSON constant {name}")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise DecodeError("duplicate key")
            out[k] = v
        return out

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=pairs,
                          parse_int=_parse_int)
    except DecodeError:
        raise
    except (ValueError, RecursionError, MemoryError) as exc:  # UnicodeDecodeError, JSONDecodeError too
        raise DecodeError(f"malformed message: {type(exc).__name__}") from None


def plainify(value: Any, wrap: Callable[[Any, str], Any] = lambda obj, _type: obj) -> Any:
    """Copy `value` as the grader would receive it; `wrap(obj, type_name)` handles non-plain objects.

    Direct (student-mode) calls use this so that results are judged exactly as under the grader.
    """
    table: list[Any] = []

    def ref(obj: Any) -> int:
        table.append(obj)
        return len(table) - 1

    return decode(encode(value, ref), lambda i, type_name: wrap(table[i], type_name))


def is_plain(value: Any) -> bool:
    """True when `value` is plain data all the way down."""
    try:
        encode(value)
    except NotPlainData:
        return False
    return True
