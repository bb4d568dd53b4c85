"""One ConnectionState for every transport, the older names as aliases, and the client's
session keeper riding on the connection's hooks (no machine needed)."""
from __future__ import annotations

import ast
from pathlib import Path

import grpc

from viamlite.client.connection import Connection, State
from viamlite.client.session import SessionKeeper
from viamlite.remotes import LinkState
from viamlite.state import ConnectionState

ROOT = Path(__file__).resolve().parents[1]


def test_the_words_users_see_and_the_old_names() -> None:
    assert [s.value for s in ConnectionState] == ["connecting", "handshake", "connected", "disconnected", "closed"]
    assert State is ConnectionState and LinkState is ConnectionState
    assert ConnectionState.CONNECTED == "connected" and f"{ConnectionState.CLOSED}" == "closed"


def test_serial_status_keeps_its_words() -> None:
    from viamlite_plugins.serial.link import STATUS_WORDS

    assert set(STATUS_WORDS) == set(ConnectionState)
    assert STATUS_WORDS[ConnectionState.CONNECTED] == "up" and STATUS_WORDS[ConnectionState.DISCONNECTED] == "down"


def test_the_connection_module_does_not_import_the_session_module() -> None:
    tree = ast.parse((ROOT / "viamlite/client/connection.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "viamlite.client.session" not in imported


class _Expired(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.INVALID_ARGUMENT

    def details(self) -> str:
        return "SESSION_EXPIRED"


def _keeper_with_session() -> tuple[Connection, SessionKeeper]:
    conn = Connection("127.0.0.1:1")  # never opened
    keeper = SessionKeeper.attach(conn)
    keeper._id, keeper._window = "sid-1", 1.0  # as if StartSession had answered
    return conn, keeper


def test_the_keeper_attaches_through_the_hooks() -> None:
    conn, keeper = _keeper_with_session()
    assert conn.sessions is keeper
    assert conn.metadata("/viam.component.servo.v1.ServoService/GetPosition") == (("viam-sid", "sid-1"),)


def test_an_expired_session_is_forgotten_when_a_call_fails() -> None:
    conn, keeper = _keeper_with_session()
    conn.failure(_Expired(), "Move")
    assert keeper.id == "" and conn.metadata("/viam.robot.v1.RobotService/ResourceNames") == ()


def test_a_reconnect_forgets_the_session_and_closing_stops_the_keeper() -> None:
    conn, keeper = _keeper_with_session()
    conn._set_state(ConnectionState.CONNECTED)
    assert keeper.id == "sid-1"  # the first connect keeps it
    conn._set_state(ConnectionState.DISCONNECTED)
    conn._set_state(ConnectionState.CONNECTED)
    assert keeper.id == ""  # the machine may have restarted: the next move starts a new session
    keeper._id = "sid-2"
    conn.close()
    assert conn.state is ConnectionState.CLOSED and keeper.id == "" and keeper._closed


def test_state_listeners_hear_every_change_once() -> None:
    conn = Connection("127.0.0.1:1")
    heard: list[ConnectionState] = []
    conn.on_state_change(heard.append)
    conn._set_state(ConnectionState.CONNECTED)
    conn._set_state(ConnectionState.CONNECTED)
    conn.mark_down("gone")
    conn.close()
    conn.close()
    conn._set_state(ConnectionState.CONNECTED)  # closed for good
    assert heard == [ConnectionState.CONNECTED, ConnectionState.DISCONNECTED, ConnectionState.CLOSED]
    assert conn.last_error == "gone" and conn.state == "closed"
