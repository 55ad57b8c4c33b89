"""Handles: stand-ins for student objects that are not plain data (e.g. an autodiff `Value`).

A test may use a handle only through operators, attribute reads, calls, method calls, indexing
(`h[key]`), `len(h)` and bounded iteration (`for x in h`, at most MAX_ITEMS items, all fetched in
one operation); each use becomes one *operation* that the owner (the direct provider, or the
grader's sandbox worker) applies to the real object, and whose result comes back as plain data or
new handles. `len()` must give an int. Everything that would let student code answer a verdict on
the test's side (`==`, `bool()`, `float()`, `np.asarray`) is refused as a bad return value.
"""

from __future__ import annotations

from typing import Any

from .errors import BadReturnValue

# operator-module names of the binary operators a handle forwards
BINARY_OPS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")
UNARY_OPS = ("neg", "pos", "abs")
# the vocabulary of operations: ("getattr", name) | ("call", args, kwargs) |
# ("call_capture", args, kwargs) | ("binop", op, other) | ("rbinop", op, other) | ("unary", op) |
# ("getitem", key) | ("len",) | ("iter", max_items)
OPERATIONS = ("getattr", "call", "call_capture", "binop", "rbinop", "unary", "getitem", "len", "iter")
MAX_ITEMS = 10_000  # iterating a handle fetches at most this many items (a DataLoader's batches, ...)
# libraries a test may reach inside the student's process to build modules, optimizers and losses
LIBRARIES = ("torch",)


class Handle:
    """Base class: subclasses implement `_gk_apply(operation, *operands)`."""

    __slots__ = ("_gk_type",)

    def __init__(self, type_name: str) -> None:
        object.__setattr__(self, "_gk_type", type_name)

    def _gk_apply(self, operation: str, *operands: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._gk_apply("getattr", name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise BadReturnValue(f"tests may not set attributes on a {self._gk_type} object")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._gk_apply("call", args, kwargs)

    def call_capturing_args(self, *args: Any, **kwargs: Any) -> tuple[Any, tuple, dict]:
        """Call, and also return the arguments as the student's code left them."""
        return self._gk_apply("call_capture", args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._gk_type} object from student code>"

    def _gk_refuse(self, what: str) -> Any:
        raise BadReturnValue(
            f"got a {self._gk_type} object where {what} was expected; return plain numbers, "
            "numpy arrays, lists or tuples"
        )

    def __bool__(self) -> bool:
        return self._gk_refuse("a truth value")

    def __float__(self) -> float:
        return self._gk_refuse("a number")

    def __int__(self) -> int:
        return self._gk_refuse("an integer")

    def __index__(self) -> int:
        return self._gk_refuse("an integer")

    def __complex__(self) -> complex:
        return self._gk_refuse("a number")

    def __getitem__(self, key: Any) -> Any:
        return self._gk_apply("getitem", key)

    def __len__(self) -> int:
        n = self._gk_apply("len")
        if type(n) is not int:
            raise BadReturnValue(f"len() of a {self._gk_type} object did not give an int")
        return n

    def __iter__(self) -> Any:
        items = self._gk_apply("iter", MAX_ITEMS)
        if type(items) is not list:
            raise BadReturnValue(f"iterating a {self._gk_type} object did not give a list of items")
        return iter(items)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self._gk_refuse("an array")

    def __eq__(self, other: object) -> bool:
        return self._gk_refuse("a comparable value")

    def __ne__(self, other: object) -> bool:
        return self._gk_refuse("a comparable value")

    __hash__ = object.__hash__


def _binary(op: str) -> tuple[Any, Any]:
    def forward(self: Handle, other: Any) -> Any:
        return self._gk_apply("binop", op, other)

    def reflected(self: Handle, other: Any) -> Any:
        return self._gk_apply("rbinop", op, other)

    return forward, reflected


def _unary(op: str) -> Any:
    def apply(self: Handle) -> Any:
        return self._gk_apply("unary", op)

    return apply


for _op in BINARY_OPS:
    _fwd, _rev = _binary(_op)
    setattr(Handle, f"__{_op}__", _fwd)
    setattr(Handle, f"__r{_op}__", _rev)
for _op in UNARY_OPS:
    setattr(Handle, f"__{_op}__", _unary(_op))
del _op, _fwd, _rev
