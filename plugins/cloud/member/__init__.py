"""The machine's side of a fleet: ``viamlite serve`` with viam-server's ``cloud`` block.

:class:`FleetMember` is the :class:`~viamlite.hookspecs.ConfigSource` the ``cloud`` plugin
gives ``viamlite serve`` for such a config. It ties together:

* :mod:`.link`: the channel to the fleet, the part's credentials, the part's address sent
  with every call (``viamlite-part-address``, from which the fleet knows ``RobotPart.fqdn``);
* :mod:`.configsync`: the config fetched, checked, applied live and cached (:mod:`.cache`);
* :mod:`.logsync`: every log record, queued (bounded, never blocking) and sent in batches;
* :mod:`.restart`: NeedsRestart polled, and a clean restart when the fleet asks;
* :mod:`.agent`: what the fleet learns of the host (AgentInfo).

The keys the fleet scopes to the machine arrive in the config's ``auth`` handler as
SHA-256 hashes (``key_hashes``); the machine's :class:`~viamlite.auth.Authority` checks
clients' keys against them, so fleet-issued keys work against the part itself.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from viamlite.config import MachineConfig

from viamlite_plugins.cloud.member.agent import agent_info, host_ips, part_address
from viamlite_plugins.cloud.member.cache import ConfigCache
from viamlite_plugins.cloud.member.configsync import ConfigSync
from viamlite_plugins.cloud.member.link import FleetLink
from viamlite_plugins.cloud.member.logsync import CAPACITY, LogQueue, LogSender
from viamlite_plugins.cloud.member.restart import RestartWatch

log = logging.getLogger("viamlite.cloud")


class FleetMember:
    """A served machine that is a part of a fleet (see the module docstring)."""

    def __init__(self, local: MachineConfig, *, plugin_manager: Any = None, capacity: int = CAPACITY) -> None:
        if local.cloud is None:
            raise ValueError("a fleet member needs a config whose cloud block names a fleet")
        self.cloud = local.cloud
        self.link = FleetLink(self.cloud)
        self.logs = LogQueue(capacity)
        logging.getLogger().addHandler(self.logs)
        self.sender = LogSender(self.link, self.cloud.id, self.logs).start()
        self._ips = host_ips()
        agent = agent_info(self._ips)
        self.configs = ConfigSync(self.link, local, ConfigCache(self.cloud.id), plugin_manager=plugin_manager,
                                  agent=lambda: agent)
        self.restarts: RestartWatch | None = None
        self._closed = False
        self._close_lock = threading.Lock()

    def initial(self) -> MachineConfig:
        return self.configs.initial()

    def start(self, machine: Any, address: tuple[str, int], restart: Callable[[], None]) -> None:
        self.link.part_address = part_address(address[0], address[1], self._ips)
        log.info("part %s of the fleet at %s, reachable at %s", self.cloud.id, self.cloud.app_address,
                 self.link.part_address)

        def clean_restart() -> None:
            self.configs.stop()  # nothing is applied while the machine stops
            restart()

        self.configs.start(machine, clean_restart)
        self.restarts = RestartWatch(self.link, self.cloud.id, clean_restart).start()

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.configs.stop()
        if self.restarts is not None:
            self.restarts.stop()
        self.sender.close()
        logging.getLogger().removeHandler(self.logs)
        self.link.close()


__all__ = ["FleetMember"]
