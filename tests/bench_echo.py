"""`nox -s bench`: measure the companion server and the four echo servers on loopback.

For each server: how many of HELD concurrent connections it greets, then messages per second
and round-trip latency with ACTIVE of them sending MESSAGE and waiting for the echo, for at most
DURATION seconds or ROUNDS round trips each. Writes snippets/output/bench.md (shown on the echo
servers page) and prints it.
"""

import asyncio
import datetime
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from catalog import SERVERS  # noqa: E402
from conftest import OUTPUT, start_server  # noqa: E402

HELD = 1000
ACTIVE = 100
ROUNDS = 2000
DURATION = 3.0
MESSAGE = b"x" * 63 + b"\n"
TIMEOUT = 20.0


async def open_client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()  # the greeting
    return reader, writer


async def ping_pong(reader, writer, deadline, latencies):
    for _ in range(ROUNDS):
        if time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        writer.write(MESSAGE)
        await reader.readexactly(len(MESSAGE))
        latencies.append(time.perf_counter() - started)


async def measure(port):
    results = await asyncio.wait_for(
        asyncio.gather(*(open_client(port) for _ in range(HELD)), return_exceptions=True),
        TIMEOUT,
    )
    clients = [r for r in results if not isinstance(r, BaseException)]
    latencies = []
    started = time.perf_counter()
    deadline = started + DURATION
    await asyncio.wait_for(
        asyncio.gather(*(ping_pong(r, w, deadline, latencies) for r, w in clients[:ACTIVE])),
        TIMEOUT + DURATION,
    )
    elapsed = time.perf_counter() - started
    for _, writer in clients:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in clients), return_exceptions=True)
    q = statistics.quantiles(latencies, n=100)
    return len(clients), len(latencies) / elapsed, q[49] * 1e3, q[89] * 1e3, q[98] * 1e3


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {datetime.date.today().isoformat()}"
    )


def main():
    rows = [
        "| server | connections held | messages/s | p50 ms | p90 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as logs:
        for name in SERVERS:
            server = start_server(logs, script=f"{name}.py")
            try:
                held, rate, p50, p90, p99 = asyncio.run(measure(server.port))
            finally:
                seconds, code, _, err = server.stop(signal.SIGTERM)
            assert (code, err) == (0, ""), (name, code, err)
            rows.append(
                f"| `{name}.py` | {held:,} / {HELD:,} | {rate:,.0f} | "
                f"{p50:.2f} | {p90:.2f} | {p99:.2f} |"
            )
            print(rows[-1], f"(stopped in {seconds:.2f} s)", flush=True)
    text = "\n".join(rows) + f"\n\nMeasured on: {machine()}.\n"
    (OUTPUT / "bench.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
