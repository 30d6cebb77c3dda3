"""The site's clients against servers that misbehave: silent, resetting, trickling, unreachable.

Every client snippet except the post's two originals must end a failed conversation with one
line on stderr and exit status 1 within 5 s (the no-server case is in test_snippets.py, from the
catalog's `no_server`). The peers here run in the test process, on port 0; `run_snippet` points
the snippet's 127.0.0.1:8080 at them.

Against the silent peer and the full backlog each client waits out its 3 s timeout, so the
clients of one fault case are started together (the `fleet` fixture: AT_ONCE at a time), each
against a peer of its own, and each test collects its own client's outcome; "within 5 s" is
still measured from that process's own start to its exit. The tests with a time bound are in
the xdist group "timing" (support.marks.TIMING), so a parallel run starts each fleet once, on one
worker, where the other timing-sensitive tests run one after another.
"""

import ast
import asyncio
import errno
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing

import pytest

from support.catalog import CATALOG, CLIENTS, SUCCEEDS, params
from support.marks import TIMING
from support.paths import HARNESS, ROOT, SNIPPETS
from support.processes import (
    COMPANION_GREETING,
    RUN_TIMEOUT,
    printed_output,
    run_snippet,
    snippet_command,
)
from support.sockets import Peer

GREETING = COMPANION_GREETING
WITHIN = 5.0  # seconds: the whole process, start to exit
RESET_AFTER = 0.25  # seconds: the resetting peer's pause (timeout_client.py waits 0.5 s)

# Each client's expected outcome against each misbehaving peer is its catalog row's `faults`.
OURS = [name for name in CLIENTS if not CATALOG[name].post]


def silent(conn):
    """Accept, then never send (and never read)."""


def reset(conn):
    """Wait a moment (clients that send first have sent by then), then reset (SO_LINGER 0)."""
    time.sleep(RESET_AFTER)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def trickle(conn, pause=0.02):
    """Greet one byte at a time, echo one byte at a time; at the client's FIN, send FIN."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.settimeout(5)

    def send_slowly(data):
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            time.sleep(pause)

    send_slowly(GREETING)
    while data := conn.recv(4096):
        send_slowly(data)
    conn.shutdown(socket.SHUT_WR)


class FullBacklog:
    """A listener (backlog 0) whose accept queue is already full: new SYNs are dropped."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=0)
        self.port = self.listener.getsockname()[1]
        self.queued = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        with socket.socket() as probe, pytest.raises(TimeoutError):
            probe.settimeout(0.2)
            probe.connect(("127.0.0.1", self.port))  # the proof that the SYN is dropped

    def close(self):
        self.queued.close()
        self.listener.close()


def timed_run(name, port, **kwargs):
    started = time.monotonic()
    result = run_snippet(name, port, **kwargs)
    return time.monotonic() - started, result


def outcome(name, case):
    expected = CATALOG[name].faults[case]
    return (0, printed_output(name), "") if expected is SUCCEEDS else expected


# At most this many clients of a fleet run at once. A client spends its time waiting for a peer
# (most of them for their 3 s timeout); only its start-up takes CPU. Ten Python processes
# starting together on a loaded 2-CPU machine (`-n 4` beside another suite) starved each other
# past the 5 s bound; three per CPU start fast enough and keep the fleets short.
AT_ONCE = threading.BoundedSemaphore(max(3, 3 * (os.cpu_count() or 1)))


class Launched:
    """One snippet process, started as soon as a place in AT_ONCE is free; a thread collects its
    output and the moment it exits."""

    def __init__(self, name, port):
        self.args, self.env = snippet_command(name, port)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with AT_ONCE:
            self.started = time.monotonic()
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                stdout, stderr = self.process.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()  # never leave a client behind; its exit status says -9
                stdout, stderr = self.process.communicate()
            self.took = time.monotonic() - self.started  # from its own start to its exit
        self.result = subprocess.CompletedProcess(
            self.process.args, self.process.returncode, stdout, stderr
        )

    def wait(self):
        self.thread.join(3 * (RUN_TIMEOUT + 10))
        assert not self.thread.is_alive()
        return self.took, self.result


PEERS = {"silent": lambda: Peer(silent), "reset": lambda: Peer(reset), "backlog": FullBacklog}


@pytest.fixture(scope="module")
def fleet():
    """fleet(case, name) -> (seconds, result, peer) of snippets/<name>.py against a peer of `case`.

    The first call for a case starts every client of OURS that runs on this platform at once,
    each against a new peer of its own (the full backlogs are made in parallel: each proves its
    SYN drop with a 0.2 s probe); the peers stay open until every client has exited.
    """
    runnable = [name for name in OURS if sys.platform in CATALOG[name].platforms]
    started = {}
    with ExitStack() as stack:

        def get(case, name):
            if case not in started:
                with ThreadPoolExecutor(len(runnable)) as pool:
                    made = list(pool.map(lambda _: PEERS[case](), runnable))
                peers = [stack.enter_context(closing(peer)) for peer in made]
                pairs = zip(runnable, peers, strict=True)
                started[case] = {n: (Launched(n, peer.port), peer) for n, peer in pairs}
            launched, peer = started[case][name]
            return (*launched.wait(), peer)

        yield get
        for clients in started.values():  # every client has exited before its peer closes
            for launched, _ in clients.values():
                launched.wait()


@TIMING
@pytest.mark.parametrize("name", params(OURS))
def test_silent_peer(name, fleet):
    took, result, peer = fleet("silent", name)
    assert peer.accepted >= 1  # the redirect reached this peer
    assert (result.returncode, result.stdout, result.stderr) == outcome(name, "silent")
    assert took < WITHIN


@TIMING
@pytest.mark.parametrize("name", params(OURS))
def test_reset_peer(name, fleet):
    took, result, peer = fleet("reset", name)
    assert peer.accepted >= 1
    assert (result.returncode, result.stdout, result.stderr) == outcome(name, "reset")
    assert took < WITHIN


@TIMING
@pytest.mark.skipif(
    sys.platform == "win32", reason="Windows refuses a connection when the backlog is full"
)
@pytest.mark.parametrize("name", params(OURS))
def test_connect_times_out(name, fleet):
    took, result, _ = fleet("backlog", name)
    assert (result.returncode, result.stdout, result.stderr) == outcome(name, "backlog")
    assert took < WITHIN


# Reading until a full line: a peer that sends its greeting (and echo) one byte at a time.
LINE_READERS = [
    name for name in OURS if CATALOG[name].everywhere and "hello from" in printed_output(name)
]


@pytest.mark.parametrize("name", params(LINE_READERS))
def test_client_reads_the_whole_line_from_a_trickling_peer(name, tmp_path):
    trace = tmp_path / "trace.json"
    with Peer(trickle) as peer:
        result = run_snippet(name, peer.port, trace=trace)
    assert peer.errors == []
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == printed_output(name)
    if name in ("peer_closed", "selectors_client"):  # they call recv() themselves
        pieces = [r for r in json.loads(trace.read_text()) if r[0] == "recv" and r[3] != "b''"]
        assert len(pieces) > 2, pieces  # the line really came in pieces


@pytest.mark.parametrize("name", [n for n in CLIENTS if CATALOG[n].post and CATALOG[n].everywhere])
def test_one_recv_gets_part_of_the_line(name):
    """The proof that the trickling peer can fail the test above: the post's one recv()."""
    with Peer(trickle) as peer:
        result = run_snippet(name, peer.port, strict=False)
    assert (result.returncode, result.stderr) == (0, "")
    data = ast.literal_eval(result.stdout)
    assert GREETING.startswith(data) and len(data) < len(GREETING), data


@pytest.fixture
def many_clients(monkeypatch):
    monkeypatch.syspath_prepend(str(SNIPPETS))
    import many_clients

    return many_clients


STRATEGIES = ["sequential", "threads", "selectors", "asyncio"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_many_clients_read_whole_lines(many_clients, strategy):
    with Peer(trickle) as peer:
        greetings = many_clients.STRATEGIES[strategy](3, ("127.0.0.1", peer.port))
    assert greetings == [GREETING] * 3
    assert peer.errors == [] and peer.accepted == 3


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_many_clients_reset(many_clients, strategy):
    with Peer(reset) as peer, pytest.raises(ConnectionResetError):
        many_clients.STRATEGIES[strategy](3, ("127.0.0.1", peer.port))


@TIMING
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_many_clients_silent(many_clients, strategy, monkeypatch):
    monkeypatch.setattr(many_clients, "TIMEOUT", 0.3)
    started = time.monotonic()
    with Peer(silent) as peer, pytest.raises(TimeoutError):
        many_clients.STRATEGIES[strategy](3, ("127.0.0.1", peer.port))
    assert time.monotonic() - started < 2


def run_patched(name, port, patch, trace=None):
    """Run snippets/<name>.py as run_snippet does, after `patch` (Python code) has run."""
    env = os.environ | {"PYTHONPATH": str(HARNESS), "SNIPPET_PORT": str(port)}
    env.pop("PYTHONWARNINGS", None)
    if trace:
        env["SNIPPET_TRACE"] = str(trace)
    code = f"{patch}\nimport runpy\nrunpy.run_path('snippets/{name}.py', run_name='__main__')\n"
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


UNREACHABLE = ("255.255.255.255", 80)  # Linux's tcp_v4_connect(): ENETUNREACH for broadcast


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's answer to a broadcast address")
def test_connect_ex_can_fail_at_once_and_leave_so_error_at_0():
    """Why selectors_client.py checks connect_ex()'s own return value."""
    with socket.socket() as sock:
        sock.setblocking(False)
        assert errno.errorcode[sock.connect_ex(UNREACHABLE)] == "ENETUNREACH"
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


@TIMING
@pytest.mark.skipif(sys.platform != "linux", reason="Linux's answer to a broadcast address")
def test_selectors_client_reports_an_immediate_connect_error(closed_port):
    patch = (
        "import socket\n"
        "connect_ex = socket.socket.connect_ex\n"
        "socket.socket.connect_ex = lambda self, address: connect_ex(\n"
        f"    self, {UNREACHABLE!r} if address == ('127.0.0.1', 8080) else address)\n"
    )
    started = time.monotonic()
    result = run_patched("selectors_client", closed_port, patch)
    assert time.monotonic() - started < WITHIN
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "OSError: ENETUNREACH, could not reach 127.0.0.1:8080\n",
    )


def test_selectors_client_survives_a_spurious_wakeup(tmp_path):
    """A readiness report with nothing to read: recv() raises BlockingIOError, it waits again."""
    patch = (
        "import selectors\n"
        "select = selectors.DefaultSelector.select\n"
        "fired = []\n"
        "def spurious(self, timeout=None):\n"
        "    keys = list(self.get_map().values())\n"
        "    if not fired and keys[0].events == selectors.EVENT_READ:\n"
        "        fired.append(1)\n"
        "        return [(keys[0], selectors.EVENT_READ)]\n"
        "    return select(self, timeout)\n"
        "selectors.DefaultSelector.select = spurious\n"
    )

    def late_greeting(conn):
        time.sleep(0.3)
        conn.sendall(GREETING)

    trace = tmp_path / "trace.json"
    with Peer(late_greeting) as peer:
        result = run_patched("selectors_client", peer.port, patch, trace=trace)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        printed_output("selectors_client"),
        "",
    )
    recvs = [r[3] for r in json.loads(trace.read_text()) if r[0] == "recv"]
    assert recvs == ["BlockingIOError EAGAIN", repr(GREETING)]


def test_nonblocking_connect_when_connect_ex_returns_0():
    """Some systems finish a loopback connect at once: connect_ex() returns 0, which has no
    name in errno.errorcode (it raised KeyError). Here a blocking connect_ex() really returns 0."""
    patch = (
        "import socket\n"
        "connect_ex = socket.socket.connect_ex\n"
        "first = []\n"
        "def at_once(self, address):\n"
        "    if first:\n"
        "        return connect_ex(self, address)\n"
        "    first.append(1)\n"
        "    self.setblocking(True)  # connect(2) itself waits, and returns 0\n"
        "    try:\n"
        "        return connect_ex(self, address)\n"
        "    finally:\n"
        "        self.setblocking(False)\n"
        "socket.socket.connect_ex = at_once\n"
    )
    with socket.create_server(("127.0.0.1", 0)) as listener:
        result = run_patched("nonblocking_connect", listener.getsockname()[1], patch)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "connect_ex: 0\nconnect_ex again: EISCONN\nand again: EISCONN\n",
        "",
    )


def test_asyncio_transport_socket_is_non_blocking_and_its_gettimeout_says_nothing():
    """The page's claim: os.get_blocking() shows the mode; TransportSocket.gettimeout() is 0
    whatever the mode, because Lib/asyncio/trsock.py returns 0 without asking the socket."""

    async def main(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            sock = writer.get_extra_info("socket")
            assert type(sock).__name__ == "TransportSocket"
            fd = sock.fileno()
            seen = [(os.get_blocking(fd), sock.gettimeout())]
            os.set_blocking(fd, True)  # make it blocking behind asyncio's back...
            seen.append((os.get_blocking(fd), sock.gettimeout()))  # ...gettimeout() still 0
            os.set_blocking(fd, False)
            return seen
        finally:
            writer.close()
            await writer.wait_closed()

    with socket.create_server(("127.0.0.1", 0)) as listener:
        seen = asyncio.run(main(listener.getsockname()[1]))
    assert seen == [(False, 0), (True, 0)]


def test_closing_with_unread_data_resets_the_connection():
    """RFC 2525 (2.17) / Linux: close() with unread received data sends RST, not FIN."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
        with server:
            server.settimeout(5)
            server.sendall(GREETING)  # the client never reads it
            time.sleep(0.05)
            client.close()
            with pytest.raises(ConnectionResetError) as info:
                while server.recv(4096):
                    pass
    assert info.value.errno == errno.ECONNRESET


def test_partial_send_leaves_the_server_a_reset():
    """What the companion server sees from partial_send.py: ConnectionResetError, not b''."""
    seen = []

    def greet_then_read(conn):
        conn.settimeout(5)
        conn.sendall(GREETING)  # partial_send.py never reads it
        try:
            while conn.recv(65536):
                pass
            seen.append("b''")
        except ConnectionResetError as exc:
            seen.append(errno.errorcode[exc.errno])

    with Peer(greet_then_read) as peer:
        result = run_snippet("partial_send", peer.port)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        printed_output("partial_send"),
        "",
    )
    assert seen == ["ECONNRESET"]


def half_a_greeting(conn):
    """Send part of the greeting, then close: the line never ends."""
    conn.sendall(GREETING[:5])
    conn.shutdown(socket.SHUT_WR)


@TIMING
@pytest.mark.parametrize(
    ("name", "stdout"),
    [("many_clients", ""), ("asyncio_client", "blocking: False\n" if os.name == "posix" else "")],
)
def test_a_greeting_cut_short(name, stdout):
    """A server that closes mid-line: one line and exit 1, not a traceback or half a line."""
    with Peer(half_a_greeting) as peer:
        took, result = timed_run(name, peer.port)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        stdout,
        "ConnectionError: 127.0.0.1:8080 dropped the connection\n",
    )
    assert took < WITHIN
