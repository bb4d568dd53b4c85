"""What every contract shares: the fixtures it needs, do_command's shape, errors once closed."""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from viamlite.errors import InvalidArgumentError, NotSupportedError, ResourceClosedError

#: Arguments that are not numbers at all; every numeric argument of every API rejects them.
NOT_NUMBERS: tuple[Any, ...] = ("1", None, True, [1])
#: Numbers no range contains.
NOT_FINITE: tuple[float, ...] = (math.nan, math.inf, -math.inf)
#: A command no model answers.
UNKNOWN_COMMAND = {"viamlite_contract_no_such_command": {}}


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, beyond what its API requires of every model.

    ``command``: a ``do_command`` the model answers (its reply must be a JSON-like dict
    with string keys); None when it answers none. Either way an unknown command must raise
    InvalidArgumentError or NotSupportedError.
    """

    command: Mapping[str, Any] | None = None


def is_json_like(value: Any) -> bool:
    """True for what JSON can carry: dicts with string keys, lists, strings, finite numbers, bools, None."""
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and is_json_like(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_json_like(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


def raises(exc: type[BaseException] | tuple[type[BaseException], ...], call: Callable[[], Any], what: str) -> None:
    """Assert ``call()`` raises ``exc``, saying ``what`` was called when it does not."""
    try:
        result = call()
    except exc:
        return
    except Exception as other:
        names = exc.__name__ if isinstance(exc, type) else " or ".join(e.__name__ for e in exc)
        raise AssertionError(f"{what} raised {type(other).__name__}: {other}; the contract wants {names}") from other
    names = exc.__name__ if isinstance(exc, type) else " or ".join(e.__name__ for e in exc)
    raise AssertionError(f"{what} returned {result!r}; the contract wants {names}")


class Contract:
    """The base of the contracts. A subclass gives the fixture ``resource`` and the class
    attribute ``capabilities``; to vary them per test it overrides the fixture method
    ``_capabilities`` (``@pytest.fixture(name="capabilities")``) instead."""

    #: The API's interface class (``viamlite.components.servo.Servo``).
    interface: ClassVar[type]
    capabilities: ClassVar[Capabilities] = Capabilities()

    @pytest.fixture
    def resource(self) -> Any:
        raise pytest.UsageError(f"{type(self).__name__}: define a `resource` fixture giving a fresh resource "
                                "of your model for each test")

    @pytest.fixture(name="capabilities")
    def _capabilities(self) -> Capabilities:
        return type(self).capabilities

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        """The API's calls (by name) that a closed resource must refuse."""
        return {}

    # -- the tests every API shares --------------------------------------------------
    def test_is_an_instance_of_the_interface(self, resource: Any) -> None:
        assert isinstance(resource, self.interface), f"{resource!r} is not a {self.interface.__name__}"
        assert resource.API == self.interface.API
        assert not resource.closed

    def test_do_command_answers_a_json_like_dict(self, resource: Any, capabilities: Capabilities) -> None:
        if capabilities.command is not None:
            reply = resource.do_command(dict(capabilities.command))
            assert isinstance(reply, dict), f"do_command({capabilities.command}) answered {reply!r}, not a dict"
            assert is_json_like(reply), f"do_command({capabilities.command}) answered {reply!r}, not JSON-like"
            json.dumps(reply)
        raises((InvalidArgumentError, NotSupportedError), lambda: resource.do_command(dict(UNKNOWN_COMMAND)),
               f"do_command({UNKNOWN_COMMAND})")

    def test_a_closed_resource_refuses_every_call(self, resource: Any, capabilities: Any) -> None:
        calls = self.closed_calls(resource, capabilities)
        resource.close()
        resource.close()  # closing again is harmless
        assert resource.closed
        for name, call in calls.items():
            raises(ResourceClosedError, call, f"{name} after close")
