"""Companion server for the guide: greets every client, then echoes.

Run it in its own terminal before any client snippet:

    python snippets/server.py              # 127.0.0.1:8080
    python snippets/server.py --delay 2    # wait 2 s before each greeting

For each connection it waits --delay seconds, sends one greeting line,
then sends back whatever it receives until the client closes its side.
Ctrl-C (or SIGTERM) stops it and closes every open connection.
"""

import argparse
import asyncio
import contextlib
import functools
import itertools
import signal
import sys

GREETING = b"hello from server.py\n"
CHUNK = 4096  # (1)


async def serve_client(reader, writer, number, delay):
    print(f"client {number} connected")
    try:
        await asyncio.sleep(delay)
        writer.write(GREETING)
        await writer.drain()
        while data := await reader.read(CHUNK):  # (2)
            writer.write(data)
            await writer.drain()  # (3)
    except OSError:
        pass  # (4)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()  # (5)
        print(f"client {number} closed")


@functools.cache
def log_once(line):
    print(line, file=sys.stderr)


def report(loop, context):
    log_once(f"{context['message']}: {context.get('exception')}")


async def main(host, port, delay):
    clients = {}
    count = itertools.count(1)

    def on_connect(reader, writer):
        task = asyncio.create_task(serve_client(reader, writer, next(count), delay))
        clients[writer] = task
        task.add_done_callback(lambda _: clients.pop(writer))

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(report)  # (6)
    server = await asyncio.start_server(on_connect, host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # (7)
            loop.add_signal_handler(signum, stop.set)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port} (delay {delay:g} s), Ctrl-C stops")
    try:
        await stop.wait()
    finally:  # (8)
        loop.set_exception_handler(lambda loop, context: None)
        server.close()
        for writer, task in clients.items():
            writer.transport.abort()  # (9)
            task.cancel()
        await asyncio.gather(*clients.values(), return_exceptions=True)
    print("server stopped")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument(
        "--delay", type=float, default=0.0, metavar="SECONDS",
        help="wait this long before greeting each client",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    try:
        asyncio.run(main(args.host, args.port, args.delay))
    except KeyboardInterrupt:
        print("server stopped")
    except OSError as exc:  # (10)
        reason = (exc.strerror or str(exc)).rpartition(": ")[2].capitalize()
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {reason}") from None
