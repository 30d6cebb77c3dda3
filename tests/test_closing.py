"""closing.md: what the page says beyond the `#>` lines of its four demos, each shown here.

The demos (fin_vs_rst, broken_pipe, orderly_close, time_wait) are run and checked byte for byte
by tests/test_snippets.py. This module proves the statements around them: that a Python without
SIG_IGN dies of SIGPIPE, that Python itself ignores SIGPIPE at start-up, what causes the RST in
orderly_close, and that the port in time_wait is held by a TIME_WAIT connection of the side that
closed first. Statements about Windows are not tested here; the page links their sources.
"""

import errno
import os
import select
import signal
import socket
import struct
import subprocess
import sys
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest

from support.marks import linux_only, posix_only
from support.paths import ROOT
from support.processes import wait_for
from support.sockets import connected_pair

TIME_WAIT = 0x06  # the state numbers of /proc/net/tcp (include/net/tcp_states.h)
LINGER_ZERO = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 seconds: close() resets


def tcp_states(port):
    """Linux: {(local port, remote port): state} of the IPv4 TCP sockets using `port`."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(f.split(":")[1], 16) for f in fields[1:3])
        if port in (local, remote):
            found[local, remote] = int(fields[3], 16)
    return found


def bind_error(port, reuse=False):
    """The errno name bind() to 127.0.0.1:`port` fails with, or None if it succeeds."""
    with socket.socket() as sock:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return errno.errorcode[exc.errno]
    return None


# fill() and read_to_end() are the test's own versions of orderly_close.py's, on purpose: the
# tests below check what the kernel does without trusting the snippet's helpers, and report
# every ending by its errno name, not only a reset.
def fill(sock):
    """Send without reading until the buffers of both ends are full; return the bytes sent."""
    sock.setblocking(False)
    sent = 0
    with suppress(BlockingIOError):
        while True:
            sent += sock.send(b"x" * 65536)
    sock.settimeout(5)
    return sent


def read_to_end(sock):
    """(bytes received, how it ended: "EOF" or the errno name)."""
    received = 0
    try:
        while chunk := sock.recv(65536):
            received += len(chunk)
    except OSError as exc:
        return received, errno.errorcode[exc.errno]
    return received, "EOF"


# --- closing.md#fin-and-rst ------------------------------------------------------------------


def test_a_reset_also_discards_what_the_closer_had_not_sent_yet():
    """closing.md#fin-and-rst, table: SO_LINGER (1, 0) then close() resets the connection and
    throws away the data still queued; without it, close() returns at once and the kernel
    delivers everything, then FIN."""
    outcomes = {}
    for linger in (False, True):
        with ExitStack() as stack:
            client, peer = connected_pair(stack)
            sent = fill(peer)
            if linger:
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
            peer.close()
            received, end = read_to_end(client)
            outcomes[linger] = (received == sent, end)
    assert outcomes == {False: (True, "EOF"), True: (False, "ECONNRESET")}


# --- closing.md#broken-pipe ------------------------------------------------------------------


@posix_only("SIGPIPE does not exist on Windows")
def test_without_sig_ign_the_snippet_dies_of_sigpipe():
    """closing.md#why-no-sigpipe: the same program with SIGPIPE back at its default action
    (SIG_DFL) is killed by the signal at its second send(), instead of raising BrokenPipeError."""
    code = (
        "import runpy, signal\n"
        "signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
        "runpy.run_path('snippets/broken_pipe.py', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},  # keep what it printed before it died
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == -signal.SIGPIPE, (result.returncode, result.stderr)
    assert result.stdout == "SIGPIPE -> SIG_DFL\nrecv() -> b''\nsend() -> 5\n"
    assert result.stderr == ""


def ignored_signals(command):
    """The SigIgn mask of /proc/self/status, as `command` (printing that file) reports it."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=True)
    line = next(x for x in result.stdout.splitlines() if x.startswith("SigIgn:"))
    return int(line.split()[1], 16)


@linux_only("reads the ignored-signal mask from /proc/<pid>/status")
def test_python_ignores_sigpipe_at_start_up():
    """closing.md#why-no-sigpipe: the interpreter sets SIGPIPE to SIG_IGN while it starts, at the
    operating-system level. subprocess restores SIGPIPE to SIG_DFL in each child it starts
    (restore_signals=True), so a non-Python child runs with SIGPIPE not ignored, and a Python
    child has ignored it before running a line of the user's code."""
    bit = 1 << (signal.SIGPIPE - 1)
    assert not ignored_signals(["cat", "/proc/self/status"]) & bit
    code = "print(open('/proc/self/status').read())"
    assert ignored_signals([sys.executable, "-I", "-S", "-c", code]) & bit
    printed = subprocess.run(
        [sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGPIPE).name)"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert printed.stdout == "SIG_IGN\n"


@linux_only("poll() and the errors Linux reports after a reset")
def test_poll_reports_the_reset_without_being_asked_and_a_reset_without_fin_is_econnreset():
    """closing.md#broken-pipe, notes 4 and 5: registered with no events, poll() still wakes up
    with POLLERR and POLLHUP when the RST arrives. After a FIN the RST makes send() fail with
    EPIPE; when the peer resets without a FIN first, the first send() fails with ECONNRESET and
    the one after it with EPIPE."""
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        poller = select.poll()
        poller.register(client, 0)
        assert poller.poll(0) == []  # nothing yet: the connection is fine
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        peer.close()
        [(fd, events)] = poller.poll(5000)
        assert fd == client.fileno() and events == select.POLLERR | select.POLLHUP
        errors = []
        for _ in range(2):
            try:
                client.send(b"ping\n")
            except OSError as exc:
                errors.append((type(exc).__name__, errno.errorcode[exc.errno]))
        assert errors == [("ConnectionResetError", "ECONNRESET"), ("BrokenPipeError", "EPIPE")]


def test_the_first_send_after_fin_is_taken_by_the_kernel():
    """closing.md#broken-pipe, note 3: send() only copies into the send buffer. After the peer
    closed, it still reports every byte as sent; the failure comes with a later call."""
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        peer.close()
        assert client.recv(1024) == b""
        assert client.send(b"x" * 1000) == 1000


# --- closing.md#orderly-close ----------------------------------------------------------------


@linux_only("Linux resets on close() with unread data (RFC 2525, 2.17)")
def test_the_reset_comes_from_the_unread_data():
    """closing.md#orderly-close, note 3: the same close() as in the snippet, after the server read
    all the client sent, is an orderly close: the kernel delivers the rest of the data after
    close() has returned, then FIN. Only the unread b"extra\\n" turned it into an RST."""
    # The same shape as the zero-linger test above, on purpose: each compares the two ways of
    # closing that one row of the page's table sets side by side.
    outcomes = {}
    for read_all in (False, True):
        with ExitStack() as stack:
            client, server = connected_pair(stack)
            client.sendall(b"request\nextra\n")
            assert server.recv(8) == b"request\n"
            if read_all:
                assert server.recv(1024) == b"extra\n"
            sent = fill(server)
            server.close()
            received, end = read_to_end(client)
            outcomes[read_all] = (received == sent, end)
    assert outcomes == {False: (False, "ECONNRESET"), True: (True, "EOF")}


@linux_only("Linux's receive queue keeps what arrived before the RST")
def test_data_that_arrived_before_the_reset_can_still_be_read():
    """closing.md#fin-and-rst, under the table: what the RST throws away is what the closing side
    had not sent yet. On Linux a reply that had already reached the client is read first, then
    the error."""
    with ExitStack() as stack:
        client, server = connected_pair(stack)
        client.sendall(b"request\nextra\n")
        assert server.recv(8) == b"request\n"
        server.sendall(b"reply\n")
        server.close()
        poller = select.poll()
        poller.register(client, 0)
        assert poller.poll(5000), "no RST"  # the RST has arrived: POLLERR | POLLHUP
        assert client.recv(1024) == b"reply\n"
        with pytest.raises(ConnectionResetError):
            client.recv(1024)


# --- closing.md#time-wait --------------------------------------------------------------------


def closed_first_by_the_server(stack, reuse=True):
    """A listener (with or without SO_REUSEADDR), one client; the server's end closes first,
    then the client's. Returns (listening port, client's port)."""
    listener = stack.enter_context(socket.socket())
    if reuse:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn, _ = listener.accept()
    client_port = client.getsockname()[1]
    conn.close()
    assert client.recv(1024) == b""
    client.close()
    listener.close()
    return port, client_port


@linux_only("reads /proc/net/tcp")
def test_the_side_that_closed_first_holds_the_port_in_time_wait():
    """closing.md#time-wait, note 2: after the exchange of the snippet, the server's end of the
    connection (local port = the listening port) is in TIME_WAIT; the client's end, which closed
    second, is not. That connection is what makes a plain bind() fail: a port whose listener
    closed without ever accepting anyone binds again at once."""
    with ExitStack() as stack:
        port, client_port = closed_first_by_the_server(stack)

        def server_end_in_time_wait():
            """the server's end reaches TIME_WAIT"""
            return tcp_states(port).get((port, client_port)) == TIME_WAIT

        wait_for(server_end_in_time_wait)
        assert tcp_states(port).get((client_port, port)) in (None, 0x07)  # gone, or CLOSE
        assert bind_error(port) == "EADDRINUSE"
        assert bind_error(port, reuse=True) is None

    with socket.create_server(("127.0.0.1", 0)) as unused:  # a listener that accepted no one
        port = unused.getsockname()[1]
    assert bind_error(port) is None


@linux_only("the TIME_WAIT connection is the kernel's, seen in /proc/net/tcp")
def test_time_wait_outlives_the_program():
    """closing.md#time-wait: a server that closed first and exited leaves the TIME_WAIT behind,
    so the next program cannot bind the port without SO_REUSEADDR."""
    code = (
        "import socket\n"
        "with socket.create_server(('127.0.0.1', 0)) as listener:\n"
        "    port = listener.getsockname()[1]\n"
        "    client = socket.create_connection(('127.0.0.1', port), timeout=5)\n"
        "    conn, _ = listener.accept()\n"
        "    conn.close()\n"
        "    assert client.recv(1) == b''\n"
        "    client.close()\n"
        "print(port)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, check=True
    )
    port = int(result.stdout)
    wait_for(lambda: TIME_WAIT in tcp_states(port).values())
    assert bind_error(port) == "EADDRINUSE"
    assert bind_error(port, reuse=True) is None


@linux_only("socket(7) NOTES: Linux wants SO_REUSEADDR on both sockets")
def test_linux_wants_so_reuseaddr_on_the_old_socket_too():
    """closing.md#time-wait: when the first listener did not set SO_REUSEADDR, its TIME_WAIT
    connection keeps even a new socket with SO_REUSEADDR (and create_server) from binding."""
    with ExitStack() as stack:
        port, _ = closed_first_by_the_server(stack, reuse=False)
        assert bind_error(port) == "EADDRINUSE"
        assert bind_error(port, reuse=True) == "EADDRINUSE"
        with pytest.raises(OSError) as raised:
            socket.create_server(("127.0.0.1", port))
        assert raised.value.errno == errno.EADDRINUSE


@linux_only("reads /proc/net/tcp")
def test_an_abortive_close_leaves_no_time_wait():
    """closing.md#time-wait: the RST of SO_LINGER (1, 0) ends the connection with no TIME_WAIT,
    so the port binds again at once, even without SO_REUSEADDR (and the peer gets ECONNRESET)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    with listener, socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        conn, _ = listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        conn.close()
        with pytest.raises(ConnectionResetError):
            client.recv(1024)
    assert TIME_WAIT not in tcp_states(port).values()
    assert bind_error(port) is None


@posix_only("create_server() sets SO_REUSEADDR only where os.name is 'posix'")
def test_create_server_and_asyncio_set_so_reuseaddr():
    """closing.md#time-wait: socket.create_server() and asyncio's loop.create_server() (its
    reuse_address defaults to True on POSIX) both set SO_REUSEADDR on the listener; a plain
    socket does not."""
    import asyncio

    with socket.socket() as plain:
        assert plain.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 0
    with socket.create_server(("127.0.0.1", 0)) as listener:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0

    async def listener_option():
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "127.0.0.1", 0)
        async with server:
            return server.sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)

    assert asyncio.run(listener_option()) != 0
