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


# -- decoder limits: whatever the other side sends, the decoder raises only DecodeError ----------------


def decode_wire(data: bytes) -> object:
    return codec.decode(codec.loads(data), lambda i, t: ("ref", i, t))


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (b"1" * 5000, "more than 1000 digits"),
        (b'{"__complex__": [' + b"9" * 400 + b', 0]}', "float out of range"),
        (b'{"__ndarray__": "<f8", "shape": [' + b",".join([b"1"] * 40) + b'], "data": "AAAAAAAAAAA="}', "40 dimensions"),
        (b'{"__ndarray__": "<f8", "shape": [0, 1000000000000000000000000000000], "data": ""}', "too large"),
        (b'{"__ndarray__": "i4,", "shape": [1], "data": "AAAAAA=="}', "is not numeric"),
        (b'{"__ndarray__": "(1,)f", "shape": [1], "data": "AAAAAA=="}', "is not numeric"),
        (b'{"__ndarray__": "<M8[", "shape": [1], "data": "AAAAAAAAAAA="}', "bad dtype"),
        (b"[" + b"[]," * 2_100_000 + b"[]]", "more than 2000000 values"),
    ],
)
def test_decoder_limits(wire: bytes, words: str | None) -> None:
    with pytest.raises(codec.DecodeError) as info:
        decode_wire(wire)
    if words:
        assert words in str(info.value)


def test_message_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = codec.dumps(codec.encode("x" * 1000))
    assert codec.loads(data) == "x" * 1000
    monkeypatch.setattr(codec, "MAX_WIRE_BYTES", len(data) - 1)
    with pytest.raises(codec.DecodeError, match="exceeds the limit"):
        codec.loads(data)


def test_values_within_the_limits_still_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "MAX_ITEMS", 1000)  # the real limits scaled down, same ratio
    monkeypatch.setattr(codec, "MAX_WIRE_VALUES", 2000)
    for value in ([[] for _ in range(998)], [0.5] * 999, {"k": list(range(998))}):
        assert decode_wire(codec.dumps(codec.encode(value))) == value
    with pytest.raises(codec.DecodeError, match="more than 2000 values"):
        decode_wire(b"[" + b"[]," * 2000 + b"[]]")
    big = 10 ** (codec.MAX_INT_DIGITS - 1)
    assert decode_wire(codec.dumps(codec.encode([big, -big]))) == [big, -big]
    arr = np.zeros((1,) * codec.MAX_NDIM)
    assert decode_wire(codec.dumps(codec.encode(arr))).shape == arr.shape


def test_random_corruptions_raise_only_decode_errors() -> None:
    """Property: flipping, cutting or repeating bytes of real messages never raises anything else."""
    rng = np.random.default_rng(0)
    messages = [codec.dumps(codec.encode(v)) for v in
                ([1, 2.5, "a"], {"k": np.arange(6.0).reshape(2, 3)}, (1 + 2j, np.float32(3)), np.array([[True]]))]
    alphabet = b'[]{}",:0123456789-eE.\\u_ndarytplsh'
    for _ in range(3000):
        data = bytearray(messages[rng.integers(len(messages))])
        for _ in range(rng.integers(1, 4)):
            at = int(rng.integers(len(data)))
            choice = rng.integers(3)
            if choice == 0:
                data[at] = alphabet[rng.integers(len(alphabet))]
            elif choice == 1:
                del data[at:at + int(rng.integers(1, 5))]
            else:
                data[at:at] = data[at:at + int(rng.integers(1, 8))] * int(rng.integers(1, 50))
        try:
            decode_wire(bytes(data))
        except codec.DecodeError:
            pass
