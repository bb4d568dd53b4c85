"""Simulated fleet members for benchmarks: many machines in one asyncio process.

Each :class:`Machine` has its own gRPC channel (its own TCP connection: grpc.aio with a
local subchannel pool), authenticates with its own part secret (``robot-secret``) and then
does what a ``viamlite serve`` member does, in the member's pace:

* ``RobotService.Config`` (with agent info and the ``viamlite-part-address`` header) every
  ``config_every`` seconds;
* one log line a second into a queue, drained by ``RobotService.Log`` calls of at most 100
  entries (as plugins/cloud's LogSender does: a batch the fleet did not take goes back to
  the head of the queue and is sent again after a pause of 1 s doubling to 5 s).

Phases are random, so calls spread evenly over time. Latencies are recorded per call; a
failed call is kept as a failure (it counts as slower than any latency).
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import grpc
from viam.gen.app.v1.robot_pb2 import (
    AgentInfo,
    ConfigRequest,
    ConfigResponse,
    LogRequest,
    LogResponse,
)
from viam.gen.common.v1.common_pb2 import LogEntry
from viam.gen.proto.rpc.v1.auth_pb2 import (
    AuthenticateRequest,
    AuthenticateResponse,
    Credentials,
)

BATCH = 100
LOG_TIMEOUT = 4.0
CONFIG_TIMEOUT = 10.0
_OPTIONS = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0)]


@dataclass
class Stats:
    """What one load step measured (latencies in seconds; failures by status code)."""

    config: list[float] = field(default_factory=list)
    log: list[float] = field(default_factory=list)
    config_failures: dict[str, int] = field(default_factory=dict)
    log_failures: dict[str, int] = field(default_factory=dict)

    def fail(self, kind: str, code: str) -> None:
        table = self.config_failures if kind == "config" else self.log_failures
        table[code] = table.get(code, 0) + 1


def _code(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code().name
    return type(exc).__name__


class Machine:
    """One simulated member: a part id, its secret, its own channel to one fleet process."""

    def __init__(self, index: int, part_id: str, secret: str, address: str) -> None:
        self.index = index
        self.part_id = part_id
        self.secret = secret
        self.address = address
        self.channel = grpc.aio.insecure_channel(address, options=_OPTIONS)
        self._auth = self.channel.unary_unary("/proto.rpc.v1.AuthService/Authenticate",
                                              request_serializer=AuthenticateRequest.SerializeToString,
                                              response_deserializer=AuthenticateResponse.FromString)
        self._config = self.channel.unary_unary("/viam.app.v1.RobotService/Config",
                                                request_serializer=ConfigRequest.SerializeToString,
                                                response_deserializer=ConfigResponse.FromString)
        self._log = self.channel.unary_unary("/viam.app.v1.RobotService/Log",
                                             request_serializer=LogRequest.SerializeToString,
                                             response_deserializer=LogResponse.FromString)
        self.metadata: tuple[tuple[str, str], ...] = ()
        self.queue: list[LogEntry] = []
        self.sending: asyncio.Task | None = None
        self.polling: set[asyncio.Task] = set()
        self.generated = 0  # lines made in the current step
        self.tag = ""
        self._seq = 0
        self._agent = AgentInfo(host=f"sim-{index}", ips=["127.0.0.1"], version="0.0.0-bench", git_revision="bench",
                                platform="linux/amd64")

    async def authenticate(self) -> None:
        response = await self._auth(AuthenticateRequest(entity=self.part_id, credentials=Credentials(
            type="robot-secret", payload=self.secret)), timeout=30)
        self.metadata = (("authorization", f"Bearer {response.access_token}"),
                         ("viamlite-part-address", f"127.0.0.1:{20000 + self.index % 40000}"))

    async def close(self) -> None:
        await self.channel.close()

    # -- one step ---------------------------------------------------------------------

    async def run(self, tag: str, until: float, stats: Stats, config_every: float, rng: random.Random) -> None:
        """Poll Config and make a log line a second until the loop's clock reaches ``until``."""
        loop = asyncio.get_running_loop()
        self.tag = tag
        self.generated = 0
        start = loop.time()
        next_log = start + rng.random()
        next_config = start + rng.random() * config_every
        while True:
            wake = min(next_log, next_config)
            if wake >= until:
                return
            await asyncio.sleep(max(0.0, wake - loop.time()))
            if next_config <= wake:
                next_config += config_every
                task = asyncio.ensure_future(self.poll_config(stats))
                self.polling.add(task)
                task.add_done_callback(self.polling.discard)
            if next_log <= wake:
                next_log += 1.0
                self.add_line()
                if self.sending is None or self.sending.done():
                    self.sending = asyncio.ensure_future(self.drain(stats))

    async def poll_config(self, stats: Stats) -> None:
        t0 = time.perf_counter()
        try:
            await self._config(ConfigRequest(id=self.part_id, agent_info=self._agent), metadata=self.metadata,
                               timeout=CONFIG_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, by code
            stats.fail("config", _code(exc))
            return
        stats.config.append(time.perf_counter() - t0)

    def add_line(self) -> None:
        self._seq += 1
        self.generated += 1
        entry = LogEntry(host=f"sim-{self.index}", level="info", logger_name=self.tag,
                         message=f"machine {self.index} line {self._seq}: servo1 reached 90 deg in 12 ms, "
                                 f"camera1 frame ok, queue depth {len(self.queue)}")
        entry.time.GetCurrentTime()
        entry.caller.update({"File": "bench/fleet_machines.py", "Line": 120, "Defined": True})
        self.queue.append(entry)

    async def drain(self, stats: Stats) -> None:
        """Send the queue in batches until it is empty (pausing after a failed call)."""
        pause = 1.0
        while self.queue:
            batch = self.queue[:BATCH]
            t0 = time.perf_counter()
            try:
                await self._log(LogRequest(id=self.part_id, logs=batch), metadata=self.metadata, timeout=LOG_TIMEOUT)
            except Exception as exc:  # noqa: BLE001
                stats.fail("log", _code(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            stats.log.append(time.perf_counter() - t0)
            del self.queue[:len(batch)]
            pause = 1.0


async def authenticate_all(machines: list[Machine], concurrency: int = 64) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(m: Machine) -> None:
        async with gate:
            await m.authenticate()

    await asyncio.gather(*(one(m) for m in machines))


async def run_step(machines: list[Machine], tag: str, seconds: float, config_every: float, drain_s: float,
                   seed: int = 1) -> tuple[Stats, float]:
    """All ``machines`` for ``seconds``; then up to ``drain_s`` for their queues to empty
    (what is still queued then stays in ``Machine.queue``, unsent). Returns the stats and
    the seconds the drain took."""
    loop = asyncio.get_running_loop()
    stats = Stats()
    rng = random.Random(seed)
    until = loop.time() + seconds
    await asyncio.gather(*(m.run(tag, until, stats, config_every, rng) for m in machines))
    t0 = loop.time()
    senders = [m.sending for m in machines if m.sending is not None and not m.sending.done()]
    if senders:
        await asyncio.wait(senders, timeout=drain_s)
    drained = loop.time() - t0
    # What did not drain in time stays unsent (counted by the caller): stop sending it.
    for m in machines:
        if m.sending is not None and not m.sending.done():
            m.sending.cancel()
    await asyncio.sleep(0)
    polls = [task for m in machines for task in m.polling]  # Config calls in flight (a deadline bounds them)
    if polls:
        await asyncio.wait(polls, timeout=CONFIG_TIMEOUT)
    return stats, drained
