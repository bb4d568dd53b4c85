"""``viamlite repl``: ptpython with ``machine`` and every resource bound to a Python name.

The namespace builder (:func:`build_namespace`) is plain Python and tested on its own;
:func:`run_repl` hands its namespace to ptpython's ``embed``. Works the same on an
in-process :class:`~viamlite.machine.Machine` and on a client of a remote machine.
"""
from __future__ import annotations

import builtins
import keyword
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESERVED = frozenset({"machine", "viamlite"})


def identifier_for(name: str) -> str:
    """A Python identifier for a resource name: ``servo-1`` -> ``servo_1``, ``1st`` -> ``_1st``,
    ``remote1:arm`` -> ``remote1_arm``."""
    text = re.sub(r"\W", "_", name)
    if not text or text[0].isdigit():
        text = f"_{text}"
    return text


@dataclass
class Namespace:
    """What the REPL binds: ``names`` (identifier -> value), the resource bindings in order
    (identifier, resource name, API) and the problems found while binding."""

    names: dict[str, Any]
    bound: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def build_namespace(machine: Any) -> Namespace:
    """Bind ``machine`` and each of its resources to an identifier; report renames and failures.

    A name that is a keyword, a builtin, ``machine``/``viamlite`` or another resource's
    identifier gets a ``_`` suffix (then a number) and the clash is reported.
    """
    import viamlite

    ns = Namespace({"machine": machine, "viamlite": viamlite})
    for rn in sorted(machine.resource_names, key=lambda n: (n.api.type != "component", n.full_name)):
        ident = base = identifier_for(rn.full_name)
        reason = ""
        if keyword.iskeyword(base) or keyword.issoftkeyword(base):
            reason = "is a Python keyword"
        elif base in RESERVED:
            reason = f"would hide `{base}`"
        elif hasattr(builtins, base):
            reason = "would hide a Python builtin"
        elif base in ns.names:
            reason = f"clashes with another resource bound as `{base}`"
        if reason:
            ident = f"{base}_"
            n = 2
            while ident in ns.names or hasattr(builtins, ident):
                ident, n = f"{base}_{n}", n + 1
            ns.problems.append(f"{rn.full_name!r} {reason}: bound as `{ident}`")
        elif ident != rn.full_name:
            pass  # a plain rename (servo-1 -> servo_1) is shown in the banner, not a problem
        try:
            ns.names[ident] = machine.resource(rn.api, rn.full_name)
        except Exception as exc:  # an unhealthy resource: say why, bind the rest
            ns.problems.append(f"{rn.full_name!r} ({rn.api}) is not available: {exc}")
            continue
        ns.bound.append((ident, rn.full_name, str(rn.api)))
    return ns


def banner(ns: Namespace, where: str) -> str:
    """The text shown above the first prompt."""
    lines = [f"viamlite REPL on {where}. `machine` is the machine; its resources:"]
    if not ns.bound:
        lines.append("  (none)")
    width = max((len(i) for i, _, _ in ns.bound), default=0)
    for ident, name, api in ns.bound:
        alias = f"  (resource {name!r})" if ident != name else ""
        lines.append(f"  {ident:<{width}}  {api}{alias}")
    for problem in ns.problems:
        lines.append(f"  note: {problem}")
    lines.append("Tab completes; Ctrl-C cancels a running call; Ctrl-D quits.")
    return "\n".join(lines)


def history_path() -> Path:
    """``$XDG_DATA_HOME/viamlite/repl_history`` (default ``~/.local/share/viamlite/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "viamlite" / "repl_history"


class _CurrentStderr:
    """A stream that writes to whatever ``sys.stderr`` is now, so log handlers follow
    ptpython's patched stderr and background log lines stay above the prompt."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def run_repl(machine: Any, where: str) -> None:
    """Run ptpython on ``machine`` until the user quits (Ctrl-D or ``exit()``)."""
    ns = build_namespace(machine)
    print(banner(ns, where), flush=True)
    from ptpython.repl import embed

    history = history_path()
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        history = Path(os.devnull)

    def configure(repl: Any) -> None:
        repl.confirm_exit = False
        repl.enable_history_search = True
        repl.show_signature = True
        repl.show_docstring = False
        repl.title = f"viamlite {where}"

    names = dict(ns.names)
    names["__name__"] = "__viamlite_repl__"
    swapped = []
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and handler.stream in (sys.stderr, sys.__stderr__, sys.stdout):
            swapped.append((handler, handler.setStream(_CurrentStderr())))  # type: ignore[arg-type]
    try:
        embed(globals=names, history_filename=str(history), patch_stdout=True, configure=configure,
              title=f"viamlite {where}")
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)
