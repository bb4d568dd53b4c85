"""A fleet's log table filled fast, and GetRobotPartLogs timed over it.

:func:`bulk_load` writes ``count`` log lines of one part straight into the ``logs`` table
(COPY on PostgreSQL, one executemany transaction on SQLite), not through RPC: one line a
second of a busy machine over ``count`` seconds, from a dozen message shapes with varying
numbers, levels and logger names. :data:`KEYWORDS` are the filters timed, from a common
word to one that matches nothing (which makes the database look at every line of the part).

:func:`time_queries` calls ``AppService.GetRobotPartLogs`` (newest first, 100 lines, the
viam-sdk's default) with an owner API key over grpc.aio. :func:`explain` prints the
database's plan for the fleet's own filtered query (captured as the store runs it).
"""
from __future__ import annotations

import random
import time
from typing import Any

import grpc
from viam.gen.app.v1.app_pb2 import GetRobotPartLogsRequest, GetRobotPartLogsResponse
from viam.gen.proto.rpc.v1.auth_pb2 import (
    AuthenticateRequest,
    AuthenticateResponse,
    Credentials,
)

#: (label, filter): matching about a quarter of the lines, one in a thousand, and none.
KEYWORDS = (("common", "camera1"), ("rare", "overcurrent"), ("absent", "nosuchword"))
PAGE = 100
COLUMNS = ("part_id", "time_us", "received_us", "level", "logger_name", "message", "host", "caller", "stack",
           "fields")
_CALLER = '{"Defined":true,"File":"rdk/components/motor.go","Line":212}'


def _lines(part_id: str, count: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """``count`` rows (tuples in :data:`COLUMNS` order), oldest first, one a second."""
    rng = random.Random(seed)
    now_us = time.time_ns() // 1000
    first = now_us - count * 1_000_000
    for i in range(count):
        t = first + i * 1_000_000 + rng.randrange(1000)
        a, b = rng.randrange(1000), rng.randrange(200)
        r = rng.random()
        if i % 1000 == 500:
            level, logger, message = "error", "rdk.components.motor.left", f"motor left: overcurrent {a} mA, stopping"
        elif r < 0.25:
            level, logger, message = "info", "rdk.components.camera1", f"camera1 captured frame {i} (640x480) in {b} ms"
        elif r < 0.55:
            level, logger, message = "info", "rdk.components.servo1", f"servo1 moved to {a % 180} deg in {b} ms"
        elif r < 0.70:
            level, logger, message = ("info", "rdk.components.base",
                                      f"base: velocity set to linear {a} mm/s, angular {b} deg/s")
        elif r < 0.80:
            level, logger, message = "debug", "rdk.services.motion", f"motion plan {i} finished in {b} ms ({a} steps)"
        elif r < 0.90:
            level, logger, message = "info", "rdk.components.temp1", f"sensor temp1 reading {a % 90}.{b % 10} C"
        else:
            level, logger, message = ("warn", "rdk.networking",
                                      f"network: dial to app at 10.0.{a % 256}.{b} took {a} ms, retrying")
        yield (part_id, t, t + 50_000, level, logger, message, "bench-host", _CALLER, None, None)


def bulk_load(url: str, part_id: str, count: int) -> float:
    """Write ``count`` lines of ``part_id``; the seconds it took (PostgreSQL: with ANALYZE)."""
    t0 = time.perf_counter()
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            with conn.cursor() as cur, cur.copy(f"COPY logs ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in _lines(part_id, count):
                    copy.write_row(row)
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE logs")
    else:
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT INTO logs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             _lines(part_id, count))
            conn.execute("COMMIT")
        finally:
            conn.close()
    return time.perf_counter() - t0


async def time_queries(addresses: list[str], key_id: str, key: str, part_id: str, repeat: int, budget: float
                       ) -> dict[str, tuple[list[float], int]]:
    """For each keyword: the latency of up to ``repeat`` sequential first-page queries
    (spread over ``addresses`` in turn; at least 3, then no more once ``budget`` seconds
    went to that keyword), and how many lines the first page held."""
    channels = [grpc.aio.insecure_channel(a) for a in addresses]
    try:
        calls = []
        for channel in channels:
            auth = channel.unary_unary("/proto.rpc.v1.AuthService/Authenticate",
                                       request_serializer=AuthenticateRequest.SerializeToString,
                                       response_deserializer=AuthenticateResponse.FromString)
            token = (await auth(AuthenticateRequest(entity=key_id, credentials=Credentials(type="api-key", payload=key)),
                                timeout=30)).access_token
            query = channel.unary_unary("/viam.app.v1.AppService/GetRobotPartLogs",
                                        request_serializer=GetRobotPartLogsRequest.SerializeToString,
                                        response_deserializer=GetRobotPartLogsResponse.FromString)
            calls.append((query, (("authorization", f"Bearer {token}"),)))
        out: dict[str, tuple[list[float], int]] = {}
        for label, keyword in (("none", ""), *KEYWORDS):
            request = GetRobotPartLogsRequest(id=part_id, filter=keyword, limit=PAGE)
            found, latencies = 0, []
            began = time.perf_counter()
            for i in range(repeat):
                if i >= 3 and time.perf_counter() - began > budget:
                    break
                query, metadata = calls[i % len(calls)]
                t0 = time.perf_counter()
                response = await query(request, metadata=metadata, timeout=60)
                latencies.append(time.perf_counter() - t0)
                found = len(response.logs)
            out[label] = (latencies, found)
        return out
    finally:
        for channel in channels:
            await channel.close()


def explain(url: str, part_id: str, keyword: str) -> str:
    """The database's plan for the fleet's first-page query with ``keyword`` (PostgreSQL:
    EXPLAIN ANALYZE; SQLite: EXPLAIN QUERY PLAN)."""
    from sqlalchemy import create_engine, event
    from viamlite_plugins.fleet.store import logs as logstore

    pg = url.startswith("postgresql")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1) if pg else url)
    seen: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, params, context, many:
                 seen.append((sql, params)))
    try:
        with engine.connect() as conn:
            logstore.page(conn, part_id, logstore.Filter(keyword=keyword), after=None, limit=PAGE)
            sql, params = seen[-1]
            cursor = conn.connection.driver_connection.cursor()
            if pg:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = cursor.fetchall()
        return "\n".join(" | ".join(str(c) for c in row) if not pg else str(row[0]) for row in rows)
    finally:
        engine.dispose()
