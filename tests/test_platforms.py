"""The errno table on the platform page (platforms.md#errno-table).

The Linux column comes from calls made here: each row's error is provoked on loopback and the
test asserts that the call really raised that errno (and which exception class). The macOS and
Windows columns are stated with their sources, linked from the page:

- macOS: XNU bsd/sys/errno.h (Apple's kernel headers).
- Windows: what CPython's errno module holds there (Modules/errnomodule.c: for names the C
  runtime lacks or that winsock2.h prefers, the WSA* value; errno.EAGAIN and errno.EPIPE come
  from the C runtime's errno.h and Winsock never reports them), and Microsoft's "Windows
  Sockets Error Codes" for the WSA numbers. Objects/exceptions.c maps the WSA values to the
  same exception classes as on Linux (WSAEWOULDBLOCK -> BlockingIOError, WSAESHUTDOWN ->
  BrokenPipeError, ...).

The calls run as a job (support/ahead.py): most of their second is the kernel giving up on the
unanswered SYNs of a pending connect().
"""

import errno
import selectors
import socket
import sys
from contextlib import ExitStack

import pytest

from support.ahead import job, needs
from support.marks import LINUX

# name: (macOS, Windows). The table is shared by both languages, so it holds numbers and names
# only; the superscripts are explained in each language under the table on the page:
# ¹ errno.EAGAIN / errno.EPIPE there come from the C runtime and Winsock never reports them,
# ² a non-blocking connect() reports 10035 WSAEWOULDBLOCK, not this value,
# ³ Winsock reports a send after shutdown as 10058 WSAESHUTDOWN (BrokenPipeError too).
OTHER = {
    "EAGAIN": ("35", "11 ¹"),
    "EWOULDBLOCK": ("35", "10035 `WSAEWOULDBLOCK`"),
    "EINPROGRESS": ("36", "10036 `WSAEINPROGRESS` ²"),
    "EALREADY": ("37", "10037 `WSAEALREADY`"),
    "EISCONN": ("56", "10056 `WSAEISCONN`"),
    "ECONNREFUSED": ("61", "10061 `WSAECONNREFUSED`"),
    "ECONNRESET": ("54", "10054 `WSAECONNRESET`"),
    "EPIPE": ("32", "32 ¹ ³"),
    "ENOTCONN": ("57", "10057 `WSAENOTCONN`"),
    "ETIMEDOUT": ("60", "10060 `WSAETIMEDOUT`"),
}


def raised(call):
    """The OSError that call() raised; fail if it raised none."""
    try:
        call()
    except OSError as exc:
        return exc
    raise AssertionError(f"{call} did not raise")


def observed(closed_port):
    """errno name -> (the OSError a real call raised here, the call that raised it)."""
    seen = {}
    with ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("127.0.0.1", 0))
        server.listen()
        sock = stack.enter_context(socket.socket())
        sock.setblocking(False)
        exc = raised(lambda: sock.connect(server.getsockname()))
        seen["EINPROGRESS"] = exc, "non-blocking `connect()`"
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_WRITE)
            assert sel.select(5)
        exc = raised(lambda: sock.recv(1))
        seen["EAGAIN"] = seen["EWOULDBLOCK"] = exc, "non-blocking `recv()`, no data yet"
        assert sock.connect_ex(server.getsockname()) == 0  # the pending connect has finished
        seen["EISCONN"] = raised(lambda: sock.connect(server.getsockname())), "`connect()` again"
        peer = stack.enter_context(server.accept()[0])

        # ECONNRESET: the peer closes with SO_LINGER 0, which sends RST instead of FIN.
        sock.setblocking(True)
        sock.settimeout(5)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        peer.close()
        seen["ECONNRESET"] = raised(lambda: sock.recv(1)), "`recv()` after the peer's RST"

        # EPIPE: send after our own shutdown(SHUT_WR) (Python ignores SIGPIPE).
        client = stack.enter_context(socket.create_connection(server.getsockname(), timeout=5))
        stack.enter_context(server.accept()[0])
        client.shutdown(socket.SHUT_WR)
        seen["EPIPE"] = raised(lambda: client.send(b"x")), "`send()` after `shutdown(SHUT_WR)`"

        unconnected = stack.enter_context(socket.socket())
        seen["ENOTCONN"] = raised(unconnected.getpeername), "`getpeername()` before `connect()`"

        # EALREADY and ETIMEDOUT: a connect() the kernel keeps pending. A full accept queue
        # (backlog 0) drops the SYN; TCP_USER_TIMEOUT makes the kernel give up after 0.2 s of
        # unanswered SYNs (at its next retransmission, about a second in).
        full = stack.enter_context(socket.socket())
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        stack.enter_context(socket.create_connection(full.getsockname(), timeout=5))
        pending = stack.enter_context(socket.socket())
        pending.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 200)
        pending.setblocking(False)
        assert pending.connect_ex(full.getsockname()) == errno.EINPROGRESS
        exc = raised(lambda: pending.connect(full.getsockname()))
        seen["EALREADY"] = exc, "`connect()` again while the first is pending"
        with selectors.DefaultSelector() as sel:  # writable once the kernel gives up
            sel.register(pending, selectors.EVENT_WRITE)
            assert sel.select(10)
        exc = raised(lambda: pending.connect(full.getsockname()))
        seen["ETIMEDOUT"] = exc, "`connect()` whose SYNs go unanswered (`TCP_USER_TIMEOUT`)"

    exc = raised(lambda: socket.create_connection(("127.0.0.1", closed_port), timeout=5))
    seen["ECONNREFUSED"] = exc, "`connect()` to a port where nothing listens"
    return seen


@job("platforms-errno-table", seconds=1.2)
def observed_here():
    """observed() with a port of its own where nothing listens (bound, never listening)."""
    if not LINUX:
        return None  # the test is skipped there
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        return observed(holder.getsockname()[1])


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux column is measured on Linux")
@needs("platforms-errno-table")
def test_errno_table(output_file, ahead):
    """platforms.md#errno-table: every Linux value is an errno a real call raised here."""
    seen = ahead("platforms-errno-table")
    assert set(seen) == set(OTHER)
    rows = ["| errno | Python | Linux | macOS | Windows |", "|---|---|---|---|---|"]
    for name, (macos, windows) in OTHER.items():
        exc, how = seen[name]
        assert exc.errno == getattr(errno, name), (name, how, exc)  # the call really failed so
        rows.append(f"| `{name}` | `{type(exc).__name__}` | {exc.errno} | {macos} | {windows} |")
    output_file("errno", "\n".join(rows) + "\n", suffix=".md")


def test_exception_classes_follow_the_errno():
    """platforms.md#takeaways: Python picks the OSError subclass from the number."""
    expected = {
        "EAGAIN": BlockingIOError,
        "EWOULDBLOCK": BlockingIOError,
        "EINPROGRESS": BlockingIOError,
        "EALREADY": BlockingIOError,
        "EISCONN": OSError,
        "ECONNREFUSED": ConnectionRefusedError,
        "ECONNRESET": ConnectionResetError,
        "EPIPE": BrokenPipeError,
        "ENOTCONN": OSError,
        "ETIMEDOUT": TimeoutError,
    }
    for name, cls in expected.items():
        assert type(OSError(getattr(errno, name), name)) is cls, name
