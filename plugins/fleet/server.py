"""A fleet process: the app API over gRPC (TLS by default) on one database."""
from __future__ import annotations

import logging

from viamlite.transport.grpc_server import GrpcServer
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.notify import LogBus
from viamlite_plugins.fleet.service.app import AppApi
from viamlite_plugins.fleet.service.auth import auth_methods
from viamlite_plugins.fleet.service.builds import BuildApi
from viamlite_plugins.fleet.service.data import data_methods
from viamlite_plugins.fleet.service.modules import ModuleApi
from viamlite_plugins.fleet.service.robot import RobotApi
from viamlite_plugins.fleet.tokens import Tokens
from viamlite_plugins.fleet.writer import LogWriter

log = logging.getLogger("viamlite.fleet")


class FleetServer:
    def __init__(self, db: Database, *, token_lifetime: float = 3600.0, build_runner: bool = False) -> None:
        from viamlite.gen import POOL

        self.db = db
        self.tokens = Tokens(db, token_lifetime)
        self.bus = LogBus(db)
        self.writer = LogWriter(db, self.bus)
        methods = [*auth_methods(self.tokens), *AppApi(db, self.tokens, self.bus).methods(),
                   *RobotApi(db, self.tokens, self.bus, self.writer).methods(), *data_methods(db, self.tokens),
                   *ModuleApi(db, self.tokens).methods(), *BuildApi(db, self.tokens, enabled=build_runner).methods()]
        self.grpc = GrpcServer(methods, pool=POOL, quick_workers=24, long_workers=256)
        self.port = 0

    def start(self, bind: str, *, tls: tuple[bytes, bytes] | None = None) -> int:
        self.port = self.grpc.serve(bind, tls)
        return self.port

    def stop(self, grace: float = 1.0) -> None:
        self.grpc.stop(grace)
        self.writer.close()
        self.bus.close()
        self.db.close()
