"""Echo server, step 4: asyncio streams."""

import asyncio
import contextlib
import functools
import signal
import sys

GREETING = b"hello from echo_asyncio.py\n"


@functools.cache  # the same line is printed only once
def log_once(line):
    print(line, file=sys.stderr, flush=True)


def report(loop, context):
    """Errors asyncio has no one to raise to, e.g. accept() failing for lack of descriptors."""
    log_once(f"{context['message']}: {context.get('exception')}")


async def main(port):
    clients = {}  # writer -> the task serving it

    async def serve(reader, writer):
        clients[writer] = asyncio.current_task()
        try:
            writer.write(GREETING)
            await writer.drain()
            while data := await reader.read(4096):  # (1)
                writer.write(data)
                await writer.drain()  # (2)
        except OSError:
            pass  # (3)
        finally:
            del clients[writer]
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()  # also collects a reset, which asyncio would log

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(report)  # (4)
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # (5)
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()  # (6)
    finally:
        server.close()
        for writer in clients:
            writer.transport.abort()  # (7)
        await asyncio.gather(*clients.values(), return_exceptions=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
    except KeyboardInterrupt:  # Ctrl-C where the loop has no signal handlers: see (5)
        pass
    print("server stopped", flush=True)
