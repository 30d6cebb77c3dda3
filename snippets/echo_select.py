import functools
import select
import signal
import socket
import sys
import time

GREETING = b"hello from echo_select.py\n"
LIMIT = 65536  # (1)


def main(port):
    server = socket.create_server(("127.0.0.1", port), backlog=1024)
    server.setblocking(False)
    wake_r, wake_w = stop_signals()  # (2)
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}")
    outgoing = {}  # (3)
    finishing = set()
    resume = 0.0
    try:
        while True:
            accepting = time.monotonic() >= resume
            readers = [wake_r, server] if accepting else [wake_r]
            readers += [c for c, buf in outgoing.items() if len(buf) < LIMIT and c not in finishing]
            writers = [c for c, buf in outgoing.items() if buf]
            timeout = None if accepting else 0.1
            readable, writable, _ = select.select(readers, writers, [], timeout)  # (4)
            if wake_r in readable:
                return
            for sock in readable:
                if sock is server:
                    try:
                        conn, _ = server.accept()
                    except OSError as exc:  # (5)
                        log_once(f"accept() failed: {exc}")
                        resume = time.monotonic() + 0.1
                        continue
                    if not selectable(conn, len(outgoing) + 3):  # (6)
                        conn.close()
                        continue
                    conn.setblocking(False)
                    outgoing[conn] = bytearray(GREETING)
                    continue
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:  # (7)
                    data = b""
                    outgoing[sock].clear()
                outgoing[sock] += data
                if not data:  # (8)
                    finishing.add(sock)
            for sock in writable:
                if not outgoing[sock]:
                    continue  # (9)
                try:
                    sent = sock.send(outgoing[sock])  # (10)
                except BlockingIOError:
                    continue
                except OSError:
                    outgoing[sock].clear()
                    finishing.add(sock)
                    continue
                del outgoing[sock][:sent]
            for sock in [c for c in finishing if not outgoing[c]]:
                finishing.discard(sock)
                del outgoing[sock]
                sock.close()
    finally:
        for sock in [server, wake_r, wake_w, *outgoing]:
            sock.close()


def selectable(conn, watched):
    if sys.platform == "win32":
        return watched <= 512
    return conn.fileno() < 1024


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
