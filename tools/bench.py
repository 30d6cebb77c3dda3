"""`nox -s bench`: measure the companion server and the four echo servers on loopback.

For each server: how many of HELD concurrent connections it greets, then messages per second
and round-trip latency with ACTIVE of them sending MESSAGE and waiting for the echo, for at most
DURATION seconds or ROUNDS round trips each. Writes the figures to snippets/output/bench.json and
renders them as a table in each language on the echo servers page (tests/support/bench.py;
`pytest --update-examples` renders the stored figures again without measuring). Run with
`PYTHONPATH=tests`, as `nox -s bench` does.
"""

import asyncio
import datetime
import json
import os
import platform
import signal
import statistics
import tempfile
import time
from pathlib import Path

from support import bench
from support.catalog import SERVERS
from support.processes import start_server

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
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "system": platform.system(),
        "release": platform.release(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def main():
    servers = []
    with tempfile.TemporaryDirectory() as logs:
        for name in SERVERS:
            server = start_server(logs, script=f"{name}.py")
            try:
                held, rate, p50, p90, p99 = asyncio.run(measure(server.port))
            finally:
                stopped = server.stop(signal.SIGTERM)
            assert (stopped.code, stopped.err) == (0, ""), (name, stopped)
            row = {"server": f"{name}.py", "held": held, "rate": round(rate)}
            row |= {"p50": round(p50, 2), "p90": round(p90, 2), "p99": round(p99, 2)}
            servers.append(row)
            print(row, f"(stopped in {stopped.seconds:.2f} s)", flush=True)
    figures = {"held": HELD, "active": ACTIVE, "servers": servers, "machine": machine()}
    text = json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
    bench.FIGURES.write_text(text, encoding="utf-8")
    bench.render()


if __name__ == "__main__":
    main()
