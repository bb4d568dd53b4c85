"""The button API: a push."""
from __future__ import annotations

from abc import abstractmethod

from viamlite.names import API
from viamlite.resource import Extra, Resource


class Button(Resource):
    API = API.component("button")

    @abstractmethod
    def push(self, *, extra: Extra = None) -> None: ...
