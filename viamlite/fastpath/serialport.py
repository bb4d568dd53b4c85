"""The fast path over a serial line: a :class:`FastPathClient` on a pyserial port.

The client speaks to sockets; :class:`SerialSocket` gives a pyserial port the few socket
methods it uses, so every client feature (pipelining, subscriptions, setpoint streams)
works unchanged over the serial framing of docs/fastpath.md §1.2.

    from viamlite.fastpath.serialport import open_serial
    with open_serial("/dev/ttyACM0", baud=500000) as fw:
        fw.call("servo0", "attach", 9)

``port`` is a device path or any pyserial URL (``socket://HOST:PORT``, ``rfc2217://...``).
"""
from __future__ import annotations

import errno
import logging
import socket
import struct
import time
from typing import Any

from viamlite.errors import ViamliteError

log = logging.getLogger("viamlite.fastpath.serial")


class PortError(ViamliteError, OSError):
    """A serial port could not be opened; the message says why and how to fix it."""


class SerialSocket:
    """A pyserial port dressed as the blocking socket :class:`FastPathClient` expects."""

    def __init__(self, port: Any) -> None:
        self.port = port

    def sendall(self, data: bytes) -> None:
        self.port.write(data)

    def recv(self, size: int) -> bytes:
        port = self.port
        try:
            waiting = port.in_waiting
            data = port.read(min(size, waiting) if waiting else 1)
        except (TypeError, AttributeError, ValueError):
            return b""  # closed by another thread while this one waited: the end of the stream
        if not data:
            if not port.is_open:
                return b""
            raise socket.timeout("no data from the serial port")
        return data

    def settimeout(self, seconds: float | None) -> None:
        self.port.timeout = seconds

    def setsockopt(self, level: int, option: int, value: Any) -> None:
        if level == socket.SOL_SOCKET and option == socket.SO_RCVTIMEO:
            whole, micros = struct.unpack("ll", value)
            self.port.timeout = whole + micros / 1e6

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        self.port.close()


def open_port(port: str, baud: int, *, exclusive: bool = True, low_latency: bool = True) -> Any:
    """Open ``port`` at ``baud`` (8N1, no flow control); :class:`PortError` says what failed."""
    import serial

    try:
        ser = serial.serial_for_url(port, baudrate=baud, timeout=1.0, write_timeout=5.0,
                                    exclusive=exclusive, do_not_open=True)
    except ValueError as exc:
        raise PortError(errno.EINVAL, f"serial port {port!r}: {exc}; give a device path such as /dev/ttyACM0 "
                                      "or a pyserial URL") from None
    try:
        ser.open()
    except serial.SerialException as exc:
        raise PortError(exc.errno or errno.EIO, describe_open_failure(port, exc)) from None
    if low_latency:
        set_low_latency(ser)
    return ser


def describe_open_failure(port: str, exc: BaseException) -> str:
    """One line on why ``port`` did not open and what to do about it."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT or "No such file" in text:
        return (f"serial port {port} does not exist: is the board plugged in? "
                "(ls /dev/ttyACM* /dev/ttyUSB* lists the ports)")
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "lock" in text.lower():
        return (f"serial port {port} is busy: another program has it open (close it, "
                f"or find it with `fuser {port}`)")
    if code == errno.EACCES or "Permission denied" in text:
        return (f"no permission to open serial port {port}: add your user to the port's group "
                "(usually dialout) and log in again")
    return f"cannot open serial port {port}: {text}"


def set_low_latency(ser: Any) -> bool:
    """Ask the driver to deliver bytes at once (Linux ASYNC_LOW_LATENCY) where it can."""
    setter = getattr(ser, "set_low_latency_mode", None)
    if setter is None:
        log.debug("serial port %s: this platform offers no low-latency mode", ser.name)
        return False
    try:
        setter(True)
    except (OSError, ValueError, NotImplementedError) as exc:
        log.debug("serial port %s: low-latency mode not available (%s)", ser.name, exc)
        return False
    return True


def open_serial(port: str, baud: int = 115200, *, timeout: float = 2.0, hello: bool = True,
                session_timeout: float | None = None, client_name: str = "viamlite serial",
                max_frame: int = 256, **options: Any) -> Any:
    """A :class:`FastPathClient` on serial ``port``, after its HELLO when ``hello`` is true.

    A lone 0x00 goes first so the device drops any partial frame on the line. Extra
    keyword ``options`` go into the HELLO (for the firmware: ``on_timeout``).
    """
    from viamlite.fastpath.client import FastPathClient

    ser = open_port(port, baud)
    client = FastPathClient(SerialSocket(ser), framing="serial", timeout=timeout, max_frame=max_frame)
    try:
        ser.reset_input_buffer()
        ser.write(b"\x00")
        if hello:
            hello_with_options(client, session_timeout=session_timeout, client_name=client_name, **options)
    except BaseException:
        ser.close()
        raise
    return client


def hello_with_options(client: Any, *, session_timeout: float | None = None,
                       client_name: str = "viamlite serial", attempts: int = 3, **options: Any) -> dict:
    """HELLO with extra options; retried because a frame lost on a serial line is never answered."""
    from viamlite.fastpath.clientprotocol import ClientProtocol

    last: BaseException | None = None
    for _ in range(attempts):
        try:
            # a fresh message each try: the protocol gives each HELLO an id of its own
            hello = ClientProtocol.hello_request(session_timeout=session_timeout, client_name=client_name, **options)
            client.info = client._request(hello)
            return client.info
        except TimeoutError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"no HELLO reply from the serial device after {attempts} tries: {last}; "
                       "is the firmware running at this baud rate?")


__all__ = ["SerialSocket", "PortError", "open_port", "open_serial", "hello_with_options", "set_low_latency",
           "describe_open_failure"]
