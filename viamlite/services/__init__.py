"""viam-server's built-in services that viamlite offers (one folder each).

* :mod:`.shell`: ``rdk:service:shell``, a shell on the machine for authenticated callers.

A service here knows nothing of transports; its wire adapter is ``viamlite.adapters.<name>``.
"""
