"""What a command gets: its flags, the login, the app and the resolver (made when first used)."""
from __future__ import annotations

import argparse
from functools import cached_property

from viamlite_plugins.cloud.commands import cache
from viamlite_plugins.cloud.commands.app import DEFAULT_BASE_URL, AppClient, BaseURL
from viamlite_plugins.cloud.commands.errors import CommandError
from viamlite_plugins.cloud.commands.output import Output
from viamlite_plugins.cloud.commands.resolve import Resolver

LOGIN_FIX = "viamlite [--base-url URL] login api-key --key-id ID --key KEY"


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Output(bool(getattr(args, "json", False)))
        self._app: AppClient | None = None

    @cached_property
    def cached(self) -> cache.Login | None:
        return cache.load()

    @cached_property
    def base(self) -> BaseURL:
        """The app: ``--base-url``, else the logged-in one, else Viam's. A ``--base-url``
        other than the logged-in one is refused."""
        flag = getattr(self.args, "base_url", None)
        cached = self.cached
        if flag and cached is not None and not BaseURL.parse(flag).same_as(BaseURL.parse(cached.base_url)):
            raise CommandError(f"logged in to {cached.base_url}, not {flag}: log out first (viamlite logout), "
                               f"then log in to {flag}")
        return BaseURL.parse(flag or (cached.base_url if cached else DEFAULT_BASE_URL))

    @property
    def login(self) -> cache.Login:
        self.base  # noqa: B018  (a --base-url that is not the logged-in one is refused first)
        if self.cached is None:
            raise CommandError(f"not logged in: log in with {LOGIN_FIX}")
        return self.cached

    @property
    def app(self) -> AppClient:
        if self._app is None:
            login = self.login
            self._app = AppClient(self.base, login.key_id, login.key)
        return self._app

    @cached_property
    def resolve(self) -> Resolver:
        return Resolver(self.app)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
