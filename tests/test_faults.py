"""Faults the pages warn about, against the companion server and the four echo servers.

After each fault, a normal client must still get its greeting and echo within one second,
and the server process must still be running.

Each fault but the 1,000 clients is a job (support/ahead.py): one job per fault runs it against
every server side by side, as each mostly waits (for a flood to stall, a trickle, a server to
stop), each measured as the test measured it, and each test checks its own server's run. The
1,000 clients take the CPU: that test still starts its server itself (the `server` fixture) and
times it, in the timing group (support.marks.TIMING).
"""

import os
import signal
import socket
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.ahead import job, needs
from support.catalog import SERVERS
from support.marks import LINUX, TIMING, linux_only
from support.processes import INCIDENTAL, Stopped, start_server
from support.side_by_side import outcome, side_by_side
from support.sockets import flood, read_line, read_to_eof

# RSS from /proc, 1,000 descriptors in this process (macOS allows 256 by default), SIGINT.
pytestmark = linux_only("/proc and 1,000 open descriptors")
HELD = 1000
SLOWLY = b"slowly, one byte at a time\n"


def on_linux(*names):
    """needs(*names) where these tests run. The session starts the jobs of every selected test,
    skipped or not: elsewhere (the portable session on macOS and Windows) no job is named."""
    return needs(*names) if LINUX else pytest.mark.ahead()


@pytest.fixture(params=SERVERS)
def server(request, tmp_path):
    running = start_server(tmp_path, script=f"{request.param}.py")
    yield running
    if running.process.poll() is None:
        running.stop_cleanly()


def rss_kib(server):
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@dataclass
class Health:
    """What a normal client saw: its greeting, its echo, the seconds from before its connect to
    its close; and whether the server was still running after."""

    greeting: bytes
    echo: bytes
    seconds: float
    alive: bool

    def check(self, greeting):
        assert self.greeting == greeting
        assert self.echo == b"still there?\n"
        assert self.seconds < 1.0
        assert self.alive


def health(server):
    started = time.monotonic()
    with server.connect(timeout=1.0) as sock:
        greeting = read_line(sock)
        sock.sendall(b"still there?\n")
        echo = read_line(sock)
    return Health(greeting, echo, time.monotonic() - started, server.process.poll() is None)


def assert_healthy(server):
    """A normal client gets its greeting and echo within one second; the server is alive."""
    health(server).check(server.greeting)


@dataclass
class Served:
    """One server's run in a job: what the fault's run saw, and how the server stopped where the
    `server` fixture stops it (None: it was no longer running)."""

    script: str
    greeting: bytes
    seen: object
    stopped: Stopped | None

    def assert_stopped_cleanly(self):
        """What the fixture asserts as it stops a server still running (a clean exit; the
        stop is not this module's claim, timed here beside the whole suite: INCIDENTAL)."""
        if self.stopped is not None:
            self.stopped.assert_clean(self.script, within=INCIDENTAL)


def served(name, run):
    """run(server) against a new snippets/<name>.py, in a job: a folder of its own, the server
    stopped as the fixture stops it, or killed if the run failed."""
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        server = start_server(folder, script=f"{name}.py")
        try:
            seen = run(server)
            stopped = server.stop() if server.process.poll() is None else None
        finally:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=5)
    return Served(server.script, server.greeting, seen, stopped)


@TIMING
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


@dataclass
class Exchange:
    """What a client got for what it sent: the greeting, then its echo up to end of file."""

    greeting: bytes
    sent: bytes
    echoed: bytes


def random_bytes(server):
    """Ten clients each send 64 KiB of random bytes, then half-close: [Exchange], then Health."""
    exchanges = []
    for _ in range(10):
        payload = os.urandom(64 * 1024)
        with server.connect() as sock:
            greeting = read_line(sock)
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            exchanges.append(Exchange(greeting, payload, read_to_eof(sock)))
    return exchanges, health(server)


@job("faults-random-bytes", seconds=1.0)
def random_bytes_against_each_server():
    return side_by_side(lambda name: served(name, random_bytes), SERVERS)


@on_linux("faults-random-bytes")
@pytest.mark.parametrize("name", SERVERS)
def test_random_bytes_come_back_intact(name, ahead):
    run = outcome(ahead("faults-random-bytes"), name)
    exchanges, after = run.seen
    for exchange in exchanges:
        assert exchange.greeting == run.greeting
        assert exchange.echoed == exchange.sent
    after.check(run.greeting)
    run.assert_stopped_cleanly()


def idle_clients(server):
    """Health with 50 clients connected that send nothing, and after they leave."""
    clients = [server.connect() for _ in range(50)]
    try:
        during = health(server)
    finally:
        for sock in clients:
            sock.close()
    return during, health(server)


@job("faults-idle-clients", seconds=1.0)
def idle_clients_against_each_server():
    return side_by_side(lambda name: served(name, idle_clients), SERVERS)


@on_linux("faults-idle-clients")
@pytest.mark.parametrize("name", SERVERS)
def test_clients_that_send_nothing(name, ahead):
    run = outcome(ahead("faults-idle-clients"), name)
    during, after = run.seen
    during.check(run.greeting)
    after.check(run.greeting)
    run.assert_stopped_cleanly()


def abrupt_resets(server):
    """40 clients reset their connection; then what a normal client sees (Health)."""
    for send_first in (False, True):
        for _ in range(20):
            sock = server.connect()
            if send_first:
                sock.sendall(b"x" * 100_000)  # the server may be echoing when the reset comes
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # SO_LINGER 0: close sends RST, not FIN
    time.sleep(0.1)
    return health(server)


@job("faults-resets", seconds=1.0)
def resets_against_each_server():
    return side_by_side(lambda name: served(name, abrupt_resets), SERVERS)


@on_linux("faults-resets")
@pytest.mark.parametrize("name", SERVERS)
def test_abrupt_resets(name, ahead):
    run = outcome(ahead("faults-resets"), name)
    run.seen.check(run.greeting)
    run.assert_stopped_cleanly()


def half_close(server):
    """A client's echo up to end of file after it sent two lines and half-closed; then Health."""
    with server.connect() as sock:
        read_line(sock)
        sock.sendall(b"one\ntwo\n")
        sock.shutdown(socket.SHUT_WR)
        echoed = read_to_eof(sock)
    return echoed, health(server)


@job("faults-half-close", seconds=1.0)
def half_close_against_each_server():
    return side_by_side(lambda name: served(name, half_close), SERVERS)


@on_linux("faults-half-close")
@pytest.mark.parametrize("name", SERVERS)
def test_half_close_gets_the_whole_echo_then_eof(name, ahead):
    run = outcome(ahead("faults-half-close"), name)
    echoed, after = run.seen
    assert echoed == b"one\ntwo\n"
    after.check(run.greeting)
    run.assert_stopped_cleanly()


@dataclass
class NonReader:
    """Bytes the server took from a client that never reads, its RSS growth (KiB) meanwhile, and
    what a normal client saw while that client was still connected and after it left."""

    sent: int
    growth: int
    during: Health
    after: Health


def non_reader(server):
    before = rss_kib(server)
    with server.connect() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # the echo has little room
        sent = flood(sock)
        growth = rss_kib(server) - before
        during = health(server)
    return NonReader(sent, growth, during, health(server))


@job("faults-non-reader", seconds=1.5)
def non_readers_against_each_server():
    """Each flood ends once the server takes nothing for 0.5 s: a wait, side by side."""
    return side_by_side(lambda name: served(name, non_reader), SERVERS)


@on_linux("faults-non-reader")
@pytest.mark.parametrize("name", SERVERS)
def test_a_client_that_sends_10_mb_and_never_reads(name, ahead, record_property):
    run = outcome(ahead("faults-non-reader"), name)
    sent, growth = run.seen.sent, run.seen.growth
    record_property("rss_growth_kib_for_non_reader", growth)
    print(f"\n{run.script}: took {sent:,} bytes, RSS grew {growth} KiB")
    # The kernel's socket buffers on loopback can take much of the 10 MB; what must not
    # grow is the server's own memory: it stops reading from a client that does not read.
    assert growth < 2048, f"server memory grew by {growth} KiB after {sent} bytes"
    run.seen.during.check(run.greeting)
    run.seen.after.check(run.greeting)
    run.assert_stopped_cleanly()


@dataclass
class SlowClient:
    """What a normal client saw halfway through the slow one's message; the slow one's echo;
    what a normal client saw after."""

    meanwhile: Health
    echoed: bytes
    after: Health


def slow_client(server):
    with server.connect() as slow:
        read_line(slow)
        for i, byte in enumerate(SLOWLY):
            slow.sendall(bytes([byte]))
            time.sleep(0.005)
            if i == len(SLOWLY) // 2:
                meanwhile = health(server)  # others are served meanwhile
        echoed = b""
        # A server that closes ends the loop (the echo then differs) rather than spinning the job.
        while len(echoed) < len(SLOWLY) and (chunk := slow.recv(4096)):
            echoed += chunk
    return SlowClient(meanwhile, echoed, health(server))


@job("faults-slow-client", seconds=1.0)
def slow_clients_against_each_server():
    return side_by_side(lambda name: served(name, slow_client), SERVERS)


@on_linux("faults-slow-client")
@pytest.mark.parametrize("name", SERVERS)
def test_slow_client_one_byte_at_a_time(name, ahead):
    run = outcome(ahead("faults-slow-client"), name)
    run.seen.meanwhile.check(run.greeting)
    assert run.seen.echoed == SLOWLY
    run.seen.after.check(run.greeting)
    run.assert_stopped_cleanly()
