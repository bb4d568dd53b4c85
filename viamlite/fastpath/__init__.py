"""The msgpack fast path: request/reply, subscriptions and setpoint streams beside gRPC.

The protocol is specified in ``docs/fastpath.md``. Modules: ``schema`` (message and
method ids), ``framing`` (stream and serial frames), ``dispatch`` (table rows to resource
calls), ``connection`` and ``server`` (serving a machine), ``clientprotocol`` (a client
session without I/O, which every client uses), ``client`` and ``aclient`` (sync and async
clients; the sync one's I/O is ``syncio``, its channels ``streams``), ``proxy`` (resource interfaces over the client), ``config``
(the ``fastpath`` config block), ``bench`` (``viamlite bench``).
"""
from __future__ import annotations
