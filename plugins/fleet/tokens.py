"""Access tokens the fleet signs, shared by every fleet process on one database.

A token is a JWT (HS256) naming its principal (an API key id or a part id) and expiring
after ``lifetime`` seconds. The signing secret lives in the database, so a token made by
one fleet process is good at every other. Revocation needs no list: each call looks its
principal up again (cached for at most :data:`RECHECK` seconds), and a deleted key or part
is gone.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from viamlite.errors import PermissionDeniedError, UnauthenticatedError
from viamlite_plugins.fleet.access import API_KEY, PART_SECRET, Principal
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.db.schema import settings
from viamlite_plugins.fleet.store import keys, robots

AUDIENCE = "viamlite-fleet"
#: How long a looked-up key is trusted before the database is asked again (so a deleted
#: key's tokens stop within a second).
RECHECK = 0.5
#: The same for a part (a deleted part's calls stop within this many seconds).
RECHECK_PART = 30.0
REJECTED = "invalid credentials: check the key id and the key (or the part id and its secret)"


def _signing_secret(db: Database) -> bytes:
    with db.read() as conn:
        value = conn.execute(select(settings.c.value).where(settings.c.name == "token_secret")).scalar()
    if value is None:
        try:
            with db.write() as conn:
                conn.execute(settings.insert().values(name="token_secret", value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another fleet process made it first
        with db.read() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.name == "token_secret")).scalar_one()
    return bytes.fromhex(value)


class Tokens:
    def __init__(self, db: Database, lifetime: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.lifetime = lifetime
        self._clock = clock
        self._secret = _signing_secret(db)
        self._lock = threading.Lock()
        self._claims: dict[str, dict] = {}  # token -> its verified claims
        self._principals: dict[tuple[str, str], tuple[float, Principal | None]] = {}

    def authenticate(self, entity: str, credential_type: str, payload: str) -> str:
        """A token for an API key (``api-key``) or a part secret (``robot-secret``)."""
        if credential_type == API_KEY:
            with self.db.read() as conn:
                row = keys.find_key(conn, entity)
            good = hmac.compare_digest(keys.key_hash(payload), row.key_hash if row is not None else "sha256:")
        elif credential_type == PART_SECRET:
            with self.db.read() as conn:
                try:
                    secret = robots.get_part(conn, entity).secret
                except LookupError:
                    secret = None
            good = hmac.compare_digest(payload.encode(), (secret or "").encode()) and secret is not None
        else:
            raise PermissionDeniedError(f"credentials of type {credential_type!r} are not accepted here: use "
                                        f"{API_KEY!r} (key id and key) or {PART_SECRET!r} (part id and secret)")
        if not good:
            raise PermissionDeniedError(REJECTED)
        now = self._clock()
        claims = {"sub": entity, "typ": credential_type, "aud": AUDIENCE, "iat": int(now), "exp": now + self.lifetime,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def principal(self, header: str | None) -> Principal:
        """The principal behind an ``authorization: Bearer <token>`` header."""
        if not header:
            raise UnauthenticatedError("the fleet requires credentials: authenticate (AuthService/Authenticate) "
                                       "with an API key and send 'authorization: Bearer <token>'")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError("the authorization header must be 'Bearer <token>'")
        token = token.strip()
        claims = self._claims.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._secret, algorithms=["HS256"], audience=AUDIENCE,
                                    options={"require": ["sub", "exp", "typ"], "verify_exp": False})
            except jwt.InvalidTokenError:
                raise UnauthenticatedError("the access token is not valid for this fleet: authenticate again") from None
            with self._lock:
                if len(self._claims) > 100_000:
                    self._claims.clear()
                self._claims[token] = claims
        if self._clock() >= float(claims["exp"]):
            raise UnauthenticatedError("the access token has expired: authenticate again")
        principal = self._lookup(str(claims["typ"]), str(claims["sub"]))
        if principal is None:
            raise UnauthenticatedError("the access token was revoked (its API key or part was deleted): "
                                       "authenticate with a current key")
        return principal

    def _lookup(self, kind: str, subject: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            cached = self._principals.get((kind, subject))
        if cached is not None and now - cached[0] < (RECHECK if kind == API_KEY else RECHECK_PART):
            return cached[1]
        with self.db.read() as conn:
            if kind == API_KEY:
                found = keys.find_key(conn, subject) is not None
                principal = Principal(API_KEY, subject, tuple(keys.grants_of(conn, [subject])[subject])) if found else None
            else:
                try:
                    part = robots.get_part(conn, subject)
                    principal = Principal(PART_SECRET, subject, part_robot_id=part.robot_id)
                except LookupError:
                    principal = None
        with self._lock:
            if len(self._principals) > 4096:
                self._principals.clear()
            self._principals[(kind, subject)] = (now, principal)
        return principal
