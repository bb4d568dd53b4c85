"""The command tree: groups that several plugins fill, and options every command takes.

A plugin that adds to a group another plugin made (the cloud commands' ``machines list``
beside the built-in ``machines part run``) finds it with :func:`group`, and its
subcommands with :func:`subcommands`; both make what is missing.
"""
from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any


def subcommands(parser: argparse.ArgumentParser, dest: str = "", metavar: str = "COMMAND",
                required: bool = True) -> argparse._SubParsersAction:
    """``parser``'s subcommand collection (made when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=dest or None, metavar=metavar, required=required)


def group(subparsers: argparse._SubParsersAction, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """The subcommand ``name`` (or one of its aliases) of ``subparsers``; added with
    ``kwargs`` when there is none yet."""
    found = subparsers.choices.get(name)
    if found is not None:
        return found
    return subparsers.add_parser(name, **kwargs)


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser under ``parser`` (not ``parser`` itself), each once, aliases folded."""
    seen: set[int] = set()
    stack = [parser]
    while stack:
        for action in stack.pop()._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for child in action.choices.values():
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
                    yield child


def add_everywhere(parser: argparse.ArgumentParser, *flags: str, **kwargs: Any) -> None:
    """Let every subcommand take the option ``flags`` as well as the top level (``viamlite
    serve --debug`` as ``viamlite --debug serve``). Given after the subcommand it sets the
    same attribute; not given there, the top level's value stands."""
    for child in parsers(parser):
        if not any(flag in child._option_string_actions for flag in flags):
            child.add_argument(*flags, default=argparse.SUPPRESS, **kwargs)
