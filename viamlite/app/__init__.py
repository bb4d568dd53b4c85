"""The Viam app API's shared helpers, for the fleet (the app) and the machine's side of it.

- :mod:`viamlite.app.robotconfig`: a viam-server machine config (JSON) and the app API's
  ``RobotConfig`` (``viam.app.v1``), both ways, for the whole config or one component.
- :mod:`viamlite.app.logs`: Python log records and ``viam.common.v1.LogEntry``, both ways.
- :mod:`viamlite.app.durations`: Go duration strings (``"10s"``) and protobuf Durations.

Nothing here is imported by ``import viamlite`` or by serving a machine: it loads the app
API's generated code (``viamlite.gen.app``), which only the fleet and cloud plugins need.
"""
