"""Running a command: its module imported, its function called with a :class:`Context`;
a :class:`CommandError` is one line (with the traceback too under ``--debug``)."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError


def fail(args: argparse.Namespace, exc: CommandError) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"{getattr(args, 'command_prog', 'viamlite')}: {exc}", file=sys.stderr)
    return exc.code


def run(target: str, args: argparse.Namespace) -> int:
    """Run ``module:function`` of this package with ``args``; the exit code."""
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    # The dial's warning that a key goes in clear to an http:// app on this host is what the
    # user asked for with that URL; it is shown with --debug only.
    dial_log = logging.getLogger("viamlite.dial")
    level = dial_log.level
    if not getattr(args, "debug", False):
        dial_log.setLevel(logging.ERROR)
    ctx = Context(args)
    try:
        return int(function(ctx) or 0)
    except CommandError as exc:
        return fail(args, exc)
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()
        dial_log.setLevel(level)
