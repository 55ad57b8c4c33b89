"""Framing: round trips, partial reads, and refusal of oversized lengths before reading the body."""

from __future__ import annotations

import socket
import struct

import pytest

from autograder.sandbox import wire


def test_round_trip_over_a_socket() -> None:
    a, b = socket.socketpair()
    with a, b:
        wire.send(a, {"__tuple__": [1, "x", None]})
        assert wire.recv(b) == {"__tuple__": [1, "x", None]}


def test_reader_handles_partial_and_back_to_back_messages() -> None:
    data = wire.pack([1]) + wire.pack({"__dict__": []})
    reader = wire.Reader()
    bodies = []
    for i in range(len(data)):
        reader.feed(data[i:i + 1])
        while (body := reader.take()) is not None:
            bodies.append(body)
    assert bodies == [b"[1]", b'{"__dict__":[]}']


def test_oversized_length_is_refused_before_the_body() -> None:
    reader = wire.Reader(max_size=1000)
    with pytest.raises(wire.WireError):
        reader.feed(struct.pack(">I", 1001))
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack(">I", 0xFFFFFFFF))
        with pytest.raises(wire.WireError):
            wire.recv(b)


def test_sending_an_oversized_message_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.frame(b"x" * 101, max_size=100)


def test_truncated_message_and_malformed_json() -> None:
    a, b = socket.socketpair()
    with b:
        a.sendall(struct.pack(">I", 10) + b"[1,")
        a.close()
        with pytest.raises(wire.PeerClosed):
            wire.recv(b)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(wire.frame(b"[NaN]"))
        with pytest.raises(wire.WireError):
            wire.recv(b)
