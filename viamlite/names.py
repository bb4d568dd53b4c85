"""API triplets, model triplets and resource names.

``rdk:component:servo`` is an API (namespace, type, subtype); ``rdk:builtin:fake`` a
model (namespace, family, name; the short form ``fake`` means ``rdk:builtin:fake``);
a resource name is an API plus a name, optionally behind remotes (``remote1:servo1``).
"""
from __future__ import annotations

from dataclasses import dataclass

_BUILTIN = ("rdk", "builtin")


def _split3(text: str, what: str, example: str) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{what} {text!r} must have three colon-separated parts, such as {example!r}")
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True, order=True)
class API:
    """A resource API triplet such as ``rdk:component:servo``."""

    namespace: str
    type: str
    subtype: str

    @classmethod
    def parse(cls, text: str) -> "API":
        return cls(*_split3(text, "API", "rdk:component:servo"))

    @classmethod
    def component(cls, subtype: str) -> "API":
        return cls("rdk", "component", subtype)

    @classmethod
    def service(cls, subtype: str) -> "API":
        return cls("rdk", "service", subtype)

    def __str__(self) -> str:
        return f"{self.namespace}:{self.type}:{self.subtype}"


@dataclass(frozen=True, order=True)
class Model:
    """A model triplet such as ``rdk:builtin:fake``; ``Model.parse("fake")`` expands it."""

    namespace: str
    family: str
    name: str

    @classmethod
    def parse(cls, text: str) -> "Model":
        if ":" not in text:
            if not text:
                raise ValueError("model must not be empty; use a triplet such as 'rdk:builtin:fake' or a short name such as 'fake'")
            return cls(*_BUILTIN, text)
        return cls(*_split3(text, "model", "rdk:builtin:fake"))

    def __str__(self) -> str:
        return f"{self.namespace}:{self.family}:{self.name}"

    @property
    def short(self) -> str:
        """``fake`` for builtin models, the full triplet otherwise."""
        return self.name if (self.namespace, self.family) == _BUILTIN else str(self)


@dataclass(frozen=True, order=True)
class ResourceName:
    """A resource's API and name; ``remote`` holds the remote path for remote parts."""

    api: API
    name: str
    remote: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.remote}:{self.name}" if self.remote else self.name

    def __str__(self) -> str:
        return f"{self.api}/{self.full_name}"
