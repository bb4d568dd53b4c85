"""Contract tests: what each component API's Python interface promises, as reusable tests.

A driver author subclasses the API's contract in their own test module, gives it a
``resource`` fixture (a fresh, open resource of their model for each test; a test may close
it) and says what the model can do in ``capabilities``::

    import pytest
    from viamlite.testing.contracts import ServoCapabilities, ServoContract

    class TestPwmServo(ServoContract):
        capabilities = ServoCapabilities(command={"get_state": {}})

        @pytest.fixture
        def resource(self):
            with PwmServo("pan", {"pin": "D18"}) as servo:
                yield servo

Every capability is an explicit switch with a documented meaning: where a model cannot do
something (a board without PWM: ``pwm_pin=None``), the contract does not skip the test but
checks that the model says so (NotSupportedError). To vary the capabilities per test (one
suite over several backends), override the fixture method ``_capabilities`` (a fixture
named ``capabilities``) as well, as ``tests/test_contracts.py`` does.

Contracts: :class:`BoardContract`, :class:`CameraContract`, :class:`EncoderContract`,
:class:`MotorContract`, :class:`SensorContract`, :class:`ServoContract`. They need pytest; import them from tests.
"""
from viamlite.testing.contracts.board import BoardCapabilities, BoardContract
from viamlite.testing.contracts.camera import CameraCapabilities, CameraContract
from viamlite.testing.contracts.common import Capabilities, Contract
from viamlite.testing.contracts.encoder import EncoderCapabilities, EncoderContract
from viamlite.testing.contracts.motor import MotorCapabilities, MotorContract
from viamlite.testing.contracts.sensor import SensorCapabilities, SensorContract
from viamlite.testing.contracts.servo import ServoCapabilities, ServoContract

__all__ = [
    "BoardCapabilities", "BoardContract", "CameraCapabilities", "CameraContract", "Capabilities", "Contract",
    "EncoderCapabilities", "EncoderContract",
    "MotorCapabilities", "MotorContract", "SensorCapabilities", "SensorContract", "ServoCapabilities",
    "ServoContract",
]
