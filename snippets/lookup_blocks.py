import asyncio
import errno
import itertools
import os
import selectors
import socket
import sys
import time

HOST = "localhost"
TICK = 0.1
RUN = 1.3
TIMEOUT = 3


def report(name, connected, ticks):
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    print(
        f"{name}: connected after {connected:.2f} s, "
        f"{len(ticks)} ticks in {RUN:g} s, longest gap {max(gaps):.2f} s"
    )


def with_selectors(port):
    ticks, infos, connected = [], None, None
    with selectors.DefaultSelector() as sel, socket.socket() as sock:
        sock.setblocking(False)
        start = next_tick = time.monotonic()
        while (now := time.monotonic()) < start + RUN:
            if now >= next_tick:  # (1)
                ticks.append(now)
                next_tick = now + TICK
            if infos is None:
                infos = socket.getaddrinfo(  # (2)
                    HOST, port, socket.AF_INET, socket.SOCK_STREAM
                )
                err = sock.connect_ex(infos[0][4])  # (3)
                if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                    raise OSError(err, os.strerror(err))
                sel.register(sock, selectors.EVENT_WRITE)
            for _ in sel.select(max(0.0, next_tick - time.monotonic())):
                sel.unregister(sock)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                connected = time.monotonic() - start
    if connected is None:
        raise TimeoutError(f"connect() did not finish within {RUN:g} s")
    report("selectors", connected, ticks)


async def with_asyncio(port):
    ticks = []

    async def heartbeat():  # (4)
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(TICK)

    start = time.monotonic()
    beat = asyncio.create_task(heartbeat())
    try:
        connecting = asyncio.open_connection(  # (5)
            HOST, port, family=socket.AF_INET
        )
        _, writer = await asyncio.wait_for(connecting, TIMEOUT)
        connected = time.monotonic() - start
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(start + RUN - time.monotonic())
    finally:
        beat.cancel()
    report("asyncio", connected, ticks)


try:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # (6)
        port = listener.getsockname()[1]
        with_selectors(port)
        asyncio.run(with_asyncio(port))
except OSError as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
