"""Loopback helpers the tests share: reading from sockets, peers that play a server, a flooder."""

import contextlib
import os
import socket
import threading
import time
from pathlib import Path


class Peer:
    """A TCP peer on a free loopback port: each accepted connection goes to `handle(conn)`, in a
    thread of its own. The connections stay open until the peer is closed."""

    def __init__(self, handle):
        self.handle = handle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.conns, self.errors, self.accepted = [], [], 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self.conns.append(conn)
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, conn):
        try:
            self.handle(conn)
        except OSError as exc:
            self.errors.append(exc)

    def close(self):
        """Stop accepting and close every connection. A connection still in the accept queue
        reached this peer too (the kernel completed its handshake): it is accepted, counted
        and closed, so `accepted` does not depend on how soon the accepting thread ran."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in self.threads)
        self.listener.setblocking(False)
        while True:
            try:
                conn, _ = self.listener.accept()
            except BlockingIOError:
                break
            except OSError:  # reset while queued (macOS ECONNABORTED, Windows WSAECONNRESET)
                continue
            self.accepted += 1
            self.conns.append(conn)
        for conn in self.conns:
            conn.close()
        self.listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def forward_to(port):
    """A Peer handler that forwards each connection to 127.0.0.1:`port`, both ways.

    The echo servers log nothing per connection. A Peer with this handler, put between a snippet
    and one of them, counts the connections that reached the test's server (`peer.accepted`),
    not whatever listens on the real 127.0.0.1:8080, where they would go if the redirect did not
    load.
    """

    def forward(client):
        client.settimeout(20)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as upstream:
            back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
            back.start()
            pump(client, upstream)
            back.join(timeout=20)

    def pump(src, dst):
        """Copy one direction until end of file and pass the half-close on; a reset ends both."""
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    return forward


def listener(stack, backlog=8):
    server = stack.enter_context(socket.socket())
    server.bind(("127.0.0.1", 0))
    server.listen(backlog)
    return server


def connected_pair(stack):
    """(client, peer): both ends of one loopback TCP connection."""
    server = listener(stack)
    client = stack.enter_context(socket.create_connection(server.getsockname(), timeout=5))
    peer = stack.enter_context(server.accept()[0])
    peer.settimeout(5)
    return client, peer


def flood(sock, total=10_000_000, stall=0.5, limit=5.0):
    """Send up to `total` bytes without reading, until the peer takes nothing for `stall` s."""
    sock.setblocking(False)
    data, sent = memoryview(b"z" * 65536), 0
    last = started = time.monotonic()
    while sent < total and time.monotonic() - last < stall and time.monotonic() - started < limit:
        try:
            sent += sock.send(data)
            last = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)  # the server stopped reading: backpressure
    return sent


def open_fds():
    """This process's open descriptors (Linux, macOS); an empty list where it cannot tell."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(folder):
            return sorted(os.listdir(folder))
    return []


def read_line(sock):
    """Receive until a newline; fail if the peer closes first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def recv_exactly(sock, size):
    """Receive exactly `size` bytes; EOFError if the peer closes first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {size} bytes: {data!r}")
        data += chunk
    return data


def read_to_eof(sock, size=65536):
    """Receive until the peer closes; everything it sent."""
    data = b""
    while chunk := sock.recv(size):
        data += chunk
    return data


def raised(call):
    """The OSError call() raised, or None: what a job hands its test to check."""
    try:
        call()
    except OSError as exc:
        return exc
    return None


def write_tls_files(folder):
    """A throwaway CA (trustme) and a certificate it signed for 127.0.0.1, written to `folder`:
    {"ca", "cert", "key"} paths. No key is committed: every run makes new ones."""
    import trustme

    folder = Path(folder)
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    issued.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for pem in issued.cert_chain_pems[1:]:
        pem.write_to_path(str(paths["cert"]), append=True)
    issued.private_key_pem.write_to_path(str(paths["key"]))
    return paths
