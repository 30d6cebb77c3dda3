"""The minimal select() and selectors loops (echo-servers/select.md and selectors.md,
#minimal-loop): they greet and echo every well-behaved client at once, and each way the page
says they fail ends the whole server with that exception's traceback."""

import signal
import socket
import struct

import pytest
from catalog import FIRST_STEPS
from conftest import read_line, start_server
from loopback import flood
from platform_marks import posix_only

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
    """Wait for the server to exit; its status and the last line of its traceback."""
    server.process.wait(timeout=WITHIN)
    lines = server.err.read_text().splitlines()
    assert lines[0] == "Traceback (most recent call last):", lines
    return server.process.returncode, lines[-1]


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
        code, last = died_with(server)
    assert code == 1 and last.startswith("BlockingIOError: [Errno"), last


def test_a_reset_ends_it(server):
    sock = greeted(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.sendall(b"x\n")
    sock.close()  # a reset: the server's recv() raises
    code, last = died_with(server)
    assert code == 1 and last.startswith("ConnectionResetError: [Errno"), last


@posix_only("Ctrl-C is SIGINT")
def test_ctrl_c_ends_it_with_a_traceback(server):
    greeted(server).close()
    server.process.send_signal(signal.SIGINT)
    code, last = died_with(server)
    # After an unhandled KeyboardInterrupt, Python exits by SIGINT, as a shell expects.
    assert (code, last) == (-signal.SIGINT, "KeyboardInterrupt")
