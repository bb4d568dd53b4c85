"""The ``viamlite`` command: the entry point, ``serve``, ``repl``, ``machines``, ``bench`` and
the built-in commands. Every subcommand is added by a plugin (the built-ins are plugins too)."""
from __future__ import annotations

from viamlite.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
