"""Faults the pages warn about, against the companion server and the four echo servers.

After each fault, a normal client must still get its greeting and echo within one second,
and the server process must still be running.
"""

import os
import signal
import socket
import struct
import time
from pathlib import Path

import pytest

from support.catalog import SERVERS
from support.marks import TIMING, linux_only
from support.processes import start_server
from support.sockets import flood, read_line, read_to_eof

# RSS from /proc, 1,000 descriptors in this process (macOS allows 256 by default), SIGINT.
# Every server here must stop within a second (the fixture): the timing group
# (support.marks.TIMING).
pytestmark = [linux_only("/proc and 1,000 open descriptors"), TIMING]
HELD = 1000


@pytest.fixture(params=SERVERS)
def server(request, tmp_path):
    running = start_server(tmp_path, script=f"{request.param}.py")
    yield running
    if running.process.poll() is None:
        running.stop_cleanly()


def rss_kib(server):
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def assert_healthy(server):
    """A normal client gets its greeting and echo within one second; the server is alive."""
    started = time.monotonic()
    with server.connect(timeout=1.0) as sock:
        assert read_line(sock) == server.greeting
        sock.sendall(b"still there?\n")
        assert read_line(sock) == b"still there?\n"
    assert time.monotonic() - started < 1.0
    assert server.process.poll() is None


def test_thousand_connections_then_ctrl_c_with_a_flooder(server, record_property):
    """1,000 clients open together: each is greeted, idle memory stays small, each gets its echo.

    Then, with all of them still connected and one more client pushing up to 10 MB without
    reading its echo, Ctrl-C (SIGINT) stops the server within a second, cleanly.
    """
    before = rss_kib(server)
    clients = []
    try:
        for _ in range(HELD):
            clients.append(server.connect(timeout=10))
        for sock in clients:
            assert read_line(sock) == server.greeting
        per_connection = (rss_kib(server) - before) / HELD
        record_property("rss_kib_per_idle_connection", round(per_connection, 1))
        print(f"\n{server.script}: {per_connection:.1f} KiB RSS per idle connection")
        assert per_connection < 64  # bounded: no per-connection buffers sized by the peer
        assert_healthy(server)
        for number, sock in enumerate(clients):
            sock.sendall(b"%d\n" % number)
        for number, sock in enumerate(clients):
            assert read_line(sock) == b"%d\n" % number
        clients.append(server.connect())
        assert read_line(clients[-1]) == server.greeting
        sent = flood(clients[-1])
        assert sent > 1_000_000  # the flooder's echo is stuck in the server's buffers
        stopped = server.stop(signal.SIGINT)
    finally:
        for sock in clients:
            sock.close()
    record_property("seconds_to_stop", round(stopped.seconds, 3))
    print(f"{server.script}: stopped {stopped.seconds:.3f} s after SIGINT, flooder sent {sent:,} B")
    stopped.assert_clean(server.script)


def test_random_bytes_come_back_intact(server):
    for _ in range(10):
        payload = os.urandom(64 * 1024)
        with server.connect() as sock:
            assert read_line(sock) == server.greeting
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            echoed = read_to_eof(sock)
        assert echoed == payload
    assert_healthy(server)


def test_clients_that_send_nothing(server):
    clients = [server.connect() for _ in range(50)]
    try:
        assert_healthy(server)
    finally:
        for sock in clients:
            sock.close()
    assert_healthy(server)


def test_abrupt_resets(server):
    for send_first in (False, True):
        for _ in range(20):
            sock = server.connect()
            if send_first:
                sock.sendall(b"x" * 100_000)  # the server may be echoing when the reset comes
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # SO_LINGER 0: close sends RST, not FIN
    time.sleep(0.1)
    assert_healthy(server)


def test_half_close_gets_the_whole_echo_then_eof(server):
    with server.connect() as sock:
        read_line(sock)
        sock.sendall(b"one\ntwo\n")
        sock.shutdown(socket.SHUT_WR)
        echoed = read_to_eof(sock)
    assert echoed == b"one\ntwo\n"
    assert_healthy(server)


def test_a_client_that_sends_10_mb_and_never_reads(server, record_property):
    before = rss_kib(server)
    with server.connect() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # the echo has little room
        sent = flood(sock)
        growth = rss_kib(server) - before
        record_property("rss_growth_kib_for_non_reader", growth)
        print(f"\n{server.script}: took {sent:,} bytes, RSS grew {growth} KiB")
        # The kernel's socket buffers on loopback can take much of the 10 MB; what must not
        # grow is the server's own memory: it stops reading from a client that does not read.
        assert growth < 2048, f"server memory grew by {growth} KiB after {sent} bytes"
        assert_healthy(server)
    assert_healthy(server)


def test_slow_client_one_byte_at_a_time(server):
    message = b"slowly, one byte at a time\n"
    with server.connect() as slow:
        read_line(slow)
        for i, byte in enumerate(message):
            slow.sendall(bytes([byte]))
            time.sleep(0.005)
            if i == len(message) // 2:
                assert_healthy(server)  # others are served meanwhile
        echoed = b""
        while len(echoed) < len(message):
            echoed += slow.recv(4096)
    assert echoed == message
    assert_healthy(server)
