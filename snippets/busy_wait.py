import selectors
import socket
import sys
import time

LIMIT = 3.0


def busy_loop(sock):
    calls, deadline = 0, time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        calls += 1
        try:
            return sock.recv(1024), calls
        except BlockingIOError:  # (1)
            pass
    raise TimeoutError("no data")


def with_selectors(sock):
    calls = 0
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        while True:
            calls += 1
            if not sel.select(timeout=LIMIT):  # (2)
                raise TimeoutError("no data")
            try:
                return sock.recv(1024), calls
            except BlockingIOError:
                pass


try:
    for name, wait in (("busy loop", busy_loop), ("selectors", with_selectors)):
        with socket.create_connection(("127.0.0.1", 8080), timeout=LIMIT) as sock:
            sock.setblocking(False)
            wall, cpu = time.perf_counter(), time.process_time()
            data, calls = wait(sock)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu  # (3)
            print(f"{name}: {calls:,} calls, {cpu:.2f} s of CPU in {wall:.2f} s, {data!r}")
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {LIMIT:g} s")
