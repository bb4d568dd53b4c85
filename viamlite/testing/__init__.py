"""Testing aids for drivers and machines.

* :mod:`viamlite.testing.recording`: :class:`~viamlite.testing.recording.Recorder`, a mixin that
  records the calls a resource was asked to make (the fakes use it); no pytest needed.
* :mod:`viamlite.testing.plugin`: a pytest plugin, loaded by the ``pytest11`` entry point once
  viamlite is installed, with the fixtures ``served_machine`` and ``wait_for``.
* :mod:`viamlite.testing.contracts`: the tests each component API's models should pass, to
  run against your own model (``class TestMyServo(ServoContract)``).

Importing this package imports neither pytest nor the plugin.
"""
