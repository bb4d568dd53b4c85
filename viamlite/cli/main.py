"""The ``viamlite`` command. Subcommands come from plugins (built-ins are a plugin too)."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any


def build_parser(plugin_manager: Any = None) -> argparse.ArgumentParser:
    """The ``viamlite`` parser; each parsed command carries the plugin manager as
    ``args.plugin_manager`` so commands reuse it rather than load plugins again."""
    from viamlite import __version__
    from viamlite.plugins import build_plugin_manager

    pm = plugin_manager or build_plugin_manager()
    parser = argparse.ArgumentParser(prog="viamlite", description="A Viam-compatible machine runtime in pure Python.")
    parser.add_argument("--debug", action="store_true", help="debug logging, and tracebacks on errors "
                        "(after any subcommand too)")
    parser.add_argument("--base-url", metavar="URL", default=None,
                        help="the Viam app the cloud commands talk to (default: the logged-in one, else "
                             "https://app.viam.com; http:// is plaintext)")
    parser.add_argument("--version", action="version", version=f"viamlite {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    pm.hook.viamlite_register_commands(subparsers=subparsers)
    from viamlite.cli.tree import add_everywhere

    add_everywhere(parser, "--debug", action="store_true", help="debug logging, and tracebacks on errors")
    parser.set_defaults(plugin_manager=pm)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"viamlite {args.command}: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1
