"""``machines part shell``: the part's shell service, interactively on a terminal, or with
standard input and output piped when not on one. The exit status is the remote shell's."""
from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError
from viamlite_plugins.cloud.commands.part import address_of, dial_args

SHELL_PATH = "/viam.service.shell.v1.ShellService/Shell"
EXIT_STATUS = "viamlite-exit-status"


def _service_name(channel: Any, wanted: str) -> str:
    """The part's shell service: ``wanted``, else the only one."""
    import grpc

    from viamlite.gen import robot_pb2

    call = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                               request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                               response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
    try:
        names = [r.name for r in call(robot_pb2.ResourceNamesRequest(), timeout=10).resources
                 if r.type == "service" and r.subtype == "shell"]
    except grpc.RpcError as err:
        raise CommandError(f"the part did not list its resources: {err.code().name}: {err.details()}") from None
    if wanted:
        if wanted not in names:
            raise CommandError(f"the part has no shell service {wanted!r} (it has {', '.join(names) or 'none'})")
        return wanted
    if not names:
        raise CommandError("the part has no shell service: add one (viamlite machines part add-resource --name shell "
                           "--api rdk:service:shell --model-name rdk:builtin:shell) and try again")
    return names[0]


class _Requests:
    """The requests of the Shell stream, fed from other threads; ``close`` ends it."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()

    def put(self, request: Any) -> None:
        self._queue.put(request)

    def close(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[Any]:
        while (item := self._queue.get()) is not None:
            yield item


def _pump_stdin(requests: _Requests, make: Any) -> None:
    """Standard input, as it comes, into ``requests``; closed at EOF."""
    fd = sys.stdin.fileno()
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        requests.put(make(data_in=data.decode("utf-8", "replace")))
    requests.close()


def part_shell(ctx: Context) -> int:
    import grpc

    from viamlite.errors import ViamliteError
    from viamlite.gen import shell_pb2 as pb
    from viamlite.rpc import wire
    from viamlite.transport.dial import dial

    a = ctx.args
    part = ctx.resolve.part(a.part, a.machine, a.organization, a.location)
    address = address_of(ctx, part)
    how = dial_args(ctx, address)
    try:
        dialed = dial(address, api_key_id=how["key_id"], api_key=how["key"], insecure=how["insecure"], timeout=10)
    except ViamliteError as exc:
        raise CommandError(f"cannot open part {part.name!r} at {address}: {exc}") from None
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        name = _service_name(dialed.channel, a.service)
        first = pb.ShellRequest(name=name)
        options: dict[str, Any] = {"tty": interactive}
        if interactive:
            size = os.get_terminal_size()
            options.update(rows=size.lines, cols=size.columns, term=os.environ.get("TERM", "xterm"))
        wire.dict_to_struct(options, first.extra)
        requests = _Requests()
        requests.put(first)
        call = dialed.channel.stream_stream(SHELL_PATH, request_serializer=pb.ShellRequest.SerializeToString,
                                            response_deserializer=pb.ShellResponse.FromString)
        responses = call(iter(requests))
        threading.Thread(target=_pump_stdin, args=(requests, pb.ShellRequest), daemon=True).start()
        restore = _raw_terminal(requests, pb.ShellRequest, wire) if interactive else None
        try:
            for response in responses:
                if response.data_out:
                    sys.stdout.write(response.data_out)
                    sys.stdout.flush()
                if response.data_err:
                    sys.stderr.write(response.data_err)
                    sys.stderr.flush()
                if response.eof:
                    break
        except grpc.RpcError as err:
            raise CommandError(f"the shell on part {part.name!r} failed: {err.code().name}: {err.details()}") from None
        except KeyboardInterrupt:
            responses.cancel()
            return 130
        finally:
            if restore is not None:
                restore()
        status = dict(responses.trailing_metadata() or ()).get(EXIT_STATUS)
        return int(status) if status is not None and str(status).lstrip("-").isdigit() else 0
    finally:
        dialed.close()


def _raw_terminal(requests: _Requests, make: Any, wire: Any) -> Any:
    """Put the terminal in raw mode (keys go to the remote shell as typed) and pass window
    size changes on; returns the function that puts it back."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)

    def resized(*_: Any) -> None:
        size = os.get_terminal_size()
        request = make()
        wire.dict_to_struct({"rows": size.lines, "cols": size.columns}, request.extra)
        requests.put(request)

    previous = signal.signal(signal.SIGWINCH, resized)

    def restore() -> None:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous)

    return restore
