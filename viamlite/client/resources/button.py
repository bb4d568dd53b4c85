"""Button proxy: ``viam.component.button.v1.ButtonService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.button import Button
from viamlite.resource import Extra


class ButtonClient(RemoteResource, Button):
    SERVICE = "viam.component.button.v1.ButtonService"

    def push(self, *, extra: Extra = None) -> None:
        self._call("Push", extra=extra)
