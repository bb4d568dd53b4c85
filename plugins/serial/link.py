"""One link per serial port, shared by every resource on it.

A :class:`Link` owns the :class:`~viamlite.fastpath.client.FastPathClient` on the port and a
keeper thread that:

* pings often enough to feed the firmware's watchdog (HELLO ``session_timeout_ms`` =
  ``watchdog_ms``, ``on_timeout``), and logs the firmware's events (a watchdog release);
* notices an unplug (a port error, or pings that go unanswered), closes the port and opens
  it again with backoff (a :class:`~viamlite.reconnect.Reconnector` decides when); calls
  meanwhile raise :class:`LinkDownError` naming the port and what the link is doing;
* notices a board reset (ERROR 9 "send HELLO first", or a device clock that went back),
  says HELLO again and replays the resources' restore actions (servo attach and last
  angle, encoder attach) before calls go on.

The link's ``state`` is a :class:`~viamlite.state.ConnectionState`: DISCONNECTED (down),
CONNECTING (opening the port) and HANDSHAKE (HELLO and the restores: recovering), CONNECTED
(up), CLOSED. Status and messages keep the words ``up``/``down``/``recovering``/``closed``
(:data:`STATUS_WORDS`).

Resources get a link with :func:`acquire` and give it back with :meth:`Link.release`; the
last release closes the port. Indexes (``servo0``..) and pins are claimed per link, so two
resources cannot drive the same pin.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from viamlite_plugins.serial.settings import PortSettings

from viamlite.attributes import Attributes
from viamlite.errors import UnhealthyResourceError
from viamlite.reconnect import Backoff, Reconnector
from viamlite.state import ConnectionState

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 0.5
#: A lost frame is never answered: a call is sent again this many times in all.
ATTEMPTS = 3
#: How long a call waits for a link that is recovering before it gives up.
RECOVERY_WAIT_S = 3.0
#: Waits before reopening a lost port: 0.1 s, doubling up to 2 s.
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.1, 2.0
#: Pings without an answer before the link is declared down.
MISSED_PINGS = 3
IDLE_PING_S = 1.0
#: HELLOs sent before giving up: an Arduino resets when its port opens and its bootloader
#: keeps the line for about a second before the firmware answers.
HELLO_ATTEMPTS = 6
#: A device clock that started this much later than before (on a reopened port) means the board restarted.
RESTART_SLACK_S = 0.5

#: The word status() and messages give for each state.
STATUS_WORDS = {ConnectionState.CONNECTED: "up", ConnectionState.DISCONNECTED: "down",
                ConnectionState.CONNECTING: "recovering", ConnectionState.HANDSHAKE: "recovering",
                ConnectionState.CLOSED: "closed"}
_RECOVERING = (ConnectionState.CONNECTING, ConnectionState.HANDSHAKE)


class LinkDownError(UnhealthyResourceError):
    """The serial link is down or recovering; the message says which port and what is being done."""


class Link:
    """The fast-path client on one serial port, kept alive; see the module docstring."""

    def __init__(self, settings: PortSettings, *, open_client: Callable[..., Any] | None = None) -> None:
        self.settings = settings
        self.port = settings.port
        self._open_client = open_client or _open_client
        self.owners: list[str] = []
        self.claims: dict[str, str] = {}  # "servo0" / "pin 9" -> owner (resource name)
        self.shared_pins: dict[int, list[str]] = {}
        self._restores: list[tuple[str, Callable[["Link", bool], None]]] = []
        self._cond = threading.Condition(threading.RLock())
        self._client: Any = None
        self.state = ConnectionState.DISCONNECTED
        self.reason = "not opened yet"
        self.info: dict[str, Any] = {}
        self._boot: float | None = None  # host monotonic time the device clock started, estimated
        self.resets = 0
        self.reconnects = 0
        self.events: list[str] = []
        wd = settings.watchdog_ms
        self._ping_every = max(0.01, wd / 4000.0) if wd else IDLE_PING_S
        self._missed = 0
        self._keeper = Reconnector(state=lambda: self.state, check=self._ping, reconnect=self._reopen,
                                   check_interval=self._ping_every,
                                   backoff=Backoff(BACKOFF_FIRST_S, BACKOFF_MAX_S, 2.0, at_once=False),
                                   name=f"serial-link {self.port}")

    # -- lifetime ---------------------------------------------------------------------
    def start(self) -> None:
        """Open the port and shake hands (raising PortError / TimeoutError), then start the keeper."""
        with self._cond:
            self._connect(first=True)
        self._keeper.start()

    def close(self) -> None:
        self._keeper.stop(timeout=5)
        with self._cond:
            self._drop_client("closed")
            self.state, self.reason = ConnectionState.CLOSED, "the link was closed"
            self._cond.notify_all()

    def release(self, owner: str) -> None:
        """``owner`` no longer uses the link: its claims and restores go; the last owner closes it."""
        with _LINKS_LOCK:
            with self._cond:
                if owner in self.owners:
                    self.owners.remove(owner)
                self.claims = {k: v for k, v in self.claims.items() if v != owner}
                for pin in list(self.shared_pins):
                    users = [u for u in self.shared_pins[pin] if u != owner]
                    if users:
                        self.shared_pins[pin] = users
                    else:
                        del self.shared_pins[pin]
                self._restores = [r for r in self._restores if r[0] != owner]
                last = not self.owners
            key = port_key(self.port)
            if last and _LINKS.get(key) is self:
                del _LINKS[key]
        if last:
            self.close()

    # -- claims -----------------------------------------------------------------------
    def claim_index(self, kind: str, count: int, owner: str, wanted: int | None,
                    attrs: Attributes, key: str = "index") -> int:
        """Claim ``kind<i>`` (``servo0``); the first free one when ``wanted`` is None."""
        with self._cond:
            if wanted is not None:
                holder = self.claims.get(f"{kind}{wanted}")
                if holder is not None and holder != owner:
                    raise attrs.fail(key, f"{kind}{wanted} on {self.port} is already used by {holder!r}",
                                     f"pick another {key} (0 to {count - 1}) or leave {key} out for the first free one")
                self.claims[f"{kind}{wanted}"] = owner
                return wanted
            for i in range(count):
                if self.claims.get(f"{kind}{i}") in (None, owner):
                    self.claims[f"{kind}{i}"] = owner
                    return i
            users = ", ".join(repr(self.claims[f"{kind}{i}"]) for i in range(count))
            raise attrs.fail(key, f"all {count} {kind}s of the firmware on {self.port} are in use ({users})",
                             f"remove a {kind} from this port or put this one on another board")

    def claim_pin(self, pin: int, owner: str, attrs: Attributes, key: str, *, shared: bool = False) -> None:
        """Claim ``pin`` for ``owner``: exclusive (a servo, an encoder) or ``shared`` (read by sensors)."""
        with self._cond:
            holder = self.claims.get(f"pin {pin}")
            if holder is not None and holder != owner:
                raise attrs.fail(key, f"pin {pin} on {self.port} is already used by {holder!r}",
                                 "wire this to a free pin and change the attribute")
            readers = [u for u in self.shared_pins.get(pin, ()) if u != owner]
            if not shared and readers:
                raise attrs.fail(key, f"pin {pin} on {self.port} is read by {', '.join(map(repr, readers))}",
                                 "wire this to a free pin and change the attribute")
            if shared:
                self.shared_pins.setdefault(pin, []).append(owner)
            else:
                self.claims[f"pin {pin}"] = owner

    def add_restore(self, owner: str, action: Callable[["Link", bool], None]) -> None:
        """Run ``action(link, reset)`` after each new HELLO, before calls go on (``reset``: the
        board is known to have restarted). It calls through :meth:`call_now`."""
        with self._cond:
            self._restores.append((owner, action))

    # -- calls ------------------------------------------------------------------------
    def call(self, resource: str, method: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        """Call ``method`` of firmware resource ``resource``; waits out a recovery, retries lost frames."""
        from viamlite.fastpath.errors import CallError, FailedPrecondition

        for attempt in range(ATTEMPTS):
            client = self._ready_client()
            try:
                return self._call(client, resource, method, args, timeout)
            except FailedPrecondition as exc:
                if "HELLO" not in str(exc):
                    raise
                self._reset_seen(client)
            except CallError:  # the firmware answered: its error is the caller's (DeadlineExceeded too)
                raise
            except TimeoutError:
                if attempt == ATTEMPTS - 1:
                    self._lost(client, f"{resource}.{method} went unanswered {ATTEMPTS} times")
                    raise LinkDownError(f"serial port {self.port}: the firmware did not answer {resource}.{method} "
                                        f"{ATTEMPTS} times in {timeout:g} s; reconnecting") from None
            except (ConnectionError, OSError) as exc:
                self._lost(client, str(exc))
                raise LinkDownError(f"serial port {self.port} failed during {resource}.{method}: {exc}; "
                                    "reconnecting") from None
            except (TypeError, AttributeError) as exc:
                if client is self._client:
                    raise
                # pyserial fails this way when another thread closed the port mid-read (link lost)
                raise LinkDownError(f"{self.describe()} (during {resource}.{method})") from exc
        raise LinkDownError(f"serial port {self.port}: the board kept resetting during {resource}.{method}")

    def call_now(self, resource: str, method: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        """A call on the current client without waiting for readiness (restore actions use it)."""
        from viamlite.fastpath.errors import CallError

        for attempt in range(ATTEMPTS):
            try:
                return self._call(self._client, resource, method, args, timeout)
            except CallError:
                raise
            except TimeoutError:
                if attempt == ATTEMPTS - 1:
                    raise

    @staticmethod
    def _call(client: Any, resource: str, method: str, args: tuple, timeout: float) -> Any:
        if client is None:
            raise ConnectionError("the port is closed")
        return client.call(client.resolve(resource), method, *args, timeout=timeout)

    def _ready_client(self) -> Any:
        deadline = time.monotonic() + RECOVERY_WAIT_S
        with self._cond:
            while self.state in _RECOVERING and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            if self.state is not ConnectionState.CONNECTED:
                raise LinkDownError(self.describe())
            return self._client

    def describe(self) -> str:
        """One line on the link's state, for errors and status."""
        if self.state is ConnectionState.CONNECTED:
            return f"serial port {self.port} is up"
        if self.state is ConnectionState.CLOSED:
            return f"serial port {self.port} is closed: its resources were removed"
        doing = "recovering" if self.state in _RECOVERING else "reconnecting with backoff"
        return f"serial port {self.port} is down ({self.reason}); {doing}. Is the board plugged in and powered?"

    def status(self) -> dict[str, Any]:
        with self._cond:
            up = self.state is ConnectionState.CONNECTED
            return {"port": self.port, "link": STATUS_WORDS[self.state], "reason": "" if up else self.reason,
                    "baud": self.settings.baud, "watchdog_ms": self.settings.watchdog_ms,
                    "resets": self.resets, "reconnects": self.reconnects, "device": self.info.get("device", ""),
                    "firmware": self.info.get("fw", ""), "last_reset": self.info.get("reset", ""),
                    "events": list(self.events[-5:])}

    # -- the keeper (run by a Reconnector: a ping every interval while up, reopening with backoff while down)
    def _ping(self) -> None:
        """Feed the watchdog and read the events; too many unanswered pings, or a port
        error, mark the link lost."""
        from viamlite.fastpath import schema as S
        from viamlite.fastpath.errors import FailedPrecondition

        client = self._client
        if client is None:
            return
        try:
            clock = client._request([S.PING, None], max(self._ping_every, 0.2))
            self._missed = 0
            if isinstance(clock, int) and client is self._client:
                self._track_clock(clock)
            self._drain_events(client)
        except TimeoutError:
            self._missed += 1
            if self._missed >= MISSED_PINGS:
                self._lost(client, f"{MISSED_PINGS} pings went unanswered")
                self._missed = 0
        except FailedPrecondition as exc:
            if "HELLO" in str(exc):
                self._reset_seen(client)
        except (ConnectionError, OSError) as exc:
            self._lost(client, str(exc))
        except Exception:  # the keeper must outlive a surprise
            log.exception("serial link %s: ping failed", self.port)

    def _reopen(self) -> None:
        """One attempt to open the port again and shake hands."""
        with self._cond:
            if self.state in (ConnectionState.CLOSED, ConnectionState.CONNECTED):
                return  # closed, or a caller recovered it meanwhile
        try:
            # Outside the lock: an unplugged board fails here at once, and callers
            # and status() are never held up by the port's driver.
            client = self._open_client(self.settings)
        except Exception as exc:
            with self._cond:
                self.reason = _short(exc)
            log.debug("serial link %s: reopening failed: %s", self.port, exc)
            return
        with self._cond:
            if self.state in (ConnectionState.CLOSED, ConnectionState.CONNECTED) or self._keeper.stopping:
                _close_quietly(client)
                return
            try:
                self._connect(client=client)
            except Exception as exc:
                self.reason = _short(exc)
                log.debug("serial link %s: reopening failed: %s", self.port, exc)

    def _drain_events(self, client: Any) -> None:
        events = client.events
        while events:
            event = events.pop(0)
            text = f"{event.message} (code {event.code})"
            log.warning("serial port %s: %s", self.port, text)
            with self._cond:
                self.events.append(text)
                del self.events[:-20]

    # -- recovery ---------------------------------------------------------------------
    def _connect(self, first: bool = False, client: Any = None) -> None:
        """Open the port (unless ``client`` is already open on it), say HELLO and replay
        restores; called with the lock held."""
        if client is None:
            self.state = ConnectionState.CONNECTING
            try:
                client = self._open_client(self.settings)
            except BaseException as exc:
                self.state = ConnectionState.DISCONNECTED
                self.reason = _short(exc)
                raise
        self._client = client
        self._hello_and_restore(client, reset=None if not first else False)
        if not first:
            self.reconnects += 1
            log.warning("serial port %s: reconnected (%s)", self.port, self.info.get("device", "device"))

    def _hello_and_restore(self, client: Any, reset: bool | None) -> None:
        """HELLO, then the restore actions (all of them when the board reset); lock held."""
        from viamlite.fastpath.serialport import hello_with_options

        s = self.settings
        self.state = ConnectionState.HANDSHAKE
        try:
            info = hello_with_options(client, client_name="viamlite serial plugin", attempts=HELLO_ATTEMPTS,
                                      session_timeout_ms=s.watchdog_ms, on_timeout=s.on_timeout)
            clock = info.get("time_ns")
            if reset is None:  # a reopened port: a device clock started later than before means a restart
                before = self._boot
                reset = not isinstance(clock, int) or before is None or \
                    time.monotonic() - clock / 1e9 > before + RESTART_SLACK_S
            if reset:
                self._boot = None
            if isinstance(clock, int):
                self._track_clock(clock)
            self.info = info
            if reset:
                self.resets += 1
                log.warning("serial port %s: the board reset (%s); restoring %d resource setting(s)", self.port,
                            info.get("reset", "cause unknown"), len(self._restores))
            for owner, action in list(self._restores):
                try:
                    action(self, reset)
                except Exception as exc:
                    log.error("serial port %s: restoring %r failed: %s", self.port, owner, exc)
                    self.events.append(f"restoring {owner!r} failed: {exc}")
        except BaseException as exc:
            self._drop_client(_short(exc))
            self.state, self.reason = ConnectionState.DISCONNECTED, f"handshake failed: {_short(exc)}"
            self._cond.notify_all()
            raise
        self.state, self.reason = ConnectionState.CONNECTED, ""
        self._cond.notify_all()

    def _track_clock(self, clock_ns: int) -> None:
        boot = time.monotonic() - clock_ns / 1e9
        if self._boot is None or boot < self._boot:  # the earliest estimate has the least latency in it
            self._boot = boot

    def _reset_seen(self, client: Any) -> None:
        """The firmware wants a HELLO: it restarted. Shake hands again on the same port."""
        with self._cond:
            if client is not self._client or self.state is not ConnectionState.CONNECTED:
                return  # someone else already recovered (or the link is down)
            log.warning("serial port %s: the firmware asks for HELLO: the board was reset", self.port)
            try:
                self._hello_and_restore(client, reset=True)
            except Exception as exc:
                log.warning("serial port %s: handshake after a reset failed: %s", self.port, exc)

    def _lost(self, client: Any, reason: str) -> None:
        with self._cond:
            if client is not self._client or self.state is ConnectionState.CLOSED:
                return
            log.warning("serial port %s lost: %s; reconnecting", self.port, reason)
            self._drop_client(reason)
            self.state, self.reason = ConnectionState.DISCONNECTED, reason
            self._cond.notify_all()
        self._keeper.wake()

    def _drop_client(self, reason: str) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:
                log.debug("serial port %s: closing the client: %s", self.port, exc)


def _open_client(settings: PortSettings) -> Any:
    from viamlite.fastpath.serialport import open_serial

    return open_serial(settings.port, settings.baud, timeout=CALL_TIMEOUT_S, hello=False)


def _short(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _close_quietly(client: Any) -> None:
    try:
        client.close()
    except Exception as exc:
        log.debug("closing an unused serial client: %s", exc)


def port_key(port: str) -> str:
    """One key per device: ``/dev/serial/by-id/...`` and the ``/dev/ttyACM0`` it names share a link."""
    return os.path.realpath(port) if port.startswith("/") else port


_LINKS: dict[str, Link] = {}
_LINKS_LOCK = threading.Lock()


def acquire(settings: PortSettings, owner: str, attrs: Attributes) -> Link:
    """The link on ``settings.port`` for ``owner``, opened if it is the first; settings must agree."""
    with _LINKS_LOCK:
        key = port_key(settings.port)
        link = _LINKS.get(key)
        if link is None:
            link = Link(settings)
            link.start()  # PortError / TimeoutError: the resource fails to build with that message
            _LINKS[key] = link
        else:
            differ = settings.differences(link.settings)
            if differ:
                key = differ[0]
                raise attrs.fail(key, f"{key} {getattr(settings, key)!r} differs from {getattr(link.settings, key)!r} "
                                 f"of {', '.join(map(repr, link.owners))} on the same port {settings.port}",
                                 f"give every resource on {settings.port} the same {key}")
        link.owners.append(owner)
        return link


def links() -> dict[str, Link]:
    """The open links by port (for tests and status)."""
    with _LINKS_LOCK:
        return dict(_LINKS)
