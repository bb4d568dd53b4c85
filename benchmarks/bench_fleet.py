"""How many machines a `viamlite fleet` holds, and how fast it finds logs, on SQLite and PostgreSQL.

    python benchmarks/bench_fleet.py --quick        # under 3 minutes (250,000 stored log lines)
    python benchmarks/bench_fleet.py                # the full ramp (about 15 minutes at most)
    python benchmarks/bench_fleet.py --backends postgresql --steps-pg 1000,2000 --explain

Against real `viamlite fleet serve --no-tls` processes on 127.0.0.1 (a fresh SQLite file, and
a real PostgreSQL started for the run as the `postgres` user, as the tests do):

1. **Machines held.** N simulated machines (benchmarks/fleet_machines.py: one asyncio process,
   each machine its own gRPC connection and its own part secret) poll RobotService.Config every
   10 s and make one log line a second, sent by RobotService.Log in batches as a member sends
   them. N ramps in steps of ``--step-seconds`` each; after a step the machines stop, their
   queues drain (at most ``--drain-seconds``) and the stored lines are counted per part. A step
   is held when Config p99 < 100 ms, every line was stored exactly once and no call failed. The
   ramp stops at the first step not held.
2. **Log queries.** ``--log-lines`` lines (a million; 250,000 with ``--quick``) of one part are written
   straight into the logs table (COPY / executemany), then GetRobotPartLogs (first page of 100,
   newest first) is timed unfiltered and with a keyword that matches a quarter of the lines,
   one in a thousand, and none.
3. **Two fleet processes over one PostgreSQL**: the same, machines split between the two.

Every wait is bounded; a benchmark, not a test: it prints figures and asserts nothing. Set
``--profile DIR`` to run each fleet process under a per-thread cProfile (pstats files in DIR).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fleet_logstore import KEYWORDS, bulk_load, explain, time_queries
from fleet_machines import Machine, Stats, authenticate_all, run_step

CONFIG_P99_GOAL = 0.100
GOALS = {"sqlite": 500, "postgresql": 1000, "postgresql x2": 1000}
QUICK = {"sqlite": [100, 500], "postgresql": [250, 1000], "postgresql x2": [250, 1000], "step": 10.0, "drain": 6.0,
         "queries": 20, "query_budget": 3.0, "log_lines": 250_000}
FULL = {"sqlite": [100, 250, 500, 750, 1000, 1500, 2000], "postgresql": [100, 250, 500, 1000, 1500, 2000, 3000],
        "postgresql x2": [250, 500, 1000, 2000, 3000, 4000], "step": 30.0, "drain": 15.0, "queries": 100,
        "query_budget": 20.0, "log_lines": 1_000_000}
CLK = os.sysconf("SC_CLK_TCK")


# -- figures ------------------------------------------------------------------------------


def pct(values: list[float], q: float, failures: int = 0) -> float:
    """The ``q`` quantile (0..1) of ``values`` with ``failures`` counted as infinitely slow."""
    data = sorted(values) + [float("inf")] * failures
    if not data:
        return float("nan")
    return data[min(len(data) - 1, int(q * len(data)))]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return "fail" if math.isinf(seconds) else f"{seconds * 1000:.1f}"


def cpu_seconds(pids: list[int]) -> float:
    """utime+stime (and reaped children's) of ``pids``, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])
        except OSError:
            pass
    return total / CLK


def postgres_pids(data_dir: Path) -> list[int]:
    """The postmaster and its children (the backends the fleet's pools hold open)."""
    try:
        master = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return pids


@dataclass
class StepRow:
    section: str
    n: int
    stats: Stats
    generated: int
    stored: int
    unsent: int  # still queued on the machines when the drain time ran out
    lost: int  # neither stored nor still queued
    duplicated: int
    drain_s: float
    seconds: float
    fleet_cpu: float
    pg_cpu: float | None
    client_cpu: float
    load: float  # the machine's 1-minute load average at the step's end (other work shares the CPUs)

    @property
    def config_failures(self) -> int:
        return sum(self.stats.config_failures.values())

    @property
    def log_failures(self) -> int:
        return sum(self.stats.log_failures.values())

    @property
    def cpu_per_call(self) -> float:
        """Fleet CPU seconds (all its processes) per Config or Log call."""
        calls = len(self.stats.config) + len(self.stats.log) + self.config_failures + self.log_failures
        return self.fleet_cpu * self.seconds / calls if calls else float("nan")

    @property
    def config_p99(self) -> float:
        return pct(self.stats.config, 0.99, self.config_failures)

    @property
    def held(self) -> bool:
        return (self.config_p99 < CONFIG_P99_GOAL and self.lost == 0 and self.unsent == 0 and self.duplicated == 0
                and self.config_failures == 0 and self.log_failures == 0)


# -- one section: a database, one or two fleet processes ------------------------------------


class Section:
    def __init__(self, name: str, url: str, fleets: list, owner, parts: list[tuple[str, str]], logs_part: str,
                 pg_data: Path | None) -> None:
        self.name, self.url, self.fleets, self.owner = name, url, fleets, owner
        self.parts, self.logs_part, self.pg_data = parts, logs_part, pg_data
        self.machines: list[Machine] = []

    def count_stored(self, tag: str) -> dict[str, int]:
        from sqlalchemy import func, select
        from viamlite_plugins.fleet.db.schema import logs

        with _engine(self.url).connect() as conn:
            query = select(logs.c.part_id, func.count()).where(logs.c.logger_name == tag).group_by(logs.c.part_id)
            return dict(conn.execute(query).all())  # type: ignore[arg-type]

    async def step(self, n: int, index: int, seconds: float, drain: float) -> StepRow:
        while len(self.machines) < n:
            i = len(self.machines)
            part_id, secret = self.parts[i]
            self.machines.append(Machine(i, part_id, secret, self.fleets[i % len(self.fleets)].address))
        await authenticate_all([m for m in self.machines[:n] if not m.metadata])
        machines = self.machines[:n]
        tag = f"bench.{self.name.replace(' ', '')}.n{n}.s{index}"
        fleet_pids = [f.proc.pid for f in self.fleets]
        pg_pids = postgres_pids(self.pg_data) if self.pg_data else []
        f0, p0, c0, t0 = cpu_seconds(fleet_pids), cpu_seconds(pg_pids), time.process_time(), time.monotonic()
        stats, drain_s = await run_step(machines, tag, seconds, 10.0, drain, seed=index)
        elapsed = time.monotonic() - t0
        f1, p1, c1 = cpu_seconds(fleet_pids), cpu_seconds(pg_pids), time.process_time()
        if any(m.queue for m in machines):
            await asyncio.sleep(2.0)  # calls cancelled in flight may still be stored
        stored = self.count_stored(tag)
        unsent = sum(len(m.queue) for m in machines)
        lost = sum(max(0, m.generated - stored.get(m.part_id, 0) - len(m.queue)) for m in machines)
        duplicated = sum(max(0, stored.get(m.part_id, 0) - m.generated) for m in machines)
        for m in machines:
            m.queue.clear()  # lines of this step do not go out in the next
        return StepRow(self.name, n, stats, sum(m.generated for m in machines), sum(stored.values()), unsent, lost,
                       duplicated,
                       drain_s, elapsed, (f1 - f0) / elapsed, (p1 - p0) / elapsed if self.pg_data else None,
                       (c1 - c0) / elapsed, os.getloadavg()[0])

    async def close_machines(self) -> None:
        for m in self.machines:
            await m.close()
        self.machines = []


_engines: dict[str, object] = {}


def _engine(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    if url not in _engines:
        _engines[url] = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    return _engines[url]


def provision(url: str, location_id: str, count: int) -> tuple[list[tuple[str, str]], str]:
    """``count`` machines (each with its main part) and one more for the bulk-loaded logs:
    [(part id, secret)] and the logs part's id."""
    from sqlalchemy import select
    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.db.schema import parts
    from viamlite_plugins.fleet.store import robots

    db = open_database(url)
    try:
        with db.write() as conn:
            ids = [robots.new_robot(conn, location_id, f"sim-{i}")[1] for i in range(count)]
            _, logs_part = robots.new_robot(conn, location_id, "bench-logs")
        with db.read() as conn:
            secrets = dict(conn.execute(select(parts.c.id, parts.c.secret)).all())
    finally:
        db.close()
    return [(i, secrets[i]) for i in ids], logs_part


# -- printing -------------------------------------------------------------------------------

STEP_HEADER = (f"{'section':<14} {'N':>5} {'cfg calls':>9} {'cfg p50':>8} {'cfg p99':>8} {'log calls':>9} "
               f"{'log p50':>8} {'log p99':>8} {'lines':>7} {'stored':>7} {'unsent':>6} {'lost':>5} {'dup':>4} {'fail':>5} "
               f"{'drain s':>7} {'fleet%':>6} {'ms/call':>7} {'pg%':>5} {'sim%':>5} {'load':>5}  held")


def step_line(r: StepRow) -> str:
    s = r.stats
    pg = f"{r.pg_cpu * 100:5.0f}" if r.pg_cpu is not None else f"{'-':>5}"
    failures = r.config_failures + r.log_failures
    line = (f"{r.section:<14} {r.n:>5} {len(s.config) + r.config_failures:>9} {ms(pct(s.config, 0.5)):>8} "
            f"{ms(r.config_p99):>8} {len(s.log) + r.log_failures:>9} {ms(pct(s.log, 0.5)):>8} "
            f"{ms(pct(s.log, 0.99, r.log_failures)):>8} {r.generated:>7} {r.stored:>7} {r.unsent:>6} {r.lost:>5} {r.duplicated:>4} "
            f"{failures:>5} {r.drain_s:>7.1f} {r.fleet_cpu * 100:>6.0f} {r.cpu_per_call * 1000:>7.2f} {pg} {r.client_cpu * 100:>5.0f} {r.load:>5.1f}  "
            f"{'yes' if r.held else 'NO'}")
    if failures:
        codes = {**{f"Config {k}": v for k, v in s.config_failures.items()},
                 **{f"Log {k}": v for k, v in s.log_failures.items()}}
        line += "  (" + ", ".join(f"{k} x{v}" for k, v in codes.items()) + ")"
    return line


# -- the run --------------------------------------------------------------------------------


async def ramp(section: Section, steps: list[int], seconds: float, drain: float) -> list[StepRow]:
    rows = []
    for index, n in enumerate(steps):
        if n > len(section.parts):
            break
        row = await section.step(n, index, seconds, drain)
        print(step_line(row), flush=True)
        rows.append(row)
        if not row.held:
            break
    await section.close_machines()
    return rows


async def log_queries(section: Section, args: argparse.Namespace, repeat: int, budget: float) -> dict:
    results = await time_queries([f.address for f in section.fleets], section.owner.api_key_id,
                                 section.owner.api_key, section.logs_part, repeat, budget)
    for label, (latencies, found) in results.items():
        print(f"  {section.name:<14} GetRobotPartLogs filter={label:<7} p50 {ms(pct(latencies, 0.5)):>7} ms  "
              f"p99 {ms(pct(latencies, 0.99)):>7} ms  ({len(latencies)} calls, {found} lines on the first page)",
              flush=True)
    if args.explain:
        for label, keyword in KEYWORDS[1:]:
            print(f"  plan for filter={label} ({keyword!r}):")
            print("    " + explain(section.url, section.logs_part, keyword).replace("\n", "\n    "), flush=True)
    return results


def start_fleets(url: str, count: int, profile: Path | None, name: str) -> list:
    from tests.fleetpeer import FleetProcess

    saved = dict(os.environ)
    fleets = []
    try:
        if profile is not None:
            os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "benchmarks" / "profile_hook"),
                                                        os.environ.get("PYTHONPATH", "")])
        for i in range(count):
            if profile is not None:
                os.environ["VIAMLITE_BENCH_PROFILE"] = str(profile / f"{name.replace(' ', '')}-{i}.pstats")
            fleets.append(FleetProcess(url))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return fleets


def stop_fleets(fleets: list) -> None:
    for f in fleets:
        code, _, err = f.stop(timeout=30)
        if code not in (0, -15):
            print(f"  (fleet process exited {code}: {err.strip()[-400:]})", flush=True)


async def run(args: argparse.Namespace) -> int:
    from tests.fleetpeer import fleet_init

    mode = QUICK if args.quick else FULL
    seconds = args.step_seconds or mode["step"]
    drain = args.drain_seconds or mode["drain"]
    repeat = args.queries or mode["queries"]
    log_lines = args.log_lines or mode["log_lines"]
    steps = {"sqlite": _steps(args.steps_sqlite) or mode["sqlite"],
             "postgresql": _steps(args.steps_pg) or mode["postgresql"],
             "postgresql x2": _steps(args.steps_pg2) or mode["postgresql x2"]}
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    profile = Path(args.profile).resolve() if args.profile else None
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    print(f"bench_fleet: {'quick' if args.quick else 'full'} mode, steps of {seconds:.0f} s (+ up to {drain:.0f} s "
          f"drain), Config every 10 s and 1 log line/s per machine, {log_lines:,} stored lines for the log "
          f"queries, {repeat} queries per filter; {os.cpu_count()} CPUs", flush=True)
    started = time.monotonic()
    held: dict[str, int] = {}
    queries: dict[str, dict] = {}
    pg = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        for backend in backends:
            sections = [backend] + (["postgresql x2"] if backend == "postgresql" and not args.no_two else [])
            if backend == "postgresql":
                from tests.pg import PostgresServer

                pg = PostgresServer()
                url = pg.new_database()
            elif backend == "sqlite":
                url = f"sqlite:///{tmp / 'fleet.db'}"
            else:
                print(f"bench_fleet: --backends {backend!r}: use sqlite and/or postgresql", file=sys.stderr)
                return 2
            owner = fleet_init(url)
            most = max(max(steps[s]) for s in sections)
            t0 = time.monotonic()
            parts, logs_part = provision(url, owner.location_id, most)
            print(f"{backend}: {most} machines made in {time.monotonic() - t0:.1f} s", flush=True)
            for name in sections:
                fleets = start_fleets(url, 2 if name.endswith("x2") else 1, profile, name)
                try:
                    section = Section(name, url, fleets, owner, parts, logs_part, pg.data if pg and
                                      url.startswith("postgresql") else None)
                    print(STEP_HEADER, flush=True)
                    rows = await ramp(section, steps[name], seconds, drain)
                    held[name] = max([r.n for r in rows if r.held], default=0)
                    if name == backend:
                        load_s = bulk_load(url, logs_part, log_lines)
                        print(f"  {name}: {log_lines:,} log lines of one part written in {load_s:.1f} s "
                              f"({log_lines / load_s:,.0f} lines/s)", flush=True)
                    queries[name] = await log_queries(section, args, repeat, mode["query_budget"])
                finally:
                    stop_fleets(fleets)
    finally:
        for engine in _engines.values():
            engine.dispose()  # type: ignore[attr-defined]
        if pg is not None:
            pg.stop()
    summary(held, queries, steps)
    print(f"bench_fleet: done in {time.monotonic() - started:.0f} s")
    return 0


def summary(held: dict[str, int], queries: dict[str, dict], steps: dict[str, list[int]]) -> None:
    print()
    labels = ["none", *(label for label, _ in KEYWORDS)]
    print(f"{'section':<14} {'machines held':>13} {'goal':>5}  " +
          "  ".join(f"{'logs ' + label + ' p50/p99 ms':>26}" for label in labels))
    for name, n in held.items():
        top = max(steps[name])
        shown = f">={n}" if n == top else str(n)
        q = queries.get(name, {})
        cells = []
        for label in labels:
            lat = q.get(label, ([], 0))[0]
            cells.append(f"{ms(pct(lat, 0.5)) + ' / ' + ms(pct(lat, 0.99)):>26}")
        print(f"{name:<14} {shown:>13} {GOALS[name]:>5}  " + "  ".join(cells))
    print(f"(held: Config p99 < {CONFIG_P99_GOAL * 1000:.0f} ms, every line stored once within the drain time, no "
          f"failed call; unsent: still queued on the machines when the drain time ran out; dup: stored twice, "
          f"a Log call that timed out on the machine but was stored, then sent again; "
          f"'>=' when the last step held; log goal: filtered p99 < 100 ms)")


def _steps(text: str | None) -> list[int]:
    return [int(v) for v in text.split(",")] if text else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two short steps per backend (under 3 minutes)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql (default both)")
    parser.add_argument("--steps-sqlite", metavar="N,N,...", help="machine counts to ramp through on SQLite")
    parser.add_argument("--steps-pg", metavar="N,N,...", help="... on PostgreSQL, one fleet process")
    parser.add_argument("--steps-pg2", metavar="N,N,...", help="... on PostgreSQL, two fleet processes")
    parser.add_argument("--no-two", action="store_true", help="skip the two-process PostgreSQL section")
    parser.add_argument("--step-seconds", type=float, help="length of each step (quick 12, full 30)")
    parser.add_argument("--drain-seconds", type=float, help="how long a step's queues may take to drain")
    parser.add_argument("--log-lines", type=int, help="lines stored for the log queries (quick 250,000, full a million)")
    parser.add_argument("--queries", type=int, help="GetRobotPartLogs calls per filter, at most (quick 20 within 3 s, full 100 within 20 s)")
    parser.add_argument("--explain", action="store_true", help="print the database's plan of the filtered query")
    parser.add_argument("--profile", metavar="DIR", help="profile every fleet process (pstats files in DIR)")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
