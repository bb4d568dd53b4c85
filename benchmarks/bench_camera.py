"""Frames per second and server CPU per frame for 640x480 JPEG, through the official viam-sdk
camera client (gRPC) and through the fast path, from one ``viamlite serve`` in one run.

    python benchmarks/bench_camera.py [--seconds 3] [--rounds 2]

Two fake cameras at 640x480 (the fake draws its test pattern with Pillow, with a grain that
makes its JPEGs about the size of a real scene's, ~30 kB):

* ``latest``: a 30 frames/s camera. A caller faster than the camera gets its latest frame
  again, already encoded, as from a webcam whose MJPEG frames are served as they came: the
  figures are the cost of carrying a frame.
* ``new``: a camera at 1000 frames/s, so nearly every call draws and encodes a new frame:
  the figures include the fake's JPEG encoding.

Each is driven one call at a time (viam-sdk ``get_images``; fast-path ``get_images``),
then over a fast-path subscription at 30 frames/s (what a vision loop asks for). CPU is
the server process's user + system time over the frames delivered. A benchmark, not a
test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import grpc

SIZE = {"width_px": 640, "height_px": 480, "noise": 8}  # a grain: JPEGs of a real scene's size
CAMERAS = {"latest": {**SIZE, "frame_rate": 30}, "new": {**SIZE, "frame_rate": 1000}}
SUBSCRIBE_HZ = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(address: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with grpc.insecure_channel(address) as channel:
            try:
                channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames")(b"", timeout=1)
                return
            except grpc.RpcError:
                pass
        time.sleep(0.01)
    raise RuntimeError(f"{address} did not answer within {timeout} s")


def wait_listening(address: str, timeout: float = 30) -> None:
    """Until ``address`` accepts TCP connections (the fast path starts after gRPC)."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def via_sdk(address: str, name: str, pid: int, seconds: float) -> tuple[float, float, int]:
    """(frames/s, server CPU µs per frame, bytes per frame) through viam-sdk's CameraClient."""
    from viam.components.camera import Camera
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    async def run() -> tuple[float, float, int]:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        opts.check_connection_interval = 0
        robot = await RobotClient.at_address(address, opts)
        try:
            camera = Camera.from_robot(robot, name)
            for _ in range(20):
                images, _ = await camera.get_images()
            n, size, c0, t0 = 0, 0, cpu_seconds(pid), time.perf_counter()
            end = t0 + seconds
            while time.perf_counter() < end:
                images, _ = await camera.get_images()
                size += len(images[0].data)
                n += 1
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
            return n / elapsed, cpu / n * 1e6, size // n
        finally:
            await robot.close()

    return asyncio.run(run())


def via_fastpath(address: str, name: str, pid: int, seconds: float) -> tuple[float, float, int]:
    """(frames/s, server CPU µs per frame, bytes per frame), one fast-path call at a time."""
    from viamlite.components.camera import Camera
    from viamlite.fastpath.client import FastPathClient

    with FastPathClient.connect(address) as fp:
        camera = Camera.from_robot(fp, name)
        for _ in range(20):
            camera.get_images()
        n, size, c0, t0 = 0, 0, cpu_seconds(pid), time.perf_counter()
        end = t0 + seconds
        while time.perf_counter() < end:
            size += len(camera.get_images().images[0].data)
            n += 1
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
    return n / elapsed, cpu / n * 1e6, size // n


def subscribed(address: str, name: str, pid: int, seconds: float) -> tuple[float, float, int]:
    """(frames/s delivered, server CPU µs per frame, distinct frames) of a 30 Hz subscription."""
    from viamlite.fastpath.client import FastPathClient

    with FastPathClient.connect(address) as fp:
        n, stamps, c0, t0 = 0, set(), cpu_seconds(pid), time.perf_counter()
        for sample in fp.subscribe(name, "get_images", rate_hz=SUBSCRIBE_HZ):
            n += 1
            stamps.add(sample.value[1])
            if time.perf_counter() - t0 >= seconds:
                break
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
    return n / elapsed, cpu / n * 1e6, len(stamps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, alternating the clients; medians are printed")
    args = parser.parse_args()

    load0 = os.getloadavg()[0]
    grpc_port, fast_port = free_port(), free_port()
    config = {"components": [{"name": name, "api": "rdk:component:camera", "model": "fake", "attributes": attrs}
                             for name, attrs in CAMERAS.items()]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cameras.json"
        path.write_text(json.dumps(config))
        server = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", "--config", str(path), "--no-tls",
                                   "--bind", f"127.0.0.1:{grpc_port}", "--fastpath", f"127.0.0.1:{fast_port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "VIAMLITE_HOME": tmp})
        try:
            grpc_address, fast_address = f"127.0.0.1:{grpc_port}", f"127.0.0.1:{fast_port}"
            wait_ready(grpc_address)
            wait_listening(fast_address)
            rows: dict[str, dict[str, Any]] = {}
            for name in CAMERAS:
                runs: dict[str, list[tuple[float, float, int]]] = {"sdk": [], "fast": [], "sub": []}
                for _ in range(args.rounds):  # alternate, so a noisy neighbour hurts both alike
                    runs["sdk"].append(via_sdk(grpc_address, name, server.pid, args.seconds))
                    runs["fast"].append(via_fastpath(fast_address, name, server.pid, args.seconds))
                runs["sub"].append(subscribed(fast_address, name, server.pid, args.seconds))
                rows[name] = {k: tuple(median(r[i] for r in v) for i in range(3)) for k, v in runs.items()}
        finally:
            server.terminate()
            server.wait(10)

    print(f"camera get_images, 640x480 JPEG, one viamlite serve, {args.rounds} alternating rounds of "
          f"{args.seconds:g} s (medians), one run\n")
    print(f"{'camera':<8}{'client':<34}{'frames/s':>10}{'CPU/frame':>12}{'bytes/frame':>13}")
    for name, r in rows.items():
        (sr, sc, sb), (fr, fc, fb), (ur, uc, distinct) = r["sdk"], r["fast"], r["sub"]
        print(f"{name:<8}{'viam-sdk CameraClient (gRPC)':<34}{sr:>10.0f}{sc:>10.0f}us{sb:>13.0f}")
        print(f"{'':<8}{'fast path, one call at a time':<34}{fr:>10.0f}{fc:>10.0f}us{fb:>13.0f}")
        print(f"{'':<8}{f'fast path, subscribed at {SUBSCRIBE_HZ} Hz':<34}{ur:>10.1f}{uc:>10.0f}us"
              f"{f'{distinct} distinct':>13}")
        print(f"{'':<8}fast path / gRPC: {fr / sr:.2f}x frames/s, {sc / fc:.2f}x less server CPU per frame\n")
    print("latest: a 30 frames/s camera (calls get its latest frame, already encoded); "
          "new: 1000 frames/s (nearly every call encodes a new frame)")
    print(f"load average (1 min) before and after: {load0:.1f}, {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine makes every figure noisier)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
