import asyncio
import contextlib
import functools
import signal
import sys

GREETING = b"hello from echo_asyncio.py\n"


@functools.cache
def log_once(line):
    print(line, file=sys.stderr)


def report(loop, context):
    log_once(f"{context['message']}: {context.get('exception')}")


async def main(port):
    clients = {}

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
                await writer.wait_closed()  # (4)

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(report)  # (5)
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}")
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # (6)
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()  # (7)
    finally:
        loop.set_exception_handler(lambda loop, context: None)
        server.close()
        for writer in clients:
            writer.transport.abort()  # (8)
        await asyncio.gather(*clients.values(), return_exceptions=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
    except KeyboardInterrupt:
        pass
    print("server stopped")
