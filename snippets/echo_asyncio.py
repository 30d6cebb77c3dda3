"""Echo server, step 4: asyncio streams."""

import asyncio
import contextlib
import signal
import sys

GREETING = b"hello from echo_asyncio.py\n"


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
        except ConnectionError:
            pass  # the client reset the connection
        finally:
            del clients[writer]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()  # also collects a reset, which asyncio would log

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # (3)
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()  # (4)
        server.close()
        for writer in clients:
            writer.close()  # (5)
        await asyncio.gather(*clients.values())  # each task ends once its connection is closed


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080))
    except KeyboardInterrupt:  # Ctrl-C where signal handlers are not supported
        pass
    print("server stopped", flush=True)
