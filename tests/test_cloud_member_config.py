"""The ``cloud`` block of a fleet member, and keys the machine knows only by their hashes."""
from __future__ import annotations

import hashlib

import pytest

from viamlite.auth import Authority, KeyHash
from viamlite.config import CloudConfig, parse_config
from viamlite.errors import ConfigError, PermissionDeniedError, UnauthenticatedError


def _cloud(**fields: object) -> CloudConfig | None:
    return parse_config({"cloud": fields}, source="m.json").cloud


def test_a_block_of_ids_only_is_not_a_membership() -> None:
    assert _cloud(id="part-1", location_id="loc-1") is None
    assert parse_config({}).cloud is None


def test_a_part_secret_over_plaintext() -> None:
    cloud = _cloud(id="part-1", secret="s3", app_address="http://127.0.0.1:9000", refresh_interval="250ms")
    assert cloud is not None
    assert (cloud.target, cloud.tls, cloud.refresh_interval) == ("127.0.0.1:9000", False, 0.25)
    assert cloud.entity == ("part-1", "robot-secret", "s3")
    assert "s3" not in repr(cloud)


def test_an_api_key_over_tls_with_the_default_port_and_interval() -> None:
    cloud = _cloud(id="part-1", api_key={"id": "kid", "key": "kk"}, app_address="https://fleet.example/")
    assert cloud is not None
    assert (cloud.target, cloud.tls, cloud.refresh_interval) == ("fleet.example:443", True, 10.0)
    assert cloud.entity == ("kid", "api-key", "kk")
    assert "kk" not in repr(cloud)
    assert _cloud(id="p", secret="s", app_address="http://fleet").target == "fleet:8080"  # type: ignore[union-attr]


@pytest.mark.parametrize("fields, path, words", [
    ({"id": "p", "secret": "s"}, "cloud.app_address", "address is missing"),
    ({"secret": "s", "app_address": "http://a:1"}, "cloud.id", "part id is missing"),
    ({"id": "p", "app_address": "http://a:1"}, "cloud.secret", "no credentials"),
    ({"id": "p", "secret": "s", "app_address": "a:1"}, "cloud.app_address", "http:// or https://"),
    ({"id": "p", "secret": "s", "app_address": "grpc://a:1"}, "cloud.app_address", "http:// or https://"),
    ({"id": "p", "secret": "s", "app_address": "http://a:1/v1"}, "cloud.app_address", "no path"),
    ({"id": "p", "secret": "s", "app_address": "http://a:70000"}, "cloud.app_address", "port"),
    ({"id": "p", "secret": "s", "app_address": "http://a:1", "refresh_interval": "soon"}, "cloud.refresh_interval",
     "not a duration"),
    ({"id": "p", "secret": "s", "app_address": "http://a:1", "refresh_interval": "1ms"}, "cloud.refresh_interval",
     "out of range"),
    ({"id": "p", "secret": "s", "api_key": {"id": "i", "key": "k"}, "app_address": "http://a:1"}, "cloud.api_key",
     "both"),
    ({"id": "p", "api_key": {"id": "i"}, "app_address": "http://a:1"}, "cloud.api_key.key", "missing"),
    ({"id": "p", "api_key": "k", "app_address": "http://a:1"}, "cloud.api_key", "expected an object"),
])
def test_a_bad_block_names_the_field_and_the_fix(fields: dict, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        _cloud(**fields)
    assert info.value.path == path and info.value.file == "m.json"
    assert words in info.value.problem and info.value.fix


def _hash(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _auth(conf: dict) -> dict:
    config = parse_config({"auth": {"handlers": [{"type": "api-key", "config": conf}]}})
    assert config.auth is not None
    return dict(config.auth.keys)


def test_keys_given_as_hashes_sit_beside_clear_keys() -> None:
    keys = _auth({"keys": ["clear", "hashed"], "clear": "k1", "key_hashes": {"hashed": _hash("k2")}})
    assert keys["clear"] == "k1"
    assert isinstance(keys["hashed"], KeyHash) and keys["hashed"].matches("k2") and not keys["hashed"].matches("k1")
    assert str(keys["hashed"]) == _hash("k2")


@pytest.mark.parametrize("value, words", [
    ("md5:abc", '"sha256:"'), ("sha256:abc", "64 hex digits"), ("sha256:" + "g" * 64, "hex digits"), (5, '"sha256:"'),
])
def test_a_malformed_hash_is_a_config_error(value: object, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        _auth({"keys": ["k"], "key_hashes": {"k": value}})
    assert info.value.path == "auth.handlers[0].config.key_hashes.k" and words in info.value.problem


def test_a_listed_key_with_neither_key_nor_hash_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        _auth({"keys": ["k"], "key_hashes": {"other": _hash("x")}})
    assert info.value.path == "auth.handlers[0].config.k" and "key_hashes" in info.value.fix


def test_the_authority_checks_a_hashed_key_and_revokes_its_tokens_when_the_hash_changes() -> None:
    keys: dict[str, object] = {"fleet-key": KeyHash.parse(_hash("the-key")), "local": "clear-key"}
    authority = Authority(lambda: keys, 60)  # type: ignore[arg-type,return-value]
    token = authority.authenticate("fleet-key", "the-key")
    assert authority.verify(token) == "fleet-key"
    assert authority.verify(authority.authenticate("local", "clear-key")) == "local"
    for key_id, key in (("fleet-key", "wrong"), ("fleet-key", _hash("the-key")), ("nobody", "the-key")):
        with pytest.raises(PermissionDeniedError):
            authority.authenticate(key_id, key)
    keys["fleet-key"] = KeyHash.of("a-new-key")
    with pytest.raises(UnauthenticatedError, match="revoked"):
        authority.verify(token)
    assert authority.verify(authority.authenticate("fleet-key", "a-new-key")) == "fleet-key"


def test_a_token_for_a_clear_key_does_not_survive_its_replacement_by_a_hash_of_itself() -> None:
    keys: dict[str, object] = {"k": "the-key"}
    authority = Authority(lambda: keys, 60)  # type: ignore[arg-type,return-value]
    token = authority.authenticate("k", "the-key")
    keys["k"] = KeyHash.of("the-key")  # the same key, now known by its hash: a new kind of entry
    with pytest.raises(UnauthenticatedError):
        authority.verify(token)
