"""Generated modules of the Viam app API (``viamlite/protos/app/``), in :data:`viamlite.gen.POOL`.

Only the fleet and cloud plugins import these; serving a machine never does.
"""
