import asyncio
import socket
import sys
import time

HOST = "localhost"
DELAY = 0.25
TIMEOUT = 1.5


async def attempt(port, **options):
    started = time.monotonic()
    try:
        connecting = asyncio.open_connection(HOST, port, **options)
        _, writer = await asyncio.wait_for(connecting, TIMEOUT)
    except TimeoutError:
        return f"no connection within {TIMEOUT} s"
    peer = writer.get_extra_info("peername")[0]
    writer.close()
    await writer.wait_closed()
    return f"connected to {peer} after {time.monotonic() - started:.2f} s"


async def main(port):
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(HOST, port, type=socket.SOCK_STREAM)
    print("addresses:", [info[4][0] for info in infos])
    staggered = await attempt(port, happy_eyeballs_delay=DELAY)  # (1)
    print("happy_eyeballs_delay=0.25:", staggered)
    in_turn = await attempt(port)  # (2)
    print("one after another:", in_turn)


try:
    with (
        socket.create_server(("127.0.0.1", 0)) as server,  # (3)
        socket.create_server(
            ("::1", server.getsockname()[1]),
            family=socket.AF_INET6,
            backlog=0,  # (4)
        ) as silent,
        socket.create_connection(silent.getsockname()[:2], TIMEOUT),  # (5)
    ):
        asyncio.run(main(server.getsockname()[1]))
except OSError as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
