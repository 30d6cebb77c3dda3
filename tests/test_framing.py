"""Message framing (docs/*/framing.md): TCP keeps no message boundaries, so a client must put
messages back together, and a server must take them apart.

The clients (echo_client.py with readline(), nonblocking_lines.py with a buffer, framed_client.py
with a length prefix) run in this process, unchanged, against peers that play their server:
- a splitting peer sends every message in two segments, cut after byte k, for every k from 1 to
  the message's length - 1 (one connection per k). TCP_NODELAY sends each part at once, and the
  peer sends the second part only once the client has read the first (the client's reads are
  traced here, in this process: a drain, so the two parts cannot arrive together). The trace then
  shows, for every cut, a read that ended exactly there;
- a bundling peer sends every answer in one sendall() (one segment), before the client asks.
Each must print exactly its `#>` lines. The same code with one recv() where a loop belongs fails.

framed_server.py speaks no line protocol, so the tests parametrized over catalog.SERVERS (which
assume a greeting line and an echo) leave it out (its row says protocol="length-prefixed"); its
promises are proven here instead: frames split at every byte and many in one segment, an absurd
length refused without being read or allocated, a bad frame ending that client only, one notice
when out of descriptors, and a stop within a second of SIGINT/SIGTERM with 1,000 clients and a
flooder connected.

Frames cut at every byte wait for framed_server.py's read of each first part, one after another:
that run is a job (support/ahead.py), with a server of its own; the test checks what it got.
"""

import contextlib
import io
import itertools
import runpy
import select
import signal
import socket
import struct
import tempfile
import threading
import time
import traceback
from pathlib import Path

import pytest
import redirect

from support.ahead import job, needs
from support.marks import TIMING, linux_only, posix_only
from support.paths import SNIPPETS
from support.processes import (
    COMPANION_GREETING,
    own_server,
    printed_output,
    run_snippet,
    start_server,
    transcript,
    wait_for,
)
from support.sockets import Peer, connected_pair, recv_exactly

HEADER = struct.Struct("!I")
LINE_GREETING = COMPANION_GREETING
FRAMED_GREETING = b"hello from framed_server.py"
WAIT = 5.0  # seconds: the longest any step here waits for the other side


def frame(payload):
    return HEADER.pack(len(payload)) + payload


def recv_frame(sock):
    (size,) = HEADER.unpack(recv_exactly(sock, HEADER.size))
    return recv_exactly(sock, size)


# ---------------------------------------------------------------------------------------------
# The clients, run in this process with their reads traced


class Run:
    """One client run: the byte counts of its reads (recv, recv_into, in this process's main
    thread), where the peer cut (stream offsets), and whether the client has exited."""

    def __init__(self, cut=None):
        self.cut, self.sizes, self.cuts, self.failures = cut, [], [], []
        self.done = False
        self.changed = threading.Condition()

    def read(self, size):
        with self.changed:
            self.sizes.append(size)
            self.changed.notify_all()

    def finish(self):
        with self.changed:
            self.done = True
            self.changed.notify_all()

    def wait_for(self, total):
        """Until the client has read `total` bytes (the drain); False if it exited first or has
        not within WAIT seconds."""
        with self.changed:
            self.changed.wait_for(lambda: sum(self.sizes) >= total or self.done, timeout=WAIT)
            return sum(self.sizes) >= total

    def ends(self):
        """Where each read ended, counted in bytes from the start of the stream."""
        return set(itertools.accumulate(self.sizes))


@pytest.fixture
def runs(monkeypatch):
    """runs(path, peer, cut=None) -> (outcome, Run): run the client file at `path` in this
    process against `peer`, which cuts its answers after byte `cut` (see send_cut). The peer
    finds the current Run in runs.current."""

    def traced(name):
        original = getattr(socket.socket, name)

        def read(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            if threading.current_thread() is threading.main_thread():
                state.current.read(result if isinstance(result, int) else len(result))
            return result

        monkeypatch.setattr(socket.socket, name, read)

    class State:
        current = Run()

        def __call__(self, path, peer, cut=None):
            run = self.current = Run(cut)
            try:
                return run_in_process(path, peer.port), run
            finally:
                run.finish()

    state = State()
    traced("recv")
    traced("recv_into")
    return state


def run_in_process(path, port):
    """Run the file at `path` as __main__, its 127.0.0.1:8080 redirected to `port`:
    (exit status, stdout, stderr) as a terminal would show them (an uncaught exception as its
    traceback's last line)."""
    out = io.StringIO()
    undo = redirect.install(port)
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(path), run_name="__main__")
        return 0, out.getvalue(), ""
    except SystemExit as exc:
        if isinstance(exc.code, str):
            return 1, out.getvalue(), exc.code + "\n"
        return exc.code or 0, out.getvalue(), ""
    except Exception as exc:
        return 1, out.getvalue(), traceback.format_exception_only(exc)[-1]
    finally:
        undo()


def send_cut(conn, message, run, sent):
    """Send `message` in two segments cut after byte run.cut (whole if the cut falls outside
    it), the second only once the client has read the first; return the bytes sent so far."""
    if run.cut and 0 < run.cut < len(message):
        conn.sendall(message[: run.cut])
        if not run.wait_for(sent + run.cut) and not run.done:
            run.failures.append(f"the client did not read the first {run.cut} bytes")
        run.cuts.append(sent + run.cut)
        conn.sendall(message[run.cut :])
    else:
        conn.sendall(message)
    return sent + len(message)


def line_server(runs):
    """A Peer handler playing the companion server: a greeting line, then each line echoed."""

    def handle(conn):
        run = runs.current
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(WAIT)
        sent = send_cut(conn, LINE_GREETING, run, 0)
        with conn.makefile("rb") as lines:
            while line := lines.readline():
                sent = send_cut(conn, line, run, sent)

    return handle


def framed_server(runs):
    """A Peer handler playing framed_server.py: a greeting frame, then each frame echoed."""

    def handle(conn):
        run = runs.current
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(WAIT)
        sent = send_cut(conn, frame(FRAMED_GREETING), run, 0)
        while True:
            try:
                payload = recv_frame(conn)
            except (EOFError, struct.error):
                return  # the client has gone
            sent = send_cut(conn, frame(payload), run, sent)

    return handle


def bundler(answers):
    """A Peer handler that sends every answer in one sendall() (one segment), before the client
    asks, then shuts its sending side and reads what the client sends until it closes."""

    def handle(conn):
        conn.settimeout(WAIT)
        conn.sendall(b"".join(answers))
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):
            pass

    return handle


LINE_ANSWERS = [LINE_GREETING, b"one\n", b"two\n", b"three\n"]
FRAMED_ANSWERS = [frame(m) for m in (FRAMED_GREETING, b"one", b"two\nlines", b"")]
CLIENTS = {  # client: (the peer playing its server, the answers it gets, as bytes on the wire)
    "echo_client": (line_server, LINE_ANSWERS),
    "nonblocking_lines": (line_server, LINE_ANSWERS),
    "framed_client": (framed_server, FRAMED_ANSWERS),
}


def every_cut(answers):
    """Cuts 1 .. longest - 1: on connection k, every answer longer than k is cut after byte k."""
    return range(1, max(len(a) for a in answers))


@pytest.mark.parametrize("name", list(CLIENTS))
def test_client_reads_each_message_cut_at_every_byte(name, runs):
    serve, answers = CLIENTS[name]
    starts = list(itertools.accumulate(map(len, answers[:-1]), initial=0))
    with Peer(serve(runs)) as peer:
        for cut in every_cut(answers):
            outcome, run = runs(SNIPPETS / f"{name}.py", peer, cut)
            assert outcome == (0, printed_output(name), ""), f"cut after byte {cut}"
            assert (run.failures, run.cuts) == (
                [],
                [start + cut for start, a in zip(starts, answers, strict=True) if cut < len(a)],
            ), f"cut after byte {cut}"
            # the proof that each message came in two pieces: a read ended at every cut
            assert set(run.cuts) <= run.ends(), (cut, run.sizes)
    assert peer.errors == []
    assert peer.accepted == len(every_cut(answers))


@pytest.mark.parametrize("name", list(CLIENTS))
def test_client_takes_several_messages_from_one_segment(name, runs):
    _, answers = CLIENTS[name]
    with Peer(bundler(answers)) as peer:
        outcome, run = runs(SNIPPETS / f"{name}.py", peer)
    assert outcome == (0, printed_output(name), "")
    assert peer.errors == []
    if name == "framed_client":
        # It never reads past the part it needs: the rest waits in the kernel's buffer.
        assert run.sizes == [len(part) for a in answers for part in (a[:4], a[4:]) if part]
    else:
        # One read brought all four lines: the buffer kept what followed the first one.
        assert run.sizes[0] == len(b"".join(answers))


def mutated(tmp_path, name, old, new):
    """snippets/<name>.py with `old` replaced by `new`, as a file in tmp_path."""
    source = (SNIPPETS / f"{name}.py").read_text()
    assert source.count(old) == 1, f"{name}.py no longer has {old!r}"
    path = tmp_path / f"{name}_mutated.py"
    path.write_text(source.replace(old, new))
    return path


def test_one_recv_per_read_fails_on_a_cut_frame(tmp_path, runs):
    """framed_client.py with `if` where recv_exactly() has its `while`: one recv() per read.
    Against the splitting peer it fails at every cut: the loop is what makes it work."""
    naive = mutated(tmp_path, "framed_client", "while len(data) < size:", "if len(data) < size:")
    outcomes = {}
    with Peer(framed_server(runs)) as peer:
        for cut in every_cut(FRAMED_ANSWERS):
            outcomes[cut], _ = runs(naive, peer, cut)
    good = (0, printed_output("framed_client"), "")
    # Only the cut after the 4-byte header, where it reads in two parts anyway, gets through.
    assert [cut for cut, outcome in outcomes.items() if outcome == good] == [HEADER.size]
    assert outcomes[2] == (1, "", "struct.error: unpack requires a buffer of 4 bytes\n")
    assert outcomes[10][:2] == (1, "b'hello '\n")  # the greeting's first 6 bytes, as if whole


def test_the_posts_single_recv_gets_part_of_a_cut_line(runs):
    """The post's blocking_client.py, one recv(), against the splitting line peer: at every cut
    it prints only the part before the cut."""
    printed = []
    socket.setdefaulttimeout(WAIT)  # the post's client sets no timeout
    try:
        with Peer(line_server(runs)) as peer:
            for cut in range(1, len(LINE_GREETING)):
                (status, stdout, _), _ = runs(SNIPPETS / "blocking_client.py", peer, cut)
                assert status == 0
                printed.append(stdout)
    finally:
        socket.setdefaulttimeout(None)
    assert printed == [f"{LINE_GREETING[:cut]!r}\n" for cut in range(1, len(LINE_GREETING))]


def test_one_line_per_recv_fails_on_several_lines_in_one_segment(tmp_path, runs):
    """nonblocking_lines.py with `if` where it has `while b"\\n" in buffer`: it takes one line
    from each recv(), so the three lines that came with the greeting are never printed."""
    naive = mutated(
        tmp_path, "nonblocking_lines", 'while b"\\n" in buffer:', 'if b"\\n" in buffer:'
    )
    with Peer(bundler(LINE_ANSWERS)) as peer:
        outcome, _ = runs(naive, peer)
    assert outcome == (
        1,
        "b'hello from server.py\\n'\n",
        "ConnectionError: 127.0.0.1:8080 dropped the connection\n",
    )


@pytest.mark.parametrize("name", ["echo_client", "nonblocking_lines"])
def test_a_line_without_end_is_refused_past_the_limit(name, runs):
    """Both line clients keep at most LIMIT bytes of an unfinished line (echo_client.py with
    readline(LIMIT + 1), nonblocking_lines.py by checking its buffer)."""

    def endless(conn):
        conn.settimeout(WAIT)
        with contextlib.suppress(ConnectionError):
            conn.sendall(b"x" * 70_000)
            while conn.recv(4096):
                pass

    with Peer(endless) as peer:
        outcome, _ = runs(SNIPPETS / f"{name}.py", peer)
    assert outcome == (1, "", "ValueError: 127.0.0.1:8080 sent a line longer than 65536 bytes\n")


@pytest.mark.parametrize("name", ["echo_client", "nonblocking_lines"])
@pytest.mark.parametrize("rest", [b"", b"on"], ids=["at-a-line-end", "mid-line"])
def test_a_line_client_reports_a_close_before_the_last_line(name, rest, runs):
    """The peer sends the greeting, then `rest` (nothing, or part of a line), then closes its
    side. readline() then returns what it has (b'' or b'on', no newline), and a buffer gets b''
    from recv(): each client says the connection dropped, and prints no partial line."""

    def closes_early(conn):
        conn.settimeout(WAIT)
        conn.sendall(LINE_GREETING)
        received = b""
        while b"\n" not in received:  # the client's first line: it is waiting for the echo
            received += conn.recv(4096)
        conn.sendall(rest)
        conn.shutdown(socket.SHUT_WR)  # a FIN, not a reset: the client reads to the end
        with contextlib.suppress(ConnectionError):
            while conn.recv(4096):
                pass

    with Peer(closes_early) as peer:
        outcome, _ = runs(SNIPPETS / f"{name}.py", peer)
    assert outcome == (
        1,
        f"{LINE_GREETING!r}\n",
        "ConnectionError: 127.0.0.1:8080 dropped the connection\n",
    )
    assert peer.errors == []


def test_framed_client_refuses_an_absurd_length(runs):
    def absurd(conn):
        conn.settimeout(WAIT)
        conn.sendall(HEADER.pack(2**32 - 1))
        with contextlib.suppress(ConnectionError):
            while conn.recv(4096):
                pass

    with Peer(absurd) as peer:
        outcome, _ = runs(SNIPPETS / "framed_client.py", peer)
    assert outcome == (1, "", "ValueError: 127.0.0.1:8080 sent a message of 4294967295 bytes\n")


# ---------------------------------------------------------------------------------------------
# framed_server.py


@pytest.fixture
def launch(tmp_path):
    """launch(**kwargs): framed_server.py on a free port (the arguments of
    support.processes.start_server); one that a failing test left running is killed afterwards."""
    started = []

    def start(**kwargs):
        started.append(start_server(tmp_path, script="framed_server.py", **kwargs))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=WAIT)


TRACE_WRAPPER = """
import os, socket

_trace = os.open({path!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
_recv = socket.socket.recv

def recv(self, *args):
    data = _recv(self, *args)
    try:
        port = self.getpeername()[1]
    except (OSError, IndexError, TypeError):
        port = 0
    os.write(_trace, b"%d %d\\n" % (port, len(data)))
    return data

socket.socket.recv = recv

import runpy, sys

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def trace_reads(folder):
    """A wrapper, written in `folder`, that runs framed_server.py with each recv() it makes
    written to a file there: (the wrapper, reads(port): the sizes it read from the client whose
    port is `port`)."""
    trace = folder / "reads.txt"
    trace.touch()
    wrapper = folder / "trace_recv.py"
    wrapper.write_text(TRACE_WRAPPER.format(path=str(trace)))

    def reads(port):
        pairs = (line.split() for line in trace.read_text().splitlines())
        return [int(size) for p, size in pairs if int(p) == port]

    return wrapper, reads


@pytest.fixture
def traced_server(tmp_path, launch):
    """framed_server.py, each recv() it makes written to a file: server.reads(port) lists the
    sizes it read from the client whose port is `port`."""
    wrapper, reads = trace_reads(tmp_path)
    server = launch(wrapper=wrapper)
    server.reads = reads
    return server


def connect(server):
    sock = server.connect(timeout=WAIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert recv_frame(sock) == FRAMED_GREETING
    return sock


MESSAGES = [b"one", b"two\nlines", b"", bytes(range(256))]


@job("framing-server-every-cut", seconds=1.5)
def send_each_frame_cut_at_every_byte():
    """([(message, cut, the frame the server answered)], the sizes it read from this client),
    each frame of MESSAGES sent in two parts, the second once the server has read the first;
    the server then stops cleanly."""
    answers = []
    with tempfile.TemporaryDirectory() as folder:
        wrapper, reads = trace_reads(Path(folder))
        with own_server(script="framed_server.py", wrapper=wrapper) as server:
            with connect(server) as sock:
                port, sent = sock.getsockname()[1], 0
                for message in MESSAGES:
                    data = frame(message)
                    for cut in range(1, len(data)):
                        sock.sendall(data[:cut])
                        drained = sent + cut  # the server has read the first part, and only that
                        wait_for(lambda n=drained: sum(reads(port)) == n)
                        sock.sendall(data[cut:])
                        sent += len(data)
                        answers.append((message, cut, recv_frame(sock)))
                return answers, reads(port)


@needs("framing-server-every-cut")
def test_server_answers_each_frame_cut_at_every_byte(ahead):
    answers, reads = ahead("framing-server-every-cut")
    for message, cut, answer in answers:
        assert answer == message, (message, cut)
    lengths = [len(frame(m)) for m in MESSAGES]
    assert len(answers) == sum(n - 1 for n in lengths)  # a cut after every byte of each frame
    # two reads for every cut frame: up to the cut, then the rest
    assert reads == [part for n in lengths for cut in range(1, n) for part in (cut, n - cut)]


@TIMING
def test_server_takes_several_frames_from_one_segment(traced_server):
    server = traced_server
    messages = [b"%d" % n * n for n in range(40)]  # 40 frames, 1,675 bytes: one read
    with connect(server) as sock:
        sock.sendall(b"".join(frame(m) for m in messages))
        assert [recv_frame(sock) for _ in messages] == messages
        assert server.reads(sock.getsockname()[1]) == [sum(len(frame(m)) for m in messages)]
    server.stop_cleanly()


def log_lines(server):
    return server.log.read_text().splitlines()


@TIMING
def test_server_refuses_an_absurd_length_and_only_that_client(launch):
    server = launch()
    with connect(server) as other, connect(server) as bad:
        bad.sendall(HEADER.pack(2**32 - 1))  # 4 GiB announced, nothing follows
        assert bad.recv(4096) == b""  # refused at once: it did not wait for the 4 GiB
        wait_for(lambda: "client 2 dropped" in server.log.read_text())
        other.sendall(frame(b"unaffected"))
        assert recv_frame(other) == b"unaffected"
    assert "client 2 dropped: a message of 4294967295 bytes, over 65536" in log_lines(server)
    assert [line for line in log_lines(server) if line.startswith("client 2 ")] == [
        "client 2 connected",
        "client 2 dropped: a message of 4294967295 bytes, over 65536",
    ]
    server.stop_cleanly()


@TIMING
@linux_only("memory read from /proc")
def test_server_allocates_nothing_for_an_announced_length(launch):
    """200 clients each announce 65,536 bytes (the limit, so accepted) and send 100: the server
    holds what arrived, not what was announced (that would be 12.5 MiB)."""
    server = launch()
    before = rss_kib(server)
    clients = [connect(server) for _ in range(200)]
    try:
        for sock in clients:
            sock.sendall(HEADER.pack(65536) + b"h" * 100)
        assert_echoes(server)  # it has read what they sent
        growth = rss_kib(server) - before
    finally:
        for sock in clients:
            sock.close()
    assert growth < 4096, f"{growth} KiB for 200 clients"
    server.stop_cleanly()


def rss_kib(server):
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def assert_echoes(server):
    """A new client gets its greeting and the echo of a frame."""
    with connect(server) as sock:
        sock.sendall(frame(b"still there?"))
        assert recv_frame(sock) == b"still there?"


@TIMING
def test_server_takes_the_limit_and_refuses_one_byte_more(launch):
    server = launch()
    with connect(server) as sock:
        sock.sendall(frame(b"z" * 65536))
        assert recv_frame(sock) == b"z" * 65536
        sock.sendall(frame(b"z" * 65537))
        with pytest.raises((EOFError, ConnectionResetError)):  # closed, the body unread
            recv_frame(sock)
    wait_for(lambda: "client 1 dropped" in server.log.read_text())
    assert log_lines(server)[-1] == "client 1 dropped: a message of 65537 bytes, over 65536"
    server.stop_cleanly()


@TIMING
def test_server_reports_a_frame_cut_short_by_the_client(launch):
    server = launch()
    with connect(server) as sock:
        sock.sendall(frame(b"half of this")[:9])
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(4096) == b""
    wait_for(lambda: "client 1 dropped" in server.log.read_text())
    assert log_lines(server)[-1] == "client 1 dropped: it closed in the middle of a message"
    assert_echoes(server)
    server.stop_cleanly()


def flood_frames(sock, total=10_000_000, stall=0.5, limit=5.0):
    """Send well-formed 60,000-byte frames without reading, until the server takes nothing for
    `stall` s: its backpressure."""
    sock.setblocking(False)
    data = memoryview(frame(b"f" * 60_000) * 16)
    sent = 0
    last = started = time.monotonic()
    while sent < total and time.monotonic() - last < stall and time.monotonic() - started < limit:
        try:
            sent += sock.send(data[sent % len(data) :])
            last = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)
    return sent


@TIMING
@linux_only("/proc and 1,000 open descriptors")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_server_stops_within_a_second_with_a_thousand_clients_and_a_flooder(launch, signum):
    server = launch()
    before = rss_kib(server)
    clients = []
    try:
        for _ in range(1000):
            clients.append(server.connect(timeout=10))
        for sock in clients:
            assert recv_frame(sock) == FRAMED_GREETING
        assert (rss_kib(server) - before) / 1000 < 64  # KiB per idle connection
        for number, sock in enumerate(clients):
            sock.sendall(frame(b"%d" % number))
        for number, sock in enumerate(clients):
            assert recv_frame(sock) == b"%d" % number
        clients.append(connect(server))
        clients[-1].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        before = rss_kib(server)
        assert flood_frames(clients[-1]) > 1_000_000  # its echo is stuck in the buffers
        assert rss_kib(server) - before < 2048  # the server stopped reading: backpressure
        stopped = server.stop(signum)
    finally:
        for sock in clients:
            sock.close()
    stopped.assert_clean(server.script)


@TIMING
@posix_only("RLIMIT_NOFILE")
def test_server_out_of_descriptors_one_notice_and_still_serving(launch):
    server = launch(nofile=128)
    clients = []
    try:
        for _ in range(200):  # the ones not accepted wait in the listen backlog
            clients.append(server.connect(timeout=WAIT))
        # The whole line: -u writes the notice and its newline in two writes.
        wait_for(lambda: server.err.read_text().endswith("\n"))
        notice = "accept() failed: [Errno 24] Too many open files\n"
        assert server.err.read_text() == notice
        assert recv_frame(clients[0]) == FRAMED_GREETING  # an accepted client is still served
        clients[0].sendall(frame(b"during EMFILE"))
        assert recv_frame(clients[0]) == b"during EMFILE"
    finally:
        for sock in clients:
            sock.close()
    assert_echoes(server)
    assert_echoes(server)
    # The notice once, however long accept() kept failing.
    server.stop(signal.SIGTERM).assert_clean(server.script, err=notice)


@TIMING
@posix_only("Ctrl-C: SIGINT sent to the server")
def test_server_session_transcript(launch, output_file):
    """The server's terminal shown on the page: framed_client.py, then a client announcing
    4 GiB, then Ctrl-C."""
    server = launch()
    client = run_snippet("framed_client", server.port)
    assert (client.returncode, client.stdout, client.stderr) == (
        0,
        printed_output("framed_client"),
        "",
    )
    wait_for(lambda: "client 1 closed" in server.log.read_text())
    with server.connect() as bad:
        bad.sendall(HEADER.pack(2**32 - 1))
        wait_for(lambda: "client 2 dropped" in server.log.read_text())
    stopped = server.stop(signal.SIGINT)
    stopped.assert_clean(server.script)
    out = stopped.out.replace(
        f"listening on 127.0.0.1:{server.port}\n", "listening on 127.0.0.1:8080\n"
    )
    output_file("framed_server", transcript("python snippets/framed_server.py", out))


# ---------------------------------------------------------------------------------------------
# What the page says about readline() and struct


def test_readline_on_a_non_blocking_socket_returns_what_has_arrived():
    """makefile() wants a blocking socket (or a timeout): on a non-blocking one, readline()
    returns b'' when nothing has arrived, which reads like the end of the connection, and half
    a line when half has (Lib/socket.py, SocketIO.readinto returns None on EAGAIN)."""
    with contextlib.ExitStack() as stack:
        client, peer = connected_pair(stack)
        client.setblocking(False)
        lines = stack.enter_context(client.makefile("rb"))
        assert lines.readline() == b""  # nothing yet, and no end of file either
        peer.sendall(b"hel")
        select.select([client], [], [], WAIT)
        assert lines.readline() == b"hel"  # half a line
        peer.sendall(b"lo\n")
        select.select([client], [], [], WAIT)
        assert lines.readline() == b"lo\n"


def test_a_file_that_timed_out_reads_no_more():
    """In timeout mode, readline() raises TimeoutError; after that its file object refuses to
    read (Lib/socket.py, SocketIO.readinto), even once the line has arrived."""
    with contextlib.ExitStack() as stack:
        client, peer = connected_pair(stack)
        client.settimeout(0.05)
        lines = stack.enter_context(client.makefile("rb"))
        with pytest.raises(TimeoutError):
            lines.readline()
        peer.sendall(b"late\n")
        with pytest.raises(OSError, match="cannot read from timed out object"):
            lines.readline()


def test_the_header_is_four_bytes_in_network_order():
    assert (HEADER.size, HEADER.pack(0), HEADER.pack(1), HEADER.pack(2**32 - 1)) == (
        4,
        b"\x00\x00\x00\x00",
        b"\x00\x00\x00\x01",  # big-endian: the most significant byte first
        b"\xff\xff\xff\xff",
    )
    with pytest.raises(struct.error):
        HEADER.pack(2**32)  # the longest message a 4-byte length can announce is 4 GiB - 1
    with pytest.raises(struct.error):
        HEADER.pack(-1)  # unsigned
