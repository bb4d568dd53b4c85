"""A fast-path client made of a bare socket, for the tests that check messages themselves:
bad input, exact codes and shapes, the order of what the server writes."""
from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import msgpack

from viamlite.fastpath import schema as S
from viamlite.fastpath.framing import StreamDecoder, encode_stream

WAIT = 5.0  # seconds a test waits for a message it is owed (never a measured bound)


class Raw:
    """A bare socket speaking stream frames; messages are decoded msgpack values."""

    def __init__(self, address: str) -> None:
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(address[5:])
        else:
            host, port = address.rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)))
        self.sock.settimeout(WAIT)
        self.decoder = StreamDecoder()
        self.frames: list[bytes] = []
        self.eof = False

    def send(self, *messages: Any) -> None:
        """Send ``messages`` in one write (raw ``bytes`` are sent as one frame's payload)."""
        data = b"".join(encode_stream(m if isinstance(m, bytes) else msgpack.packb(m)) for m in messages)
        self.sock.sendall(data)

    def send_bytes(self, data: bytes) -> None:
        """Send ``data`` as it is (framing included, or not)."""
        self.sock.sendall(data)

    def recv_payload(self) -> bytes:
        while not self.frames:
            if self.eof:
                raise ConnectionError("the server closed the connection")
            data = self.sock.recv(65536)
            if not data:
                self.eof = True
                continue
            self.frames += self.decoder.feed(data)
        return self.frames.pop(0)

    def recv(self) -> Any:
        return msgpack.unpackb(self.recv_payload())

    def recv_until(self, want: Callable[[Any], bool]) -> tuple[Any, list[Any]]:
        """The first message ``want`` accepts, and the messages before it."""
        before = []
        deadline = time.monotonic() + WAIT
        while True:
            assert time.monotonic() < deadline, f"no such message; got {before[-5:]}"
            message = self.recv()
            if want(message):
                return message, before
            before.append(message)

    def request(self, message: list) -> Any:
        """Send a request and return its reply (RESULT or ERROR with its id), skipping other messages."""
        self.send(message)
        reply, _ = self.recv_until(lambda m: m[0] in (S.RESULT, S.ERROR) and m[1] == message[1])
        return reply

    def hello(self, options: dict | None = None) -> dict:
        reply = self.request([S.HELLO, 1, S.VERSION, options or {}])
        assert reply[0] == S.RESULT, reply
        return reply[2]

    def resolve(self, name: str) -> int:
        reply = self.request([S.RESOLVE, 2, name, None])
        assert reply[0] == S.RESULT, reply
        return reply[2][0]

    def closed(self) -> bool:
        """True when the server closes the connection with no further message."""
        if self.frames:
            return False
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.frames += self.decoder.feed(data)
                if self.frames:
                    return False
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self) -> None:
        self.sock.close()
