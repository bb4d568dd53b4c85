"""Built-in commands (``serve``, ``version``), registered as a plugin like any other."""
from __future__ import annotations

import argparse

from viamlite.hookspecs import hookimpl


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve", help="serve a machine over gRPC (the demo machine when no config is given)",
        description="Serve a machine: the Viam gRPC API on --bind (or network.bind_address). "
                    "Without --config, an embedded demo machine with one fake of each component API.")
    serve.add_argument("--config", "-c", metavar="PATH", help="viam-server machine config (JSON); reloaded when it changes")
    serve.add_argument("--bind", metavar="HOST:PORT", help="address to listen on (default: network.bind_address, else localhost:8080)")
    serve.add_argument("--no-tls", action="store_true",
                       help="serve plaintext even when API keys are required (keys then travel in clear text)")
    serve.add_argument("--repl", action="store_true", help="also open the REPL on the served machine, in this process")
    serve.add_argument("--fastpath", metavar="HOST:PORT", help="msgpack fast-path TCP address (default: fastpath.address, "
                       "else 127.0.0.1 on the gRPC port + 1; port 0 picks a free one)")
    serve.add_argument("--no-fastpath", action="store_true", help="serve gRPC only, without the msgpack fast path")
    serve.set_defaults(func=_serve)
    version = subparsers.add_parser("version", help="print viamlite's version")
    version.set_defaults(func=_version)


def _serve(args: argparse.Namespace) -> int:
    from viamlite.cli.serve import serve

    return serve(config_path=args.config, bind=args.bind, debug=args.debug, plugin_manager=args.plugin_manager,
                 no_tls=args.no_tls, repl=args.repl, fastpath=args.fastpath, no_fastpath=args.no_fastpath)


def _version(args: argparse.Namespace) -> int:
    from viamlite import __version__

    print(f"viamlite {__version__}")
    return 0
