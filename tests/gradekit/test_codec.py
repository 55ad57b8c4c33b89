"""The codec copies plain data exactly and never lets an object through as data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit import codec


class SneakyFloat(float):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True


@pytest.mark.parametrize(
    "value",
    [None, True, 3, -2**70, 2.5, float("inf"), -float("inf"), 1 + 2j, "text", [1, [2.0]], (1, (2, "x")),
     {"a": 1, "b": [np.float32(2)]}, np.arange(6).reshape(2, 3), np.zeros((0, 3)), np.array(3.5),
     np.array([1 + 1j]), np.int64(7), np.bool_(True), np.array([True, False])],
)
def test_plain_values_round_trip_exactly(value: object) -> None:
    back = codec.decode(codec.loads(codec.dumps(codec.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    else:
        assert back == value


def test_nan_survives_as_nan() -> None:
    assert math.isnan(codec.decode(codec.loads(codec.dumps(codec.encode(float("nan"))))))


@pytest.mark.parametrize(
    "value",
    [SneakyFloat(1.0), AlwaysEqual(), np.array([object()], dtype=object), np.array(["a"]),
     np.ma.masked_array([1.0]), {1: "int key"}, lambda: 0, np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])],
)
def test_objects_and_subclasses_are_not_plain(value: object) -> None:
    with pytest.raises(codec.NotPlainData):
        codec.encode(value)
    wire = codec.encode(value, ref=lambda obj: 0)
    assert wire["__ref__"] == 0


@pytest.mark.parametrize(
    "wire",
    [
        b'{"__ndarray__": "|O", "shape": [1], "data": "AAAAAAAAAAA="}',
        b'{"__ndarray__": "<f8", "shape": [2], "data": "AAAAAAAAAAA="}',
        b'{"__ndarray__": "<f8", "shape": [-1], "data": ""}',
        b'{"__npscalar__": "<U1", "data": "YQAAAA=="}',
        b'{"__pickle__": "gASVAAAAAAAAAAA="}',
        b'{"__tuple__": [1], "extra": 2}',
        b'{"a": 1, "a": 2}',
        b'NaN',
        b'{"__ref__": 1, "type": "X"}',
        b'\xff\xfe',
    ],
)
def test_malformed_wire_data_is_refused(wire: bytes) -> None:
    with pytest.raises(codec.DecodeError):
        codec.decode(codec.loads(wire))


def test_plainify_copies_arrays() -> None:
    original = np.zeros(3)
    copy = codec.plainify(original)
    copy[0] = 1
    assert original[0] == 0


def test_deep_nesting_is_refused() -> None:
    value: list = []
    for _ in range(100):
        value = [value]
    with pytest.raises(codec.NotPlainData):
        codec.encode(value)
