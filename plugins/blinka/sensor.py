"""A sensor read through a CircuitPython I2C driver on Blinka's I2C bus."""
from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.blinka import pins

from viamlite.attributes import Attributes
from viamlite.driver import Configured
from viamlite.components.sensor import Sensor
from viamlite.errors import ViamliteError
from viamlite.resource import Extra

DRIVER_EXAMPLE = '"driver": "adafruit_bme280.basic:Adafruit_BME280_I2C"'


class SensorReadError(ViamliteError, RuntimeError):
    """The driver failed to start or to produce a reading."""


class I2CSensor(Configured, Sensor):
    """An I2C device read through a CircuitPython driver (``viamlite:blinka:i2c-sensor``).

    Attributes:

    * ``driver`` (required): ``"module:Class"`` of the driver, such as
      ``"adafruit_bme280.basic:Adafruit_BME280_I2C"``; it is built as
      ``Class(i2c, address=address, **kwargs)`` with a ``busio.I2C`` bus;
    * ``address`` (optional, 0 to 127): the device's I2C address; the driver's default
      when left out;
    * ``readings`` (required): which of the driver's attributes to read: a list of names
      (``["temperature", "pressure"]``, each reading named after its attribute) or an
      object of reading name to attribute (``{"temperature_c": "temperature"}``); an
      attribute may be a dotted path;
    * ``kwargs`` (optional object): more keyword arguments for the driver;
    * ``i2c`` (optional): ``{"scl": "SCL", "sda": "SDA", "frequency_hz": 100000}``, the
      bus's pins (board names, default ``SCL`` and ``SDA``) and clock.

    The driver's module must be importable (``pip install adafruit-circuitpython-bme280``);
    a config naming one that is not is refused with that hint. Readings are plain
    JSON values: tuples become lists; anything else its string.
    """

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        super().__init__(name)
        self.driver_name: str = settings["driver"]
        self.address: int | None = settings["address"]
        self.readings: dict[str, str] = settings["readings"]
        self._lock = threading.Lock()
        blinka = pins.blinka()
        busio = blinka.module("busio")
        bus = settings["i2c"]
        try:
            self.i2c = busio.I2C(pins.find_pin(bus["scl"]), pins.find_pin(bus["sda"]), frequency=bus["frequency_hz"])
        except (ValueError, RuntimeError, OSError) as exc:
            raise SensorReadError(f"sensor {name!r}: could not open the I2C bus on {bus['scl']}/{bus['sda']} "
                                  f"of {blinka.describe()}: {exc}") from exc
        cls = _driver_class(self.driver_name)
        args = dict(settings["kwargs"])
        if self.address is not None:
            args["address"] = self.address
        try:
            self.device = cls(self.i2c, **args)
        except Exception as exc:
            self.i2c.deinit()
            at = f" at address {self.address:#04x}" if self.address is not None else ""
            raise SensorReadError(f"sensor {name!r}: driver {self.driver_name} could not start{at}: "
                                  f"{type(exc).__name__}: {exc}") from exc

    # -- config ------------------------------------------------------------------
    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        driver = attrs.string("driver")
        if driver is None:
            raise attrs.fail("driver", "the sensor needs a CircuitPython driver", f"write {DRIVER_EXAMPLE}")
        if driver.count(":") != 1 or not all(driver.split(":")):
            raise attrs.fail("driver", f"driver {driver!r} is not \"module:Class\"", f"write {DRIVER_EXAMPLE}")
        try:
            _driver_class(driver)
        except SensorReadError as exc:
            raise attrs.fail("driver", str(exc), _install_hint(driver)) from None
        readings = attrs.values.get("readings")
        if isinstance(readings, Sequence) and not isinstance(readings, (str, bytes)):
            names = list(attrs.sequence("readings"))
            if not all(isinstance(n, str) and n for n in names):
                raise attrs.fail("readings", "readings must name the driver's attributes",
                                 'write "readings": ["temperature"]')
            wanted = {n: n for n in names}
        else:
            mapping = attrs.mapping("readings", example='{"temperature_c": "temperature"}')
            wanted = dict(mapping or {})
            sub = attrs.nested("readings", wanted)
            for key in wanted:
                sub.string(key)
        if not wanted:
            raise attrs.fail("readings", "the sensor reads nothing", 'write "readings": ["temperature"]')
        bus = attrs.mapping("i2c", {}, example='{"scl": "SCL", "sda": "SDA"}') or {}
        sub = attrs.nested("i2c", bus)
        i2c = {"scl": sub.string("scl", "SCL"), "sda": sub.string("sda", "SDA"),
               "frequency_hz": sub.number("frequency_hz", 100_000, above=0, integer=True)}
        pins.check_pin(sub, "scl", i2c["scl"])
        pins.check_pin(sub, "sda", i2c["sda"])
        return {"driver": driver, "address": attrs.number("address", None, minimum=0, maximum=127, integer=True),
                "readings": {str(k): str(v) for k, v in wanted.items()},
                "kwargs": dict(attrs.mapping("kwargs", {}, example='{"mode": 1}') or {}), "i2c": i2c}

    @classmethod
    def build(cls, name: str, attrs: Attributes, dependencies: Mapping[Any, Any]) -> "I2CSensor":
        return cls(name, cls.settings(attrs))

    # -- the API -----------------------------------------------------------------
    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        self._check_open()
        out: dict[str, Any] = {}
        with self._lock:
            for name, path in self.readings.items():
                try:
                    value: Any = self.device
                    for part in path.split("."):
                        value = getattr(value, part)
                except Exception as exc:
                    raise SensorReadError(f"sensor {self.name!r}: reading {name!r} ({self.driver_name}.{path}) "
                                          f"failed: {type(exc).__name__}: {exc}") from exc
                out[name] = _plain(value)
        return out

    def _on_close(self) -> None:
        deinit = getattr(self.device, "deinit", None)
        try:
            if callable(deinit):
                deinit()
        finally:
            self.i2c.deinit()

    def get_status(self) -> dict[str, Any]:
        return {"driver": self.driver_name, "address": self.address, "readings": dict(self.readings)}


def _driver_class(driver: str) -> type:
    module_name, _, class_name = driver.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SensorReadError(f"driver module {module_name!r} cannot be imported: {exc}") from exc
    except Exception as exc:  # a driver importing Blinka on a board it cannot identify, ...
        raise SensorReadError(f"driver module {module_name!r} failed to import: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise SensorReadError(f"driver module {module_name!r} has no class {class_name!r}")
    return cls


def _install_hint(driver: str) -> str:
    top = driver.partition(":")[0].split(".")[0]
    if top.startswith("adafruit_"):
        package = "adafruit-circuitpython-" + top[len("adafruit_"):].replace("_", "-")
        return f"install the driver (pip install {package}) or fix the module:Class name"
    return "install the driver's package or fix the module:Class name"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)
