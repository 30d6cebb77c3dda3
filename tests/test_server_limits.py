"""The five servers at their limits, and on other platforms' behaviour emulated here.

- out of descriptors (RLIMIT_NOFILE 128, 200 clients): accept() fails with EMFILE; the server
  prints one line, once, and keeps serving;
- one connection failing with TimeoutError (ETIMEDOUT, which is not a ConnectionError) ends that
  connection only;
- echo_select.py past select()'s FD_SETSIZE closes the new connection instead of crashing;
- Windows: no loop.add_signal_handler (the first Ctrl-C must still stop the asyncio servers), and
  select() takes at most 512 sockets per list (CPython's Modules/selectmodule.c);
- macOS/BSD: shutdown() of a listening socket fails with ENOTCONN and wakes no accept().

Each emulation is a small wrapper that patches the one behaviour, then runs the snippet unchanged
as __main__ (runpy), so the snippet's own `if __name__ == "__main__":` block runs as a reader's.

The cases whose time is mostly a wait (a flood that must stall, asyncio's second before it
accepts again) are jobs (support/ahead.py): one job per case runs it against every server side
by side, each measured as the test measured it (a stop from its signal to the server's exit),
and each test checks its own server's run. The tests that still time something themselves are
in the timing group (support.marks.TIMING).
"""

import contextlib
import errno
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.ahead import job, needs
from support.catalog import ECHO_SERVERS, SERVERS
from support.marks import TIMING
from support.paths import SNIPPETS
from support.processes import Stopped, start_server, wait_for
from support.side_by_side import outcome, side_by_side
from support.sockets import flood, read_line

resource = pytest.importorskip("resource")  # POSIX only; there is no RLIMIT on Windows

ASYNCIO_SERVERS = [n for n in SERVERS if "import asyncio" in (SNIPPETS / f"{n}.py").read_text()]
PLAIN_SERVERS = [n for n in SERVERS if n not in ASYNCIO_SERVERS]

# What each server prints, once, when accept() fails for lack of descriptors. The asyncio servers
# print asyncio's own message (Lib/asyncio/selector_events.py, _accept_connection).
EMFILE_NOTICE = {
    **{n: "accept() failed: [Errno 24] Too many open files\n" for n in PLAIN_SERVERS},
    **{
        n: "socket.accept() out of system resource: [Errno 24] Too many open files\n"
        for n in ASYNCIO_SERVERS
    },
}

WRAPPERS = {
    # Windows: asyncio's event loop has no add_signal_handler (Lib/asyncio/events.py raises
    # NotImplementedError; only the Unix loop overrides it).
    "no_signal_handlers": """
import asyncio

def add_signal_handler(self, sig, callback, *args):
    raise NotImplementedError

asyncio.SelectorEventLoop.add_signal_handler = add_signal_handler
""",
    # macOS/BSD: shutdown() of a listening socket fails with ENOTCONN and wakes no accept().
    "listener_shutdown_enotconn": """
import errno, os, socket

real_shutdown = socket.socket.shutdown

def shutdown(self, how):
    if self.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN))
    return real_shutdown(self, how)

socket.socket.shutdown = shutdown
""",
    # Windows: select() takes at most FD_SETSIZE = 512 sockets per list, whatever their numbers
    # (Modules/selectmodule.c), and selectors.DefaultSelector is SelectSelector (Lib/selectors.py).
    "windows_select": """
import functools, select, selectors, signal, socket, sys, time

selectors.DefaultSelector = selectors.SelectSelector
sys.platform = "win32"  # read by echo_select.py's selectable(); every module is imported already
""",
    # A connection that times out (ETIMEDOUT): recv() of b"recv:ETIMEDOUT", or a send of
    # b"send:ETIMEDOUT", raises TimeoutError, as a connection whose peer vanished would.
    "etimedout": """
import errno, os, socket

real = {name: getattr(socket.socket, name) for name in ("recv", "send", "sendall")}

def timed_out():
    return TimeoutError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))

def recv(self, *args):
    data = real["recv"](self, *args)
    if b"recv:ETIMEDOUT" in data:
        raise timed_out()
    return data

def sender(name):
    def send(self, data, *args):
        if b"send:ETIMEDOUT" in bytes(data):
            raise timed_out()
        return real[name](self, data, *args)
    return send

socket.socket.recv = recv
socket.socket.send = sender("send")
socket.socket.sendall = sender("sendall")
""",
}
RUN_AS_MAIN = """
import runpy, sys

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture
def launch(tmp_path):
    """launch(name, wrapper=None, nofile=None): start snippets/<name>.py on a free port, under a
    wrapper or RLIMIT_NOFILE if given; a server the test left running is killed afterwards."""
    started = []
    yield lambda *args, **kwargs: started.append(start(tmp_path, *args, **kwargs)) or started[-1]
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=5)


def start(tmp_path, name, wrapper=None, nofile=None):
    path = None
    if wrapper:
        path = tmp_path / f"{wrapper}.py"
        path.write_text(WRAPPERS[wrapper] + RUN_AS_MAIN)
    return start_server(tmp_path, script=f"{name}.py", wrapper=path, nofile=nofile)


@contextlib.contextmanager
def launched(name, wrapper=None, nofile=None):
    """What `launch` starts, for a job (support/ahead.py): in a folder of its own, removed
    afterwards; a server the run left running is killed."""
    with tempfile.TemporaryDirectory(prefix="limits-") as folder:
        server = start(Path(folder), name, wrapper, nofile)
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=5)


def served(server):
    """What Server.assert_serving checks, for a job: a new client's greeting, then its echo."""
    with server.connect() as sock:
        greeting = read_line(sock)
        sock.sendall(b"still there?\n")
        return greeting, read_line(sock)


def assert_clean_stop(server, signum, clients=()):
    try:
        stopped = server.stop(signum)
    finally:
        for sock in clients:
            sock.close()
    stopped.assert_clean(server.script)


@dataclass
class OutOfDescriptors:
    """What the server printed once it said something, what its first client then got (greeting,
    echo), what two new clients got after the 200 left, and its stop with SIGTERM."""

    script: str
    greeting: bytes
    err: str
    first: tuple
    after: list
    stopped: Stopped


def out_of_descriptors(name):
    with launched(name, nofile=128) as server:
        clients = []
        try:
            for _ in range(200):  # the ones not accepted wait in the listen backlog
                clients.append(server.connect())
            # The whole line: -u writes the notice and its newline in two writes.
            wait_for(lambda: server.err.read_text().endswith("\n"))
            err = server.err.read_text()
            greeting = read_line(clients[0])
            clients[0].sendall(b"during EMFILE\n")
            first = (greeting, read_line(clients[0]))
        finally:
            for sock in clients:
                sock.close()
        after = [served(server), served(server)]  # asyncio waits a second before it accepts again
        stopped = server.stop(signal.SIGTERM)
    return OutOfDescriptors(server.script, server.greeting, err, first, after, stopped)


# The jobs whose claim is the stop within 1 s run their servers one at a time: none of them
# competes with a flood its own job started beside it (the suite keeps the CPUs busy enough).
ONE_AT_A_TIME = threading.BoundedSemaphore(1)


@job("limits-emfile", seconds=4)
def out_of_descriptors_on_each_server():
    return side_by_side(out_of_descriptors, SERVERS, ONE_AT_A_TIME)


@needs("limits-emfile")
@pytest.mark.parametrize("name", SERVERS)
def test_out_of_descriptors_one_notice_and_still_serving(name, ahead):
    """RLIMIT_NOFILE 128 and 200 clients: accept() fails with EMFILE, the server says so in one
    line, once, keeps serving the clients it has, and accepts again once descriptors are free."""
    run = outcome(ahead("limits-emfile"), name)
    assert run.err == EMFILE_NOTICE[name]
    assert run.first[0] == run.greeting  # an accepted client is still served
    assert run.first[1] == b"during EMFILE\n"
    for seen in run.after:
        assert seen == (run.greeting, b"still there?\n")
    # The notice once, however long accept() kept failing.
    run.stopped.assert_clean(run.script, err=EMFILE_NOTICE[name])


@dataclass
class TimedOut:
    """The greetings of two clients, what the failing one read after its ETIMEDOUT, the other's
    echo after that, a new client's (greeting, echo), and the stop with SIGTERM."""

    script: str
    greeting: bytes
    greetings: tuple
    failing: bytes
    other: bytes
    new: tuple
    stopped: Stopped


def timed_out(case):
    name, side = case
    with launched(name, wrapper="etimedout") as server:
        with server.connect() as other, server.connect() as failing:
            greetings = (read_line(other), read_line(failing))
            failing.sendall(f"{side}:ETIMEDOUT\n".encode())
            closed = failing.recv(4096)
            other.sendall(b"unaffected\n")
            echo = read_line(other)
            new = served(server)
            stopped = server.stop(signal.SIGTERM)
    return TimedOut(server.script, server.greeting, greetings, closed, echo, new, stopped)


SIDES = ["recv", "send"]


@job("limits-etimedout", seconds=1.5)
def timed_out_on_each_server():
    return side_by_side(timed_out, [(name, side) for name in SERVERS for side in SIDES])


@needs("limits-etimedout")
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("name", SERVERS)
def test_a_timed_out_connection_ends_only_itself(name, side, ahead):
    """TimeoutError (ETIMEDOUT) is an OSError but not a ConnectionError: a server that catches only
    ConnectionError crashes, or prints a traceback, here."""
    run = outcome(ahead("limits-etimedout"), (name, side))
    assert run.greetings == (run.greeting, run.greeting)
    assert run.failing == b""  # the server closed this connection
    assert run.other == b"unaffected\n"
    assert run.new == (run.greeting, b"still there?\n")
    run.stopped.assert_clean(run.script)


@TIMING
def test_select_refuses_connections_past_fd_setsize(launch):
    """1,100 clients: echo_select.py greets those whose descriptor is below 1024, closes the rest
    at once (the client reads b''), and keeps echoing to the first ones."""
    server = launch("echo_select")
    clients = []
    try:
        for _ in range(1100):
            clients.append(server.connect(timeout=10))
        answers = [sock.recv(len(server.greeting)) for sock in clients]
        greeted = answers.count(server.greeting)
        assert answers == [server.greeting] * greeted + [b""] * (1100 - greeted)
        assert 1000 <= greeted < 1024  # descriptors 0 to 1023, a few taken by the server itself
        for sock in clients[:10] + clients[greeted - 1 : greeted]:
            sock.sendall(b"first\n")
            assert read_line(sock) == b"first\n"
    finally:
        for sock in clients:
            sock.close()
    # The server closes its side of each client as it reads that client's EOF. Until it has
    # closed enough of them, a new client still gets a descriptor past 1023, and b''.
    deadline = time.monotonic() + 10
    while True:
        with server.connect() as sock:
            if sock.recv(1, socket.MSG_PEEK):
                break
        assert time.monotonic() < deadline, "no new client was greeted within 10 s"
        time.sleep(0.05)
    server.assert_serving()
    assert_clean_stop(server, signal.SIGINT)


@TIMING
@pytest.mark.parametrize("name", [n for n in ECHO_SERVERS if n.startswith("echo_select")])
def test_windows_select_takes_512_sockets(name, launch):
    """Emulated Windows select(): 512 sockets per list. The server, the signal socket and 510
    clients fill it; the 511th client is closed at once and the others are still served."""
    server = launch(name, wrapper="windows_select")
    clients = []
    try:
        for _ in range(520):
            clients.append(server.connect())
        answers = [sock.recv(len(server.greeting)) for sock in clients]
        assert answers == [server.greeting] * 510 + [b""] * 10
        for sock in clients[:3] + clients[507:510]:
            sock.sendall(b"still served\n")
            assert read_line(sock) == b"still served\n"
    finally:
        for sock in clients:
            sock.close()
    assert_clean_stop(server, signal.SIGINT)


@dataclass
class Flooded:
    """The greetings of an idle client and of a flooding one, the bytes the flooder sent until
    the server took no more, and the stop, with both still connected."""

    script: str
    greeting: bytes
    greetings: tuple
    sent: int
    stopped: Stopped


def stopped_while_flooded(name, wrapper, signum):
    with launched(name, wrapper=wrapper) as server:
        idle, flooder = server.connect(), server.connect()
        try:
            greetings = (read_line(idle), read_line(flooder))
            sent = flood(flooder)
            stopped = server.stop(signum)
        finally:
            idle.close()
            flooder.close()
    return Flooded(server.script, server.greeting, greetings, sent, stopped)


@job("limits-windows-ctrl-c", seconds=1.0)
def first_ctrl_c_on_each_asyncio_server():
    return side_by_side(
        lambda name: stopped_while_flooded(name, "no_signal_handlers", signal.SIGINT),
        ASYNCIO_SERVERS,
        ONE_AT_A_TIME,
    )


@needs("limits-windows-ctrl-c")
@pytest.mark.parametrize("name", ASYNCIO_SERVERS)
def test_windows_first_ctrl_c_stops_asyncio_servers(name, ahead):
    """No loop.add_signal_handler: asyncio.run()'s own SIGINT handler cancels main() on the first
    Ctrl-C (Lib/asyncio/runners.py, Runner._on_sigint); the server still stops within a second,
    with a client connected and another flooding it without reading."""
    run = outcome(ahead("limits-windows-ctrl-c"), name)
    assert run.greetings == (run.greeting, run.greeting)
    assert run.sent > 1_000_000
    run.stopped.assert_clean(run.script)


SIGNALS = [signal.SIGINT, signal.SIGTERM]


@job("limits-macos-shutdown", seconds=6)
def listener_shutdown_fails_on_each_server():
    return side_by_side(
        lambda case: stopped_while_flooded(case[0], "listener_shutdown_enotconn", case[1]),
        [(name, signum) for name in SERVERS for signum in SIGNALS],
        ONE_AT_A_TIME,
    )


@needs("limits-macos-shutdown")
@pytest.mark.parametrize("signum", SIGNALS)
@pytest.mark.parametrize("name", SERVERS)
def test_macos_listener_shutdown_fails_and_servers_still_stop(name, signum, ahead):
    """shutdown() of a listening socket raising ENOTCONN, as on macOS/BSD: no server relies on it,
    so each still stops within a second, with an idle client and a flooding one connected."""
    with socket.socket() as probe:  # the wrapper does what macOS does
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        assert probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    run = outcome(ahead("limits-macos-shutdown"), (name, signum))
    assert run.greetings == (run.greeting, run.greeting)
    run.stopped.assert_clean(run.script)


def test_the_enotconn_wrapper_is_what_macos_does(tmp_path):
    """The wrapper above must really fail like macOS: shutdown() of a listener raises ENOTCONN."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import socket\n"
        "s = socket.create_server(('127.0.0.1', 0))\n"
        "try:\n"
        "    s.shutdown(socket.SHUT_RDWR)\n"
        "except OSError as exc:\n"
        "    print(exc.errno)\n"
        "s.close()\n"
    )
    wrapper = tmp_path / "wrap.py"
    wrapper.write_text(WRAPPERS["listener_shutdown_enotconn"] + RUN_AS_MAIN)
    result = subprocess.run(
        [sys.executable, "-W", "error", str(wrapper), str(script)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{errno.ENOTCONN}\n", "")
