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
"""

import errno
import signal
import socket
import subprocess
import sys

import pytest

from support.catalog import ECHO_SERVERS, SERVERS
from support.marks import TIMING
from support.paths import SNIPPETS
from support.processes import start_server, wait_for
from support.sockets import flood, read_line

resource = pytest.importorskip("resource")  # POSIX only; there is no RLIMIT on Windows
# Each server must stop within a second (assert_clean_stop): the timing group.
pytestmark = TIMING

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


def assert_clean_stop(server, signum, clients=()):
    try:
        stopped = server.stop(signum)
    finally:
        for sock in clients:
            sock.close()
    stopped.assert_clean(server.script)


@pytest.mark.parametrize("name", SERVERS)
def test_out_of_descriptors_one_notice_and_still_serving(name, launch):
    """RLIMIT_NOFILE 128 and 200 clients: accept() fails with EMFILE, the server says so in one
    line, once, keeps serving the clients it has, and accepts again once descriptors are free."""
    server = launch(name, nofile=128)
    clients = []
    try:
        for _ in range(200):  # the ones not accepted wait in the listen backlog
            clients.append(server.connect())
        wait_for(lambda: server.err.read_text() != "")
        assert server.err.read_text() == EMFILE_NOTICE[name]
        assert read_line(clients[0]) == server.greeting  # an accepted client is still served
        clients[0].sendall(b"during EMFILE\n")
        assert read_line(clients[0]) == b"during EMFILE\n"
    finally:
        for sock in clients:
            sock.close()
    server.assert_serving()  # asyncio waits a second before it calls accept() again
    server.assert_serving()
    # The notice once, however long accept() kept failing.
    server.stop(signal.SIGTERM).assert_clean(server.script, err=EMFILE_NOTICE[name])


@pytest.mark.parametrize("side", ["recv", "send"])
@pytest.mark.parametrize("name", SERVERS)
def test_a_timed_out_connection_ends_only_itself(name, side, launch):
    """TimeoutError (ETIMEDOUT) is an OSError but not a ConnectionError: a server that catches only
    ConnectionError crashes, or prints a traceback, here."""
    server = launch(name, wrapper="etimedout")
    with server.connect() as other, server.connect() as failing:
        assert read_line(other) == server.greeting
        assert read_line(failing) == server.greeting
        failing.sendall(f"{side}:ETIMEDOUT\n".encode())
        assert failing.recv(4096) == b""  # the server closed this connection
        other.sendall(b"unaffected\n")
        assert read_line(other) == b"unaffected\n"
        server.assert_serving()
        assert_clean_stop(server, signal.SIGTERM)


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
    server.assert_serving()
    assert_clean_stop(server, signal.SIGINT)


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


@pytest.mark.parametrize("name", ASYNCIO_SERVERS)
def test_windows_first_ctrl_c_stops_asyncio_servers(name, launch):
    """No loop.add_signal_handler: asyncio.run()'s own SIGINT handler cancels main() on the first
    Ctrl-C (Lib/asyncio/runners.py, Runner._on_sigint); the server still stops within a second,
    with a client connected and another flooding it without reading."""
    server = launch(name, wrapper="no_signal_handlers")
    idle, flooder = server.connect(), server.connect()
    assert read_line(idle) == server.greeting
    assert read_line(flooder) == server.greeting
    assert flood(flooder) > 1_000_000
    assert_clean_stop(server, signal.SIGINT, [idle, flooder])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("name", SERVERS)
def test_macos_listener_shutdown_fails_and_servers_still_stop(name, signum, launch):
    """shutdown() of a listening socket raising ENOTCONN, as on macOS/BSD: no server relies on it,
    so each still stops within a second, with an idle client and a flooding one connected."""
    server = launch(name, wrapper="listener_shutdown_enotconn")
    with socket.socket() as probe:  # the wrapper does what macOS does
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        assert probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    idle, flooder = server.connect(), server.connect()
    assert read_line(idle) == server.greeting
    assert read_line(flooder) == server.greeting
    flood(flooder)
    assert_clean_stop(server, signum, [idle, flooder])


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
