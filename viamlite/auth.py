"""API keys and the access tokens they are exchanged for, whatever the transport.

A client presents a key id and its key once and gets a signed, expiring token (a JWT,
HS256, signed with a secret made at start-up); every later call carries the token. A token
names its key id and a fingerprint of the key, so removing or changing a key in the config
revokes every token made from it. Keys are compared in constant time and never logged;
failures never say which part of the credentials was right.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from viamlite.errors import PermissionDeniedError, UnauthenticatedError

CREDENTIAL_TYPE = "api-key"
_AUDIENCE = "viamlite"
_CACHE_SIZE = 256
#: Said for every rejected key, whatever was wrong with it.
REJECTED = "invalid API key: check the key id and the key"


@dataclass(frozen=True)
class KeyHash:
    """A key known only by its SHA-256 digest (of the key's UTF-8 bytes)."""

    digest: bytes = field(repr=False)

    PREFIX = "sha256:"

    @classmethod
    def parse(cls, text: str) -> "KeyHash":
        """``"sha256:<64 hex digits>"``; raises ValueError otherwise."""
        if not isinstance(text, str) or not text.startswith(cls.PREFIX):
            raise ValueError('a key hash is written "sha256:" followed by 64 hex digits')
        hexdigits = text[len(cls.PREFIX):]
        if len(hexdigits) != 64:
            raise ValueError(f"a SHA-256 key hash has 64 hex digits, this one has {len(hexdigits)}")
        try:
            return cls(bytes.fromhex(hexdigits))
        except ValueError:
            raise ValueError("a key hash has only hex digits (0-9, a-f) after \"sha256:\"") from None

    @classmethod
    def of(cls, key: str) -> "KeyHash":
        """The hash of a clear key."""
        return cls(hashlib.sha256(key.encode()).digest())

    def matches(self, key: str) -> bool:
        """True when ``key`` hashes to this digest (compared in constant time)."""
        return hmac.compare_digest(hashlib.sha256(key.encode()).digest(), self.digest)

    def __str__(self) -> str:
        return self.PREFIX + self.digest.hex()


def _material(known: "str | KeyHash") -> str:
    """What a token's fingerprint is made from: the clear key, or the hash it is known by."""
    return f"h\0{known}" if isinstance(known, KeyHash) else f"k\0{known}"


class Authority:
    """Issues and verifies access tokens for the keys ``keys()`` returns (id → key, or id →
    :class:`KeyHash` for a key known only by its hash).

    ``keys`` is called on every check, so a config reload that removes or changes a key
    takes effect at once. ``lifetime`` is how long a token stays valid, in seconds.
    """

    def __init__(self, keys: Callable[[], Mapping[str, "str | KeyHash"]], lifetime: float | Callable[[], float],
                 clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self._clock = clock
        self._lifetime = lifetime if callable(lifetime) else (lambda: float(lifetime))  # type: ignore[misc]
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._verified: dict[str, tuple[str, str, float]] = {}  # token -> (key id, fingerprint, expiry)
        self._fingerprints: dict[tuple[str, str], str] = {}

    def _fingerprint(self, key_id: str, material: str) -> str:
        return hmac.new(self._secret, f"{key_id}\0{material}".encode(), hashlib.sha256).hexdigest()[:32]

    def _current_fingerprint(self, key_id: str, known: "str | KeyHash") -> str:
        material = _material(known)
        fingerprint = self._fingerprints.get((key_id, material))
        if fingerprint is None:
            if len(self._fingerprints) >= _CACHE_SIZE:
                self._fingerprints.clear()
            fingerprint = self._fingerprints[(key_id, material)] = self._fingerprint(key_id, material)
        return fingerprint

    def authenticate(self, key_id: str, key: str, credential_type: str = CREDENTIAL_TYPE) -> str:
        """A token for ``key_id``; raises :class:`PermissionDeniedError` for a wrong id or key."""
        import jwt

        if credential_type != CREDENTIAL_TYPE:
            raise PermissionDeniedError(f"credentials of type {credential_type!r} are not accepted: "
                                        f"use type {CREDENTIAL_TYPE!r} with an API key")
        known = self._keys().get(key_id)
        if isinstance(known, KeyHash):
            good = known.matches(key)
        else:
            # Compare against something of the same kind even for an unknown id, so the time
            # taken does not tell whether the id exists.
            good = hmac.compare_digest(self._fingerprint(key_id, key), self._fingerprint(key_id, known or ""))
        if known is None or not good:
            raise PermissionDeniedError(REJECTED)
        now = self._clock()
        claims = {"sub": key_id, "kfp": self._fingerprint(key_id, _material(known)), "aud": _AUDIENCE, "iat": int(now),
                  "exp": now + self._lifetime(), "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> str:
        """The key id ``token`` was issued for; raises :class:`UnauthenticatedError` for a
        token that is malformed, forged, expired or revoked."""
        with self._lock:
            cached = self._verified.get(token)
        if cached is None:
            cached = self._decode(token)
        key_id, fingerprint, expiry = cached
        if self._clock() >= expiry:
            with self._lock:
                self._verified.pop(token, None)
            raise UnauthenticatedError("the access token has expired: authenticate again with the API key")
        key = self._keys().get(key_id)
        if key is None or not hmac.compare_digest(fingerprint, self._current_fingerprint(key_id, key)):
            raise UnauthenticatedError("the access token was revoked (its API key was removed or changed): "
                                       "authenticate again with a current API key")
        return key_id

    def _decode(self, token: str) -> tuple[str, str, float]:
        import jwt

        try:
            # Expiry is checked by verify(), on this authority's clock and to the sub-second.
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], audience=_AUDIENCE,
                                options={"require": ["sub", "exp", "kfp"], "verify_exp": False, "verify_iat": False})
        except jwt.InvalidTokenError:
            raise UnauthenticatedError("the access token is not valid here: authenticate with an API key "
                                       "(AuthService/Authenticate) and send 'authorization: Bearer <token>'") from None
        entry = (str(claims["sub"]), str(claims["kfp"]), float(claims["exp"]))
        with self._lock:
            if len(self._verified) >= _CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = entry
        return entry

    def verify_bearer(self, header: str | None) -> str:
        """Check an ``authorization`` header value (``Bearer <token>``)."""
        if not header:
            raise UnauthenticatedError("this machine requires an API key: authenticate (AuthService/Authenticate) "
                                       "and send 'authorization: Bearer <token>'")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError("the authorization header must be 'Bearer <token>'")
        return self.verify(token.strip())
