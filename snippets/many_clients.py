import asyncio
import selectors
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ADDRESS = ("127.0.0.1", 8080)
TIMEOUT = 3


def one_client(address):
    with (
        socket.create_connection(address, timeout=TIMEOUT) as sock,
        sock.makefile("rb") as lines,
    ):
        return lines.readline()  # (1)


def sequential(n, address=ADDRESS):  # (2)
    return [one_client(address) for _ in range(n)]


def with_threads(n, address=ADDRESS):  # (3)
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one_client, [address] * n))


def with_selectors(n, address=ADDRESS):  # (4)
    received = {}
    with selectors.DefaultSelector() as sel:
        try:
            for _ in range(n):
                sock = socket.create_connection(address, timeout=TIMEOUT)
                received[sock] = b""
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ)
            while sel.get_map():
                events = sel.select(TIMEOUT)
                if not events:
                    raise TimeoutError("no greeting")
                for key, _ in events:
                    try:
                        chunk = key.fileobj.recv(1024)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise ConnectionError("closed before a full line")
                    received[key.fileobj] += chunk
                    if received[key.fileobj].endswith(b"\n"):  # (5)
                        sel.unregister(key.fileobj)
        finally:
            for sock in received:
                sock.close()
    return list(received.values())


def with_asyncio(n, address=ADDRESS):  # (6)
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


def timed(strategy, n, address=ADDRESS):  # (7)
    started = time.perf_counter()
    greetings = STRATEGIES[strategy](n, address)
    elapsed = time.perf_counter() - started
    lines = sum(greeting.endswith(b"\n") for greeting in greetings)
    if len(greetings) != n or lines != n:
        raise ConnectionError(f"{strategy}: {n - lines} clients got no whole greeting")
    return elapsed


if __name__ == "__main__":
    try:
        for name in STRATEGIES:
            print(f"{name}: 10 clients in {timed(name, 10):.2f} s")
    except ConnectionRefusedError:
        sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
                 "Start the server first: python snippets/server.py")
    except ConnectionError as exc:
        sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
    except TimeoutError:
        sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
