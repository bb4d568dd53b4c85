"""API keys and TLS: the Authority on its own, then the real viam-sdk client against ``viamlite serve``."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.auth import Authority
from viamlite.errors import PermissionDeniedError, UnauthenticatedError
from viamlite.gen import robot_pb2
from viamlite.transport.dial import dial

from .conftest import ServeProcess, write_config

KEY_ID = "3f2a1c44-9d1e-4e59-8a7b-1b2c3d4e5f60"  # the viam-sdk insists on a UUID
KEY = "s3cret-key-value-0123456789"
OTHER_ID = "9b0e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
OTHER_KEY = "another-key-abcdef"


def auth_config(keys: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "components": [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"}],
        "auth": {"handlers": [{"type": "api-key", "config": {"keys": list(keys), **keys}}], **extra},
    }


# -- the authority -----------------------------------------------------------------


def test_token_names_its_key_and_rejections_do_not_say_which_part_was_wrong() -> None:
    keys = {KEY_ID: KEY}
    authority = Authority(lambda: keys, 60)
    token = authority.authenticate(KEY_ID, KEY)
    assert authority.verify(token) == KEY_ID
    assert authority.verify_bearer(f"Bearer {token}") == KEY_ID
    messages = set()
    for key_id, key in ((KEY_ID, "wrong"), ("unknown-id", KEY), ("", "")):
        with pytest.raises(PermissionDeniedError) as info:
            authority.authenticate(key_id, key)
        messages.add(str(info.value))
    assert len(messages) == 1  # the same words whatever was wrong
    with pytest.raises(PermissionDeniedError, match="api-key"):
        authority.authenticate(KEY_ID, KEY, "password")


def test_bad_missing_forged_expired_and_revoked_tokens_are_unauthenticated() -> None:
    keys = {KEY_ID: KEY, OTHER_ID: OTHER_KEY}
    now = [1000.0]
    authority = Authority(lambda: keys, 30, clock=lambda: now[0])
    for header, match in ((None, "requires an API key"), ("Basic abc", "Bearer"), ("Bearer not.a.jwt", "not valid")):
        with pytest.raises(UnauthenticatedError, match=match):
            authority.verify_bearer(header)
    forged = Authority(lambda: keys, 60, clock=lambda: now[0]).authenticate(KEY_ID, KEY)  # another authority's secret
    with pytest.raises(UnauthenticatedError, match="not valid"):
        authority.verify(forged)
    token = authority.authenticate(KEY_ID, KEY)
    assert authority.verify(token) == KEY_ID
    now[0] += 30.5
    with pytest.raises(UnauthenticatedError, match="expired"):
        authority.verify(token)
    token, other = authority.authenticate(KEY_ID, KEY), authority.authenticate(OTHER_ID, OTHER_KEY)
    keys[KEY_ID] = "rotated"
    with pytest.raises(UnauthenticatedError, match="revoked"):
        authority.verify(token)
    del keys[OTHER_ID]
    with pytest.raises(UnauthenticatedError, match="revoked"):
        authority.verify(other)


# -- the real viam-sdk client against viamlite serve ------------------------------


def sdk_options(key_id: str | None = None, key: str | None = None, insecure: bool = False) -> Any:
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    if key_id is not None:
        opts = RobotClient.Options.with_api_key(api_key=key, api_key_id=key_id)
        opts.dial_options.disable_webrtc = True
        opts.dial_options.insecure = insecure
    else:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=insecure, disable_webrtc=True))
    opts.attempt_reconnect_interval = 0
    opts.check_connection_interval = 0
    return opts


async def _move_servo(address: str, opts: Any, angle: int) -> int:
    from viam.components.servo import Servo
    from viam.robot.client import RobotClient

    robot = await RobotClient.at_address(address, opts)
    try:
        servo = Servo.from_robot(robot, "servo1")
        await servo.move(angle)
        return await servo.get_position()
    finally:
        await robot.close()


def grpc_code(exc: BaseException) -> str:
    """The status code name of a grpclib or grpcio error, found along its causes."""
    seen: BaseException | None = exc
    while seen is not None:
        status = getattr(seen, "status", None)
        if status is not None and hasattr(status, "name"):
            return status.name
        if isinstance(seen, grpc.RpcError):
            return seen.code().name
        seen = seen.__cause__ or seen.__context__
    return repr(exc)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One ``viamlite serve`` with an API key (and so a self-signed certificate), for a module."""
    folder = tmp_path_factory.mktemp("keyed")
    config = write_config(folder, auth_config({KEY_ID: KEY}))
    proc = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(config)], env={"VIAMLITE_HOME": str(folder / "home")})
    yield proc
    code, out, err = proc.stop()
    assert KEY not in out + err  # keys are never logged


def test_viam_sdk_with_a_good_key_over_tls_drives_the_machine(keyed_server: ServeProcess) -> None:
    assert "(gRPC, TLS, API keys)" in keyed_server.banner[-1]
    assert asyncio.run(_move_servo(keyed_server.address, sdk_options(KEY_ID, KEY), 42)) == 42


@pytest.mark.parametrize(("key_id", "key", "code"), [
    (KEY_ID, "wrong-key", "PERMISSION_DENIED"),
    (OTHER_ID, KEY, "PERMISSION_DENIED"),
    (None, None, "UNAUTHENTICATED"),
])
def test_viam_sdk_with_bad_or_no_credentials_is_refused(keyed_server: ServeProcess, key_id: str | None,
                                                        key: str | None, code: str) -> None:
    proc = keyed_server
    with pytest.raises(Exception) as info:
        asyncio.run(_move_servo(proc.address, sdk_options(key_id, key), 10))
    assert grpc_code(info.value) == code
    # and the machine keeps serving the right key
    assert asyncio.run(_move_servo(proc.address, sdk_options(KEY_ID, KEY), 11)) == 11


def test_an_expired_token_is_unauthenticated(serve: Any) -> None:
    proc = serve(auth_config({KEY_ID: KEY}, token_lifetime="1s"))
    dialed = dial(proc.address, api_key_id=KEY_ID, api_key=KEY)
    token = dialed.credentials.token()
    names = dialed.channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                       request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                                       response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
    assert len(names(robot_pb2.ResourceNamesRequest(), timeout=5).resources) == 1
    time.sleep(1.2)
    with pytest.raises(grpc.RpcError) as info:
        names(robot_pb2.ResourceNamesRequest(), timeout=5, metadata=(("authorization", f"Bearer {token}"),))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED and "expired" in info.value.details()
    # The client side refreshes its token before expiry, so the dialed channel keeps working.
    assert len(names(robot_pb2.ResourceNamesRequest(), timeout=5).resources) == 1
    dialed.close()


def test_every_path_needs_a_token_reflection_and_unknown_methods_included(keyed_server: ServeProcess) -> None:
    dialed = dial(keyed_server.address)  # TLS, no key
    for path in ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                 "/viam.component.servo.v1.ServoService/GetPosition", "/acme.Nope/Frobnicate"):
        with pytest.raises(grpc.RpcError) as info:
            dialed.channel.stream_stream(path)(iter([b""]), timeout=5).__next__()
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, path
        assert "authorization: Bearer" in info.value.details()
    dialed.close()


def test_plaintext_with_keys_is_refused_unless_no_tls(serve: Any, keyed_server: ServeProcess) -> None:
    with pytest.raises(ConnectionError):  # the keyed server speaks TLS only
        asyncio.run(asyncio.wait_for(_move_servo(keyed_server.address, sdk_options(insecure=True), 10), 20))
    plain = serve(auth_config({KEY_ID: KEY}), "--no-tls")
    assert "(gRPC, plaintext, API keys)" in plain.banner[-1]
    with pytest.raises(Exception) as info:
        asyncio.run(_move_servo(plain.address, sdk_options(insecure=True), 10))
    assert grpc_code(info.value) == "UNAUTHENTICATED"
    dialed = dial(plain.address, api_key_id=KEY_ID, api_key=KEY, insecure=True)
    names = dialed.channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                       request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                                       response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
    assert len(names(robot_pb2.ResourceNamesRequest(), timeout=5).resources) == 1
    dialed.close()
    _, _, err = plain.stop()
    assert "travel in clear text" in err


def test_removing_a_key_from_the_config_revokes_its_tokens(serve: Any, tmp_path: Path) -> None:
    proc = serve(auth_config({KEY_ID: KEY, OTHER_ID: OTHER_KEY}))
    config_path = Path(proc.proc.args[proc.proc.args.index("--config") + 1])
    kept, removed = (dial(proc.address, api_key_id=i, api_key=k) for i, k in ((KEY_ID, KEY), (OTHER_ID, OTHER_KEY)))
    request = robot_pb2.ResourceNamesRequest()

    def names(d: Any) -> Any:
        return d.channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                     request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                                     response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
    assert names(removed)(request, timeout=5) and names(kept)(request, timeout=5)
    token = removed.credentials.token()
    config_path.write_text(json.dumps(auth_config({KEY_ID: KEY})))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            names(removed)(request, timeout=5, metadata=(("authorization", f"Bearer {token}"),))
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in err.details()
            break
        time.sleep(0.2)
    else:
        pytest.fail("the removed key's token still worked 10 s after the config changed")
    assert names(kept)(request, timeout=5).resources  # the other key is untouched
    with pytest.raises(PermissionDeniedError):
        dial(proc.address, api_key_id=OTHER_ID, api_key=OTHER_KEY)
    kept.close()
    removed.close()


def test_turning_keys_on_or_off_in_a_live_config_waits_for_a_restart(tmp_path: Path) -> None:
    from viamlite.machine import ConfigWatcher, Machine

    path = write_config(tmp_path, auth_config({KEY_ID: KEY}))
    with Machine.from_config(path) as machine:
        watcher = ConfigWatcher(machine, path)
        watcher.check()
        path.write_text(json.dumps({"components": auth_config({})["components"]}))  # auth block removed
        assert not watcher.check()
        assert machine.config.auth is not None and machine.config.auth.keys == {KEY_ID: KEY}
        assert "needs a restart" in str(watcher.last_error) and watcher.last_error.path == "auth"
        path.write_text(json.dumps(auth_config({KEY_ID: "rotated"})))  # keys change live
        assert watcher.check() and machine.config.auth.keys == {KEY_ID: "rotated"}
