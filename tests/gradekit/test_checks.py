"""Checks are strict before they are tolerant, and hidden messages never show values."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit import checks, context
from gradekit.errors import BadReturnValue, CheckFailure
from gradekit.handles import Handle


@pytest.fixture
def hidden() -> object:
    token = context.CURRENT.set(context.TestContext(hidden=True))
    yield
    context.CURRENT.reset(token)


class Opaque(Handle):
    __slots__ = ()

    def _gk_apply(self, operation: str, *operands: object) -> object:
        raise AssertionError("not used")


def test_close_values_pass_and_lists_are_accepted() -> None:
    out = checks.check_array([[1.0, 2.0]], np.array([[1.0, 2.0 + 1e-9]]), name="x")
    assert out.dtype == np.float64


def test_message_names_shape_errors_tolerance_and_hint() -> None:
    with pytest.raises(CheckFailure) as info:
        checks.check_array(np.array([1.0, 2.5]), np.array([1.0, 2.0]), name="sigmoid(x)", hint="check the sign")
    msg = str(info.value)
    for part in ("sigmoid(x)", "shape (2,)", "expected 2, received 2.5", "max abs error 0.5", "max rel error 0.25",
                 "rtol=1e-05", "hint: check the sign"):
        assert part in msg, (part, msg)


@pytest.mark.parametrize(("received", "expected"), [([0.0, 1e-3], [0.0, 0.0]), (1e-3, 0.0)])
def test_no_made_up_relative_error_when_expected_is_zero(received: object, expected: object) -> None:
    """A relative error of a value expected to be 0 is undefined: say so, never "max rel error 0"."""
    with pytest.raises(CheckFailure) as info:
        if np.ndim(expected):
            checks.check_array(np.array(received), np.array(expected), name="grad")
        else:
            checks.check_close(received, expected, name="loss")
    msg = str(info.value)
    assert "max rel error" not in msg and "no rel error (the expected values are 0 where they differ)" in msg, msg
    assert "max abs error 0.001" in msg


def test_relative_error_counts_the_values_outside_the_tolerance() -> None:
    with pytest.raises(CheckFailure) as info:
        checks.check_array(np.array([0.5, 4.0]), np.array([0.0, 2.0]), name="x")
    assert "max rel error 1;" in str(info.value), str(info.value)


def test_wrong_shape_is_refused_even_if_broadcastable() -> None:
    with pytest.raises(CheckFailure, match="wrong shape"):
        checks.check_array(np.ones((3, 1)), np.ones(3), name="x")


def test_nan_is_refused_where_expected_is_finite() -> None:
    with pytest.raises(CheckFailure, match="NaN or infinity"):
        checks.check_array([np.nan], [0.5], name="x")


@pytest.mark.parametrize("bad", [["a"], [True], [[1.0], [1.0, 2.0]], [object()]])
def test_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises((CheckFailure, BadReturnValue)):
        checks.check_array(bad, [1.0], name="x")


def test_handles_are_bad_return_values() -> None:
    with pytest.raises(BadReturnValue, match="Value object"):
        checks.check_array(Opaque("Value"), [1.0], name="x")
    with pytest.raises(BadReturnValue):
        checks.check_close(Opaque("Value"), 1.0, name="x")
    with pytest.raises(BadReturnValue):
        bool(Opaque("Value"))
    with pytest.raises(BadReturnValue):
        _ = Opaque("Value") == 1


def test_hidden_messages_hide_values(hidden: object) -> None:
    with pytest.raises(CheckFailure) as info:
        checks.check_array(np.array([0.123456, 7.5]), np.array([0.654321, 7.5]), name="x")
    msg = str(info.value)
    assert "0.123456" not in msg and "0.654321" not in msg and "index" not in msg
    assert "max abs error" in msg
    with pytest.raises(CheckFailure) as info:
        checks.check_int(41, 42, name="n")
    assert "42" not in str(info.value) and "41" not in str(info.value)


def test_check_int_refuses_floats_and_bools() -> None:
    assert checks.check_int(np.int64(5), 5, name="n") == 5
    with pytest.raises(CheckFailure, match="expected an int"):
        checks.check_int(5.0, 5, name="n")
    with pytest.raises(CheckFailure, match="expected an int"):
        checks.check_int(True, 1, name="n")


def test_check_raises() -> None:
    def bad() -> int:
        raise ValueError("no")

    checks.check_raises(ValueError, bad, name="f")
    with pytest.raises(CheckFailure, match="expected ValueError to be raised"):
        checks.check_raises(ValueError, lambda: 3, name="f")


def test_numeric_gradient_matches_analytic() -> None:
    x = np.array([0.3, -1.2, 2.0])
    grad = checks.numeric_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)
    assert checks.relative_error(grad, np.cos(x) * x + np.sin(x)) < 1e-8


def test_unpack() -> None:
    assert checks.unpack((1, 2), 2, name="f") == (1, 2)
    with pytest.raises(CheckFailure):
        checks.unpack((1, 2, 3), 2, name="f")
    with pytest.raises(BadReturnValue):
        checks.unpack(np.array([1, 2]), 2, name="f")
