"""Sequential servo GetPosition calls/s against ``viamlite serve`` of the demo machine.

    python benchmarks/local_calls.py [SECONDS] [ROUNDS]

Used to check that remote-part routing leaves local calls as fast as before.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time


def main(seconds: float = 2.0, rounds: int = 3) -> None:
    import grpc

    from viamlite.gen import servo_pb2

    proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", "--bind", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = 0
        deadline = time.monotonic() + 20
        while not port and time.monotonic() < deadline:
            match = re.search(r":(\d+) \(gRPC", proc.stdout.readline())  # type: ignore[union-attr]
            port = int(match.group(1)) if match else 0
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        call = channel.unary_unary("/viam.component.servo.v1.ServoService/GetPosition",
                                   request_serializer=servo_pb2.GetPositionRequest.SerializeToString,
                                   response_deserializer=servo_pb2.GetPositionResponse.FromString)
        request = servo_pb2.GetPositionRequest(name="servo1")
        for _ in range(200):
            call(request, timeout=5)
        rates = []
        for _ in range(rounds):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                call(request, timeout=5)
                n += 1
            rates.append(n / (time.perf_counter() - t0))
        print(f"local servo GetPosition, sequential: {max(rates):.0f} calls/s best of {rounds} "
              f"({', '.join(f'{r:.0f}' for r in rates)})")
        channel.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main(*(float(a) for a in sys.argv[1:2]), *(int(a) for a in sys.argv[2:3]))
