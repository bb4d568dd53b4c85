"""What ``viamlite fleet init`` and ``viamlite fleet serve`` do (their options are in
``viamlite_plugins.fleet``, so registering the command loads none of this)."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from viamlite.address import split_host_port

log = logging.getLogger("viamlite.fleet")


def _open(args: argparse.Namespace, command: str):  # type: ignore[no-untyped-def]
    from viamlite_plugins.fleet.db import DatabaseError, default_url, open_database

    try:
        return open_database(args.db or default_url())
    except DatabaseError as exc:
        print(f"viamlite fleet {command}: {exc}", file=sys.stderr)
        return None


def init(args: argparse.Namespace) -> int:
    from viamlite_plugins.fleet.service import name_field
    from viamlite_plugins.fleet.store import keys, orgs
    from viamlite_plugins.fleet.store.keys import Grant

    try:
        org_name = name_field(args.organization or "my-org", "--organization")
        location_name = name_field(args.location or "main", "--location")
    except ValueError as exc:
        print(f"viamlite fleet init: {exc}", file=sys.stderr)
        return 2
    db = _open(args, "init")
    if db is None:
        return 2 if args.db and not args.db.startswith("postgresql") else 1
    try:
        with db.write() as conn:
            org_id = orgs.create_organization(conn, org_name)
            location_id = orgs.create_location(conn, org_id, location_name)
            key_id, key = keys.create_key(conn, f"{org_name}-owner", [Grant(org_id, "owner", "organization", org_id)])
    finally:
        db.close()
    if args.json:
        print(json.dumps({"organization_id": org_id, "location_id": location_id, "api_key_id": key_id,
                          "api_key": key}))
    else:
        print(f"organization {org_name!r}: {org_id}")
        print(f"location {location_name!r}: {location_id}")
        print(f"owner API key (shown only now; keep it): key id {key_id}, key {key}")
        print(f"log in with: viamlite login api-key --key-id {key_id} --key {key}")
    return 0


def serve(args: argparse.Namespace) -> int:
    from viamlite.errors import BindError
    from viamlite_plugins.fleet.server import FleetServer

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        host, _ = split_host_port(args.bind)
    except ValueError as exc:
        print(f"viamlite fleet serve: --bind {args.bind!r}: {exc}", file=sys.stderr)
        return 2
    if args.token_lifetime <= 0:
        print("viamlite fleet serve: --token-lifetime must be a positive number of seconds", file=sys.stderr)
        return 2
    tls = None
    if not args.no_tls:
        from viamlite.transport import tlscert

        cert, key, path = tlscert.self_signed()
        tls = (cert, key)
        log.info("serving TLS with the self-signed certificate %s", path)
    db = _open(args, "serve")
    if db is None:
        return 1
    server = FleetServer(db, token_lifetime=args.token_lifetime, build_runner=args.build_runner)
    if args.build_runner:
        log.warning("module builds are on (--build-runner): they run the modules' build steps on this host")
    try:
        port = server.start(args.bind, tls=tls)
    except BindError as exc:
        print(f"viamlite fleet serve: {exc}", file=sys.stderr)
        server.stop(0)
        return 1
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    print(f"viamlite fleet serving on {shown}:{port} ({scheme}, database {db.engine.url.render_as_string()})",
          flush=True)
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    done.wait()
    server.stop()
    return 0
