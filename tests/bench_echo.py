"""`nox -s bench`: measure the companion server and the four echo servers on loopback.

For each server: how many of HELD concurrent connections it greets, then messages per second
and round-trip latency with ACTIVE of them sending MESSAGE and waiting for the echo, for at most
DURATION seconds or ROUNDS round trips each. Writes the figures to snippets/output/bench.json and
renders them as a table in each language on the echo servers page (docs/*/echo-servers/index.md,
between the BEGIN/END markers). `python tests/bench_echo.py --render` renders the stored figures
again without measuring (after a change of wording).
"""

import asyncio
import datetime
import json
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from catalog import SERVERS  # noqa: E402
from conftest import DOCS, OUTPUT, start_server  # noqa: E402

HELD = 1000
ACTIVE = 100
ROUNDS = 2000
DURATION = 3.0
MESSAGE = b"x" * 63 + b"\n"
TIMEOUT = 20.0
FIGURES = OUTPUT / "bench.json"
BEGIN = "<!-- BEGIN bench: written by tests/bench_echo.py from snippets/output/bench.json -->"
END = "<!-- END bench -->"
TABLE = {  # the words of the table, per language; figures and file names are the same in both
    "en": {
        "header": "| server | connections held | messages per second | p50 latency (ms) "
        "| p90 latency (ms) | p99 latency (ms) |",
        "machine": "Measured on: {cpu}, {cpus} CPUs, {system} {release}, Python {python}, {date}.",
    },
    "ko": {
        "header": "| 서버 | 유지한 연결 | 초당 메시지 수 | 지연 시간 p50 (밀리초) "
        "| 지연 시간 p90 (밀리초) | 지연 시간 p99 (밀리초) |",
        "machine": "측정 환경: {cpu}, CPU {cpus}개, {system} {release}, Python {python}, {date}.",
    },
}


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


def table(figures, lang):
    """The Markdown table of `figures` (as stored in bench.json) in one language."""
    words = TABLE[lang]
    rows = [words["header"], "|---|---|---|---|---|---|"]
    for row in figures["servers"]:
        rows.append(
            f"| `{row['server']}` | {row['held']:,} / {figures['held']:,} | {row['rate']:,.0f} | "
            f"{row['p50']:.2f} | {row['p90']:.2f} | {row['p99']:.2f} |"
        )
    return "\n".join(rows) + "\n\n" + words["machine"].format(**figures["machine"]) + "\n"


def page(lang):
    return DOCS / lang / "echo-servers" / "index.md"


def shown(lang):
    """The table the page of `lang` shows now."""
    text = page(lang).read_text(encoding="utf-8")
    return re.search(rf"{re.escape(BEGIN)}\n\n(.*?)\n{re.escape(END)}", text, re.S).group(1)


def render():
    """Write the stored figures into both pages."""
    figures = json.loads(FIGURES.read_text(encoding="utf-8"))
    for lang in TABLE:
        text = page(lang).read_text(encoding="utf-8")
        old, new = shown(lang), table(figures, lang)
        text = text.replace(f"{BEGIN}\n\n{old}\n{END}", f"{BEGIN}\n\n{new}\n{END}")
        page(lang).write_text(text, encoding="utf-8")
        print(table(figures, lang))


def main():
    if sys.argv[1:] == ["--render"]:
        render()
        return
    servers = []
    with tempfile.TemporaryDirectory() as logs:
        for name in SERVERS:
            server = start_server(logs, script=f"{name}.py")
            try:
                held, rate, p50, p90, p99 = asyncio.run(measure(server.port))
            finally:
                seconds, code, _, err = server.stop(signal.SIGTERM)
            assert (code, err) == (0, ""), (name, code, err)
            row = {"server": f"{name}.py", "held": held, "rate": round(rate)}
            row |= {"p50": round(p50, 2), "p90": round(p90, 2), "p99": round(p99, 2)}
            servers.append(row)
            print(row, f"(stopped in {seconds:.2f} s)", flush=True)
    figures = {"held": HELD, "active": ACTIVE, "servers": servers, "machine": machine()}
    FIGURES.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    render()


if __name__ == "__main__":
    main()
