"""Message framing over a stream socket: a 4-byte big-endian length, then that many bytes of JSON.

Both sides refuse a length above the maximum before reading the body, so a hostile worker cannot
make the grader allocate more than `max_size` bytes for one message.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from gradekit import codec

HEADER = struct.Struct(">I")
MAX_MESSAGE = 128 * 1024 * 1024


class WireError(Exception):
    """The peer broke the framing (oversized length, truncated message, malformed JSON)."""


class PeerClosed(WireError):
    """The peer closed the connection (between or in the middle of messages)."""


def frame(payload: bytes, max_size: int = MAX_MESSAGE) -> bytes:
    if len(payload) > max_size:
        raise WireError(f"message of {len(payload)} bytes exceeds the limit of {max_size} bytes")
    return HEADER.pack(len(payload)) + payload


def pack(obj: Any, max_size: int = MAX_MESSAGE) -> bytes:
    """Encode already codec-encoded data as one framed message."""
    return frame(codec.dumps(obj), max_size)


class Reader:
    """Incremental decoder: feed bytes, take complete messages. Refuses oversized lengths early."""

    def __init__(self, max_size: int = MAX_MESSAGE) -> None:
        self.max_size = max_size
        self.buffer = bytearray()
        self.need: int | None = None

    def feed(self, data: bytes) -> None:
        self.buffer += data
        self._check()

    def _check(self) -> None:
        if self.need is None and len(self.buffer) >= HEADER.size:
            (n,) = HEADER.unpack_from(self.buffer)
            if n > self.max_size:
                raise WireError(f"peer announced a message of {n} bytes (limit {self.max_size})")
            self.need = n

    def take(self) -> bytes | None:
        """The next complete message body, or None if more bytes are needed."""
        if self.need is None or len(self.buffer) < HEADER.size + self.need:
            return None
        end = HEADER.size + self.need
        body = bytes(self.buffer[HEADER.size:end])
        del self.buffer[:end]
        self.need = None
        self._check()
        return body


def send(sock: socket.socket, obj: Any, max_size: int = MAX_MESSAGE) -> None:
    """Blocking send of one message (used by the worker and the zygote; the grader uses its own loop)."""
    sock.sendall(pack(obj, max_size))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise PeerClosed("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, max_size: int = MAX_MESSAGE) -> Any:
    """Blocking receive of one message; PeerClosed on EOF, WireError on bad framing or JSON."""
    (n,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if n > max_size:
        raise WireError(f"peer announced a message of {n} bytes (limit {max_size})")
    body = _recv_exact(sock, n)
    try:
        return codec.loads(body)
    except codec.DecodeError as exc:
        raise WireError(str(exc)) from None
