"""A stand-in for the viamlite firmware, in Python, on a TCP socket (pyserial ``socket://``).

It speaks the serial framing and the firmware's subset as ISSUE 7 specifies it (HELLO
first or ERROR 9, the fixed resources board/servo0..3/encoder0..1, attach with a pulse
range, the watchdog), so the serial plugin's link can be tested without the AVR
toolchain: unplugging (the listener goes away), a board reset (state and HELLO lost), a
silent device. The real firmware runs in the simulator in test_serial_plugin_sim.py.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

import msgpack

from viamlite.fastpath import schema as S
from viamlite.fastpath.framing import SerialDecoder, encode_serial

NAMES = {"board": (1, "rdk:component:board"), **{f"servo{i}": (2 + i, "rdk:component:servo") for i in range(4)},
         "encoder0": (6, "rdk:component:encoder"), "encoder1": (7, "rdk:component:encoder")}


class FirmwarePeer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.conn: socket.socket | None = None
        self.calls: list[tuple[str, str, list]] = []
        self.hellos: list[dict] = []
        self.silent = False
        self.stopped = False
        self._reset_state("power-on")
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._watchdog, daemon=True).start()

    # -- device state -------------------------------------------------------------------
    def _reset_state(self, cause: str) -> None:
        self.boot = time.monotonic()
        self.helloed = False
        self.reset_cause = cause
        self.timeout_ms = 0
        self.on_timeout = "release"
        self.last_rx = time.monotonic()
        self.servos = [{"attached": False, "pin": 0, "angle": 0, "min": 500, "max": 2500} for _ in range(4)]
        self.encoders = [{"attached": False, "pins": (0, 0), "count": 0} for _ in range(2)]
        self.gpio: dict[int, bool] = {}
        self.adc = {pin: 100 * (pin - 13) for pin in range(14, 20)}

    def device_ns(self) -> int:
        return int((time.monotonic() - self.boot) * 1e9)

    def reset(self) -> None:
        """The reset button: state and HELLO are lost; the connection (the USB link) stays."""
        with self.lock:
            self._reset_state("external")

    def unplug(self) -> None:
        """The cable is pulled: the connection drops and nobody answers until :meth:`plug`."""
        with self.lock:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (Linux)
            except OSError:
                pass
            self.listener.close()
            if self.conn is not None:
                try:
                    self.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.conn.close()
                self.conn = None
            self._reset_state("power-on")  # USB power went with it

    def plug(self) -> None:
        with self.lock:
            self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stopped = True
        self.unplug()

    # -- the line -------------------------------------------------------------------------
    def _accept(self) -> None:
        listener = self.listener
        while not self.stopped:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                self.conn = conn
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, msg: list) -> None:
        try:
            conn.sendall(encode_serial(msgpack.packb(msg)))
        except OSError:
            pass

    def _serve(self, conn: socket.socket) -> None:
        decoder = SerialDecoder(128)
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            for payload in decoder.feed(data):
                if self.silent:
                    continue
                with self.lock:
                    if conn is not self.conn:
                        return
                    self.last_rx = time.monotonic()
                    reply = self._handle(msgpack.unpackb(payload))
                if reply is not None:
                    self._send(conn, reply)

    def _watchdog(self) -> None:
        while not self.stopped:
            time.sleep(0.01)
            with self.lock:
                if not self.helloed or not self.timeout_ms:
                    continue
                silent_ms = (time.monotonic() - self.last_rx) * 1000
                if silent_ms < self.timeout_ms:
                    continue
                released = [f"servo{i}" for i, s in enumerate(self.servos) if s["attached"]]
                if self.on_timeout == "release":
                    for s in self.servos:
                        s["attached"] = False
                self.last_rx = time.monotonic()  # once per silence
                conn = self.conn
            if released and conn is not None:
                self._send(conn, [S.EVENT, 0, 0, 4, f"watchdog: host silent for {self.timeout_ms} ms; "
                                                   f"released {', '.join(released)}"])

    # -- messages ---------------------------------------------------------------------------
    def _handle(self, msg: list) -> list | None:
        kind, rid = msg[0], msg[1]
        if kind == S.SETPOINT:
            return None
        if not self.helloed and kind != S.HELLO:
            return [S.ERROR, rid, 9, "send HELLO first"]
        if kind == S.HELLO:
            options = msg[3]
            self.hellos.append(options)
            self.helloed = True
            self.timeout_ms = int(options.get("session_timeout_ms", 0))
            self.on_timeout = options.get("on_timeout", "release")
            return [S.RESULT, rid, {"version": 1, "device": "viamlite-fw atmega328p (python peer)", "fw": "0.1.0",
                                    "caps": ["call", "ping", "watchdog"], "methods": list(S.FIRMWARE_METHODS),
                                    "max_frame": 128, "reset": self.reset_cause, "servos": 4, "encoders": 2,
                                    "time_ns": self.device_ns()}]
        if kind == S.PING:
            return [S.RESULT, rid, self.device_ns()]
        if kind == S.RESOLVE:
            if msg[2] not in NAMES:
                return [S.ERROR, rid, 5, f"no resource {msg[2]!r}; resources: {', '.join(NAMES)}"]
            handle, api = NAMES[msg[2]]
            return [S.RESULT, rid, [handle, api, list(S.FIRMWARE_METHODS)]]
        if kind == S.CALL:
            handle, method, args = msg[2], msg[3], msg[4]
            name = next(n for n, (h, _) in NAMES.items() if h == handle)
            self.calls.append((name, S.BY_ID[method].name, list(args)))
            try:
                return [S.RESULT, rid, self._call(name, method, args)]
            except Failure as exc:
                return [S.ERROR, rid, exc.args[0], exc.args[1]]
        return [S.ERROR, rid, 12, f"message type {kind} is not supported"]

    def _pin_user(self, pin: int) -> str | None:
        for i, s in enumerate(self.servos):
            if s["attached"] and s["pin"] == pin:
                return f"servo{i}"
        for i, e in enumerate(self.encoders):
            if e["attached"] and pin in e["pins"]:
                return f"encoder{i}"
        return None

    def _call(self, name: str, method: int, args: list) -> Any:
        if method in (4,):
            return None
        if method == 5:
            return False
        if name == "board":
            if method == 40:
                user = self._pin_user(args[0])
                if user:
                    raise Failure(9, f"pin {args[0]} is used by {user}")
                self.gpio[args[0]] = bool(args[1])
                return None
            if method == 41:
                return self.gpio.get(args[0], False)
            if method == 46:
                pin = args[0] + 14 if args[0] < 6 else args[0]
                return [self.adc[pin], 0.0, 5.0, 0.0048828125]
            if method == 50:
                for s in self.servos:
                    if s["attached"] and s["pin"] == args[0]:
                        return round(s["min"] + (s["max"] - s["min"]) * s["angle"] / 180)
                raise Failure(4, f"no pulse on pin {args[0]}")
            if method == 3:
                return {"uptime_ms": self.device_ns() // 1_000_000, "reset": self.reset_cause}
        if name.startswith("servo"):
            s = self.servos[int(name[5:])]
            if method == 12:
                pin, low, high = args[0], (args[1:2] or [500])[0], (args[2:3] or [2500])[0]
                user = self._pin_user(pin)
                if user and user != name:
                    raise Failure(9, f"pin {pin} is used by {user}")
                s.update(attached=True, pin=pin, min=low, max=high)
                return None
            if method == 13:
                s["attached"] = False
                return None
            if method == 10:
                if not isinstance(args[0], int) or not 0 <= args[0] <= 180:
                    raise Failure(3, f"{name}: angle {args[0]!r} out of range 0..180")
                if not s["attached"]:
                    raise Failure(9, f"{name} is not attached; call attach(pin) first")
                s["angle"] = args[0]
                return None
            if method == 11:
                return s["angle"]
            if method == 14:
                return [s["angle"], round(s["min"] + (s["max"] - s["min"]) * s["angle"] / 180), 0, 0]
            if method == 3:
                return {"attached": s["attached"], "pin": s["pin"], "angle": s["angle"]}
        if name.startswith("encoder"):
            e = self.encoders[int(name[7:])]
            if method == 63:
                e.update(attached=True, pins=(args[0], args[1]), count=0)
                return None
            if method == 60:
                return [e["count"], 1]
            if method == 61:
                e["count"] = 0
                return None
            if method == 3:
                return {"attached": e["attached"], "pin_a": e["pins"][0], "pin_b": e["pins"][1], "count": e["count"]}
        raise Failure(12, f"{name} has no method {method}")


class Failure(Exception):
    """An ERROR reply: (code, message)."""
