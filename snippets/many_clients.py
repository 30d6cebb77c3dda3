"""N clients, each waiting for the server's greeting: one after another, or all at once.

Run it against a server that takes a while to greet:

    python snippets/server.py --delay 0.2
    python snippets/many_clients.py

The notebook page imports these functions and plots their times against N.
"""

import asyncio
import selectors
import socket
import sys
import threading
import time

ADDRESS = ("127.0.0.1", 8080)
TIMEOUT = 10  # seconds: no client waits longer than this


def one_client(address):
    with socket.create_connection(address, timeout=TIMEOUT) as sock:
        return sock.recv(1024)


def sequential(n, address=ADDRESS):  # (1)
    return [one_client(address) for _ in range(n)]


def with_threads(n, address=ADDRESS):  # (2)
    greetings = [None] * n

    def run(i):
        greetings[i] = one_client(address)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return greetings


def with_selectors(n, address=ADDRESS):  # (3)
    socks, greetings = [], {}
    with selectors.DefaultSelector() as sel:
        try:
            for _ in range(n):
                sock = socket.create_connection(address, timeout=TIMEOUT)
                socks.append(sock)
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
            while len(greetings) < n:
                events = sel.select(TIMEOUT)
                if not events:
                    raise TimeoutError("no greeting")
                for key, _ in events:
                    greetings[key.fileobj] = key.fileobj.recv(1024)
                    sel.unregister(key.fileobj)
        finally:
            for sock in socks:
                sock.close()
    return [greetings[sock] for sock in socks]


def with_asyncio(n, address=ADDRESS):  # (4)
    async def one():
        reader, writer = await asyncio.open_connection(*address)
        try:
            return await reader.readline()
        finally:
            writer.close()
            await writer.wait_closed()

    async def all_of_them():
        return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), TIMEOUT)

    return asyncio.run(all_of_them())


STRATEGIES = {
    "sequential": sequential,
    "threads": with_threads,
    "selectors": with_selectors,
    "asyncio": with_asyncio,
}


def timed(strategy, n, address=ADDRESS):
    """Seconds for n clients to get their greeting with one strategy."""
    started = time.perf_counter()
    greetings = STRATEGIES[strategy](n, address)
    elapsed = time.perf_counter() - started
    if len(greetings) != n or not all(greetings):
        raise RuntimeError(f"{strategy}: {n - sum(map(bool, greetings))} clients got no greeting")
    return elapsed


if __name__ == "__main__":
    try:
        for name in STRATEGIES:
            print(f"{name}: 10 clients in {timed(name, 10):.2f} s")
    except ConnectionRefusedError:
        sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
                 "Start the server first: python snippets/server.py")
