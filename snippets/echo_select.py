"""Echo server, step 2: non-blocking sockets and select.select()."""

import select
import signal
import socket
import sys

GREETING = b"hello from echo_select.py\n"
LIMIT = 65536  # (1)


def main(port):
    server = socket.create_server(("127.0.0.1", port), backlog=1024)
    server.setblocking(False)
    wake_r, wake_w = stop_signals()  # (2)
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
    outgoing = {}  # (3)
    finishing = set()  # clients that closed their side: send what is left, then close
    try:
        while True:
            readers = [server, wake_r] + [
                c for c, buf in outgoing.items() if len(buf) < LIMIT and c not in finishing
            ]
            writers = [c for c, buf in outgoing.items() if buf]
            readable, writable, _ = select.select(readers, writers, [])  # (4)
            if wake_r in readable:
                return
            for sock in readable:
                if sock is server:
                    conn, _ = server.accept()
                    conn.setblocking(False)
                    outgoing[conn] = bytearray(GREETING)
                    continue
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                    outgoing[sock].clear()  # nothing more can reach this client
                outgoing[sock] += data
                if not data:  # (5)
                    finishing.add(sock)
            for sock in writable:
                if not outgoing[sock]:
                    continue  # the client reset the connection just now
                try:
                    sent = sock.send(outgoing[sock])  # (6)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    outgoing[sock].clear()  # nothing more can reach this client
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


def stop_signals():
    """A socket that becomes readable on Ctrl-C or SIGTERM, so the loop can stop cleanly."""
    wake_r, wake_w = socket.socketpair()
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())  # the signal number is written to wake_w
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *args: None)
    return wake_r, wake_w


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print("server stopped", flush=True)
