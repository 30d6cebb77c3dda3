"""The minimal select() and selectors loops (echo-servers/select.md and selectors.md,
#minimal-loop): they greet and echo every well-behaved client at once, and each way the page
says they fail ends the whole server with that exception's traceback, raised by the call the page
names."""

import signal
import socket
import struct

import pytest

from support.catalog import FIRST_STEPS
from support.marks import posix_only
from support.processes import start_server
from support.sockets import flood, read_line

WITHIN = 10.0  # seconds for the server to die once the fault is in place (poll, not sleep)


@pytest.fixture(params=FIRST_STEPS)
def server(request, tmp_path):
    running = start_server(tmp_path, script=f"{request.param}.py", strict=False)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(timeout=5)


def greeted(server):
    sock = server.connect()
    assert read_line(sock) == server.greeting
    return sock


def died_with(server):
    """Wait for the server to exit; its status, the last line of its traceback, and the source
    line of the snippet that raised (the line after the traceback's last `File` entry)."""
    server.process.wait(timeout=WITHIN)
    lines = server.err.read_text().splitlines()
    assert lines[0] == "Traceback (most recent call last):", lines
    last_frame = max(i for i, line in enumerate(lines) if line.startswith('  File "'))
    return server.process.returncode, lines[-1], lines[last_frame + 1].strip()


RECV, SENDALL = "sock.recv(4096)", "sock.sendall(data)"  # the client's calls in both snippets


def test_greets_and_echoes_clients_at_once(server):
    clients = [greeted(server) for _ in range(3)]  # all connected together
    try:
        for n, sock in enumerate(reversed(clients)):
            sock.sendall(b"line %d\n" % n)
            assert read_line(sock) == b"line %d\n" % n
    finally:
        for sock in clients:
            sock.close()
    assert server.process.poll() is None


def test_a_client_that_sends_without_reading_ends_it(server):
    with greeted(server) as flooder:
        try:
            flood(flooder, stall=0.5)  # until the server's send to us would block
        except ConnectionResetError:
            pass  # the server died with our data unread: its close sent a reset
        code, last, call = died_with(server)
    assert code == 1 and last.startswith("BlockingIOError: [Errno"), last
    assert SENDALL in call, call


@pytest.mark.parametrize("sent_first", [False, True], ids=["reset", "data-then-reset"])
def test_a_reset_ends_it(server, sent_first):
    """A reset from a client that sent nothing makes recv() raise ConnectionResetError. When
    data arrived ahead of the reset, the recv() before may still return it, and then the echo's
    sendall() is the call that raises (which of the two depends on timing, so both are allowed;
    closing.md#fin-and-rst: on Linux, data that arrived before the reset can still be read)."""
    sock = greeted(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if sent_first:
        sock.sendall(b"x\n")
    sock.close()  # SO_LINGER 0: a reset
    code, last, call = died_with(server)
    assert code == 1 and last.startswith("ConnectionResetError: [Errno"), last
    if sent_first:
        assert RECV in call or SENDALL in call, call
    else:
        assert RECV in call, call


@posix_only("Ctrl-C is SIGINT")
def test_ctrl_c_ends_it_with_a_traceback(server):
    greeted(server).close()
    server.process.send_signal(signal.SIGINT)
    code, last, _ = died_with(server)
    # After an unhandled KeyboardInterrupt, Python exits by SIGINT, as a shell expects.
    assert (code, last) == (-signal.SIGINT, "KeyboardInterrupt")
