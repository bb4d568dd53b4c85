"""Per-thread cProfile for a benchmarked process (cProfile alone sees only the main thread).

bench_fleet.py puts this folder on PYTHONPATH with ``VIAMLITE_BENCH_PROFILE=FILE`` for each
fleet process it starts: every thread then runs under its own profiler, and at exit the
threads' figures are merged into one pstats FILE (read it with ``python -m pstats FILE``).
Times are each thread's CPU time (``time.thread_time``: waiting for a lock, the database or
the network costs nothing), or wall-clock time with ``VIAMLITE_BENCH_PROFILE_CLOCK=wall``.
Without the variable this does nothing.
"""
import os

_OUT = os.environ.get("VIAMLITE_BENCH_PROFILE")

if _OUT:
    import atexit
    import cProfile
    import pstats
    import threading
    import time

    _TIMER = time.perf_counter if os.environ.get("VIAMLITE_BENCH_PROFILE_CLOCK") == "wall" else time.thread_time
    _profiles = []
    _lock = threading.Lock()
    _run = threading.Thread.run

    def _profiled_run(self):  # type: ignore[no-untyped-def]
        profile = cProfile.Profile(_TIMER)
        with _lock:
            _profiles.append(profile)
        profile.enable()
        try:
            _run(self)
        finally:
            profile.disable()

    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    _main = cProfile.Profile(_TIMER)
    _profiles.append(_main)
    _main.enable()

    @atexit.register
    def _dump() -> None:
        _main.disable()
        stats = None
        with _lock:
            for profile in _profiles:
                try:
                    stats = pstats.Stats(profile) if stats is None else stats.add(profile)
                except (TypeError, ValueError):  # a thread that never ran anything
                    pass
        if stats is not None:
            stats.dump_stats(_OUT)
