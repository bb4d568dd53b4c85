"""``login api-key``, ``login print-access-token``, ``logout``, ``whoami``."""
from __future__ import annotations

from viamlite_plugins.cloud.commands import cache
from viamlite_plugins.cloud.commands.app import AppClient
from viamlite_plugins.cloud.commands.context import LOGIN_FIX, Context
from viamlite_plugins.cloud.commands.errors import UsageError


def login_usage(ctx: Context) -> int:
    raise UsageError(f"log in with an API key: {LOGIN_FIX} (logging in through a browser is not offered)")


def login_api_key(ctx: Context) -> int:
    """Check the key against the app (Authenticate, ListOrganizations), then remember it."""
    base = ctx.base
    app = AppClient(base, ctx.args.key_id, ctx.args.key)
    try:
        orgs = app.call("ListOrganizations").organizations
    finally:
        app.close()
    login = cache.Login(base.url, ctx.args.key_id, ctx.args.key)
    cache.save(login)
    names = ", ".join(repr(o.name) for o in orgs) or "none"
    ctx.out.line(f"Successfully logged in as {login.who!r} to {base.url} (organizations: {names})")
    return 0


def print_access_token(ctx: Context) -> int:
    ctx.out.line(ctx.app.access_token)
    return 0


def logout(ctx: Context) -> int:
    login = cache.clear()
    if login is None:
        ctx.out.line("Already logged out")
    else:
        ctx.out.line(f"Logged out from {login.who!r} at {login.base_url}")
    return 0


def whoami(ctx: Context) -> int:
    login = ctx.cached
    ctx.out.line(f"{login.who} at {login.base_url}" if login is not None else "Not logged in")
    return 0
