"""The table of what connect/accept/recv/send do in each mode, produced by running them here.

Each cell sets up the situation in which the call cannot finish at once (nothing to accept, no
data yet, a full send buffer, a full accept queue), then calls it in one of the three modes. In
blocking mode the other side acts after RELEASE seconds, and the cell records that the call
waited. The table is snippets/output/modes.md, shown on the timeouts page.

The twelve cells mostly wait (the other side's RELEASE, the timeouts, a SYN resent a second
later): 4 s in all, so they run as a job (support/ahead.py), each call timed in the job as
before, and the test checks what the job measured.
"""

import errno
import socket
import sys
import threading
import time
from contextlib import ExitStack

import pytest

from support.ahead import job, needs
from support.marks import LINUX
from support.sockets import connected_pair, listener

RELEASE = 0.5  # blocking mode: the other side acts after this long
TIMEOUT = 0.2  # timeout mode: settimeout(TIMEOUT)
MODES = {"blocking": None, "non-blocking": 0.0, "timeout": TIMEOUT}


def later(stack, action):
    timer = threading.Timer(RELEASE, action)
    timer.start()
    stack.callback(timer.join, 5)
    stack.callback(timer.cancel)


def connect_case(stack, timeout):
    server = listener(stack, backlog=0)
    filler = stack.enter_context(socket.create_connection(server.getsockname(), timeout=5))
    assert filler  # the accept queue (backlog 0) now holds one connection: it is full
    sock = stack.enter_context(socket.socket())
    sock.settimeout(timeout)
    if timeout is None:  # make room in the queue; the client's next SYN gets in
        accepted = []
        stack.callback(lambda: [conn.close() for conn in accepted])
        later(stack, lambda: accepted.append(server.accept()[0]))
    return lambda: sock.connect(server.getsockname()), "None"


def accept_case(stack, timeout):
    server = listener(stack)
    server.settimeout(timeout)
    if timeout is None:
        late = stack.enter_context(socket.socket())
        later(stack, lambda: late.connect(server.getsockname()))

    def call():
        conn, _ = server.accept()
        conn.close()

    return call, "(conn, address)"


def recv_case(stack, timeout):
    client, peer = connected_pair(stack)
    client.settimeout(timeout)
    if timeout is None:
        later(stack, lambda: peer.sendall(b"data"))
    return lambda: client.recv(1024), "b'data'"


def send_case(stack, timeout):
    client, peer = connected_pair(stack)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        while True:  # fill the send buffer and the peer's receive buffer
            client.send(b"x" * 4096)
    client.settimeout(timeout)
    if timeout is None:
        done = threading.Event()

        def drain():  # the reader wakes up: read until the cell is over
            peer.settimeout(0.05)
            while not done.is_set():
                try:
                    peer.recv(1 << 16)
                except TimeoutError:
                    pass

        later(stack, drain)
        stack.callback(done.set)  # runs first: the drain ends before its timer is joined
    return lambda: client.send(b"y" * 1024), "int"


CASES = {
    "connect()": connect_case,
    "accept()": accept_case,
    "recv()": recv_case,
    "send()": send_case,
}


def outcome(case, timeout):
    """Run one cell; return its text and the seconds the call took."""
    with ExitStack() as stack:
        call, returns = case(stack, timeout)
        started = time.monotonic()
        try:
            call()
        except OSError as exc:
            took = time.monotonic() - started
            name = type(exc).__name__
            if exc.errno:
                return f"`{name}` (`{errno.errorcode[exc.errno]}`)", took
            return f"`{name}`", took
        took = time.monotonic() - started
        return f":material-timer-sand: → `{returns}`", took


@job("modes-table", seconds=4.5)
def every_cell():
    """{(call, mode): (the cell's text, the seconds the call took)}, the cells one after another,
    as the table has them (on Linux only: the test is skipped elsewhere)."""
    if not LINUX:
        return None
    return {
        (call, mode): outcome(case, timeout)
        for call, case in CASES.items()
        for mode, timeout in MODES.items()
    }


@needs("modes-table")
@pytest.mark.skipif(
    sys.platform != "linux", reason="the table is Linux's (Windows refuses on a full backlog)"
)
def test_modes_table(output_file, ahead):
    measured = ahead("modes-table")
    rows = ["| `sock.…()` | " + " | ".join(f"`settimeout({t})`" for t in MODES.values()) + " |"]
    rows.append("|---|---|---|---|")
    for call in CASES:
        cells = []
        for mode in MODES:
            text, took = measured[call, mode]
            if mode == "blocking":  # waited for the other side
                assert text.startswith(":material-timer-sand:") and RELEASE * 0.8 <= took < 5, (
                    call,
                    text,
                    took,
                )
                if call == "connect()":  # the dropped SYN is resent after Linux's initial RTO, 1 s
                    assert took >= 0.9, took
            elif mode == "non-blocking":  # failed at once
                assert text.startswith("`BlockingIOError`") and took < 0.1, (call, text, took)
            else:  # waited the timeout, then failed
                assert text == "`TimeoutError`" and TIMEOUT * 0.9 <= took < 1, (call, text, took)
            cells.append(text)
        rows.append(f"| `{call}` | " + " | ".join(cells) + " |")
    output_file("modes", "\n".join(rows) + "\n", suffix=".md")
