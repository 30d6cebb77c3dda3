import functools
import selectors
import signal
import socket
import sys
import time

GREETING = b"hello from echo_selectors.py\n"
LIMIT = 65536  # (1)


def main(port):
    sel = selectors.DefaultSelector()  # (2)
    server = socket.create_server(("127.0.0.1", port), backlog=1024)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ)
    wake_r, wake_w = stop_signals()  # (3)
    sel.register(wake_r, selectors.EVENT_READ)
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}")

    finishing = set()

    def watch(conn, buf):  # (4)
        if conn in finishing and not buf:
            return close(conn)
        reading = len(buf) < LIMIT and conn not in finishing
        events = (selectors.EVENT_READ if reading else 0) | (selectors.EVENT_WRITE if buf else 0)
        sel.modify(conn, events, buf)

    def close(conn):
        finishing.discard(conn)
        sel.unregister(conn)
        conn.close()

    resume = None
    try:
        while True:
            if resume and time.monotonic() >= resume:
                sel.register(server, selectors.EVENT_READ)
                resume = None
            for key, events in sel.select(0.1 if resume else None):
                if key.fileobj is wake_r:
                    return
                if key.fileobj is server:
                    try:
                        conn, _ = server.accept()
                    except OSError as exc:  # (5)
                        log_once(f"accept() failed: {exc}")
                        sel.unregister(server)
                        resume = time.monotonic() + 0.1
                        continue
                    if isinstance(sel, selectors.SelectSelector) and len(sel.get_map()) >= 512:
                        conn.close()  # (6)
                        continue
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_WRITE, bytearray(GREETING))
                    continue
                conn, buf = key.fileobj, key.data
                try:
                    if events & selectors.EVENT_READ:
                        data = conn.recv(4096)
                        if not data:  # (7)
                            finishing.add(conn)
                        buf += data
                    if events & selectors.EVENT_WRITE:
                        del buf[: conn.send(buf)]
                except BlockingIOError:
                    pass
                except OSError:  # (8)
                    close(conn)
                    continue
                watch(conn, buf)
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()  # (9)
        sel.close()
        server.close()
        wake_w.close()


@functools.cache
def log_once(line):
    print(line, file=sys.stderr)


def stop_signals():
    wake_r, wake_w = socket.socketpair()
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *args: None)
    return wake_r, wake_w


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print("server stopped")
