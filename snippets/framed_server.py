import functools
import itertools
import selectors
import signal
import socket
import struct
import sys
import time

GREETING = b"hello from framed_server.py"
HEADER = struct.Struct("!I")  # (1)
MAX_MESSAGE = 65536  # (2)
LIMIT = 65536  # (3)


class Client:
    def __init__(self, number):
        self.number = number
        self.inbox = bytearray()  # (4)
        self.outbox = bytearray(frame(GREETING))
        self.finishing = False


def frame(payload):
    return HEADER.pack(len(payload)) + payload


def whole_messages(inbox):  # (5)
    messages = []
    while len(inbox) >= HEADER.size:
        (size,) = HEADER.unpack_from(inbox)
        if size > MAX_MESSAGE:  # (6)
            raise ValueError(f"a message of {size} bytes, over {MAX_MESSAGE}")
        end = HEADER.size + size
        if len(inbox) < end:  # (7)
            break
        messages.append(bytes(inbox[HEADER.size : end]))
        del inbox[:end]
    return messages


def main(port):
    sel = selectors.DefaultSelector()
    server = socket.create_server(("127.0.0.1", port), backlog=1024)
    server.setblocking(False)
    sel.register(server, selectors.EVENT_READ)
    wake_r, wake_w = stop_signals()  # (8)
    sel.register(wake_r, selectors.EVENT_READ)
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}")
    numbers = itertools.count(1)

    def watch(conn, client):
        if client.finishing and not client.outbox:
            return close(conn, client)
        reading = len(client.outbox) < LIMIT and not client.finishing
        events = (selectors.EVENT_READ if reading else 0) | (
            selectors.EVENT_WRITE if client.outbox else 0
        )
        sel.modify(conn, events, client)

    def close(conn, client, reason=None):
        sel.unregister(conn)
        conn.close()
        print(f"client {client.number} " + (f"dropped: {reason}" if reason else "closed"))

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
                    except OSError as exc:
                        log_once(f"accept() failed: {exc}")
                        sel.unregister(server)
                        resume = time.monotonic() + 0.1
                        continue
                    if isinstance(sel, selectors.SelectSelector) and len(sel.get_map()) >= 512:
                        conn.close()
                        continue
                    conn.setblocking(False)
                    client = Client(next(numbers))
                    print(f"client {client.number} connected")
                    sel.register(conn, selectors.EVENT_WRITE, client)
                    continue
                conn, client = key.fileobj, key.data
                try:
                    if events & selectors.EVENT_READ:
                        data = conn.recv(4096)
                        if not data:
                            if client.inbox:
                                raise ValueError("it closed in the middle of a message")
                            client.finishing = True
                        client.inbox += data
                        for message in whole_messages(client.inbox):
                            client.outbox += frame(message)  # (9)
                    if events & selectors.EVENT_WRITE:
                        del client.outbox[: conn.send(client.outbox)]
                except BlockingIOError:
                    pass
                except (OSError, ValueError) as exc:  # (10)
                    close(conn, client, exc)
                    continue
                watch(conn, client)
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
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
