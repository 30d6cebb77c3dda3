"""Each correction on the pages, demonstrated on this machine with plain sockets.

The runs that wait for the server's one-second delay are jobs (support/ahead.py), each against a
companion server of its own with that delay, timed inside as before; the tests check what they
saw.
"""

import errno
import selectors
import socket
import time

from support import marks
from support.ahead import job, needs
from support.marks import TIMING
from support.processes import COMPANION_GREETING, own_server, run_snippet
from support.sockets import raised

# Error names and timings below are Linux's (Windows: 10035 for both, refusals after ~2 s; see
# platforms.md and blocking.md#no-server). The same suite runs elsewhere without these.
linux_only = marks.linux_only("Linux errno names and timings")

GREETING = COMPANION_GREETING


def nonblocking_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    return sock


def wait(sock, events, timeout=5.0):
    with selectors.DefaultSelector() as sel:
        sel.register(sock, events)
        assert sel.select(timeout), "socket never became ready"


@job("corrections-connect-and-recv", seconds=1.3)
def connect_and_recv_before_the_greeting():
    """(what connect() raised, what recv() raised, what recv() got once the socket was
    readable), against a server that greets after a second."""
    if not marks.LINUX:
        return None  # the test is skipped there
    with own_server("--delay", "1.0") as server, nonblocking_socket() as sock:
        connect = raised(lambda: sock.connect(("127.0.0.1", server.port)))
        recv = raised(lambda: sock.recv(1024))
        wait(sock, selectors.EVENT_READ)
        return connect, recv, sock.recv(1024)


@linux_only
@needs("corrections-connect-and-recv")
def test_nonblocking_connect_is_einprogress_and_recv_is_eagain(ahead):
    connect, recv, data = ahead("corrections-connect-and-recv")
    assert isinstance(connect, BlockingIOError), f"connect() did not raise it: {connect!r}"
    assert connect.errno == errno.EINPROGRESS
    assert isinstance(recv, BlockingIOError), f"recv() did not raise it: {recv!r}"
    assert recv.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    assert errno.errorcode[recv.errno] == "EAGAIN"
    # The data was not lost, just not there yet: waiting for readiness gets it.
    assert data == GREETING


@linux_only
def test_no_server_recv_raises_connection_refused_not_blocking_io(closed_port):
    with nonblocking_socket() as sock:
        assert sock.connect_ex(("127.0.0.1", closed_port)) == errno.EINPROGRESS
        wait(sock, selectors.EVENT_WRITE)
        try:
            sock.recv(1024)
        except ConnectionRefusedError as exc:
            assert exc.errno == errno.ECONNREFUSED
            assert not isinstance(exc, BlockingIOError)
        else:
            raise AssertionError("recv() did not raise")
    assert not issubclass(ConnectionRefusedError, BlockingIOError)
    assert issubclass(ConnectionRefusedError, OSError) and issubclass(BlockingIOError, OSError)


def test_empty_recv_means_the_peer_closed(servers):
    with socket.create_connection(("127.0.0.1", servers().port), timeout=5) as sock:
        assert sock.recv(1024) == GREETING
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024) == b""
        assert sock.recv(1024) == b""  # and it stays that way


@job("corrections-recv-after-the-greeting", seconds=2)
def recv_after_the_greeting_came():
    """What a recv() gets 1.5 s after one that failed, from a server that greets after 1 s."""
    with own_server("--delay", "1.0") as server, nonblocking_socket() as sock:
        sock.connect_ex(("127.0.0.1", server.port))
        wait(sock, selectors.EVENT_WRITE)
        try:
            sock.recv(1024)
        except BlockingIOError:
            pass
        time.sleep(1.5)  # greeting has arrived by now; nothing delivered it anywhere
        return sock.recv(1024)


@needs("corrections-recv-after-the-greeting")
def test_nonblocking_is_not_asynchronous(ahead):
    """A failed non-blocking recv() starts nothing: the data waits in the kernel for us."""
    assert ahead("corrections-recv-after-the-greeting") == GREETING


def test_setblocking_false_is_settimeout_zero():
    with socket.socket() as sock:
        assert sock.gettimeout() is None and sock.getblocking()
        sock.setblocking(False)
        assert sock.gettimeout() == 0.0 and not sock.getblocking()


@job("corrections-blocking-client", seconds=1.4)
def blocking_client_with_a_delay():
    """(the post's blocking client's run, the seconds it took) against a 1 s delay."""
    with own_server("--delay", "1.0") as server:
        started = time.monotonic()
        result = run_snippet("blocking_client", server.port)
        return result, time.monotonic() - started


@needs("corrections-blocking-client")
def test_blocking_recv_waits_for_the_delay(ahead):
    result, took = ahead("corrections-blocking-client")
    assert result.stdout == "b'hello from server.py\\n'\n"
    assert 1.0 <= took < 5  # 1 s delay, within 5x on a loaded machine


@TIMING
def test_timeout_bounds_a_blocking_recv(servers):
    with socket.create_connection(("127.0.0.1", servers(1.0).port), timeout=0.2) as sock:
        started = time.monotonic()
        try:
            sock.recv(1024)
        except TimeoutError:
            assert 0.15 <= time.monotonic() - started < 1
        else:
            raise AssertionError("recv() did not time out")


@TIMING
def test_post_nonblocking_client_output_depends_on_timing(servers):
    alone = "연결 시도 중...\n"
    for _ in range(3):  # a greeting that takes a second: never received
        result = run_snippet("nonblocking_client", servers(1.0).port)
        assert (result.returncode, result.stdout, result.stderr) == (0, alone, "")
    for _ in range(20):  # an instant greeting on loopback: a race, either output can happen
        result = run_snippet("nonblocking_client", servers(0.0).port)
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout in (alone, alone + "b'hello from server.py\\n'\n")


@linux_only
def test_timeout_mode_is_non_blocking_underneath():
    """settimeout(t) keeps getblocking() True, but the descriptor itself is O_NONBLOCK."""
    import fcntl
    import os

    with socket.socket() as sock:
        assert not fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
        sock.settimeout(2.5)
        assert sock.getblocking()
        assert fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
        sock.settimeout(None)
        assert not fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK


@TIMING
@linux_only
def test_create_connection_timeout_raises_timeout_error_on_connect():
    """A full accept queue drops new SYNs: connect() then times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        with socket.create_connection(server.getsockname(), timeout=5):
            started = time.monotonic()
            try:
                socket.create_connection(server.getsockname(), timeout=0.2)
            except TimeoutError as exc:
                assert str(exc) == "timed out"
                assert 0.18 <= time.monotonic() - started < 1
            else:
                raise AssertionError("connect() did not time out")
