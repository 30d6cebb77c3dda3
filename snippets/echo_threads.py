import contextlib
import functools
import signal
import socket
import sys
import threading
import time

GREETING = b"hello from echo_threads.py\n"


def serve(conn):
    with conn:
        try:
            conn.sendall(GREETING)
            while data := conn.recv(4096):  # (1)
                conn.sendall(data)  # (2)
        except OSError:
            pass  # (3)


@functools.cache
def log_once(line):
    print(line, file=sys.stderr)


def main(port):
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *args: stop.set())  # (4)
    clients = {}
    with socket.create_server(("127.0.0.1", port), backlog=1024) as server:
        server.settimeout(0.2)  # (5)
        print(f"listening on 127.0.0.1:{server.getsockname()[1]}")
        while not stop.is_set():
            try:
                conn, _ = server.accept()  # (6)
            except TimeoutError:
                continue
            except OSError as exc:  # (7)
                log_once(f"accept() failed: {exc}")
                time.sleep(0.1)
                continue
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            clients[conn] = thread
            thread.start()
            for done in [c for c, t in clients.items() if not t.is_alive()]:
                del clients[done]
    for conn in clients:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)  # (8)
    deadline = time.monotonic() + 0.5
    for thread in clients.values():
        thread.join(max(0, deadline - time.monotonic()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print("server stopped")
