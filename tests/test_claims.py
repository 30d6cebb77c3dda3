"""Corrected statements on the pages, each shown true on this machine.

Every test names, in its docstring, the page and anchor whose statement it proves. Statements
about Windows and macOS are not tested here; the pages link their sources instead.
Timings use generous bounds and ratios: the machine is a loaded 2-CPU box.

A claim whose run mostly waits (a resent SYN, a trickling peer, a timeout) is a job
(support/ahead.py): the job makes the calls and times them as the test did, and hands what each
call returned to the test, which checks it. The tests that patch the process they run in
(socket.getaddrinfo, the default timeout) or measure CPU time stay in the test: in the job
process they would change or share what the other jobs do.
"""

import errno
import os
import selectors
import socket
import sys
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest

from support import marks
from support.ahead import job, needs
from support.marks import TIMING
from support.sockets import connected_pair, listener, raised, read_to_eof

linux_only = marks.linux_only("measures Linux behaviour")


def full_listener(stack):
    """A listener whose accept queue (backlog 0) is full: Linux drops further SYNs."""
    server = listener(stack, backlog=0)
    stack.enter_context(socket.create_connection(server.getsockname(), timeout=5))
    return server


def wait(sock, events, timeout=5.0):
    with selectors.DefaultSelector() as sel:
        sel.register(sock, events)
        return bool(sel.select(timeout))


@contextmanager
def background(target):
    """Run target() in a thread for the duration of the block; re-raise what it raised."""
    failure = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        thread.join(10)
        assert not thread.is_alive(), "background thread did not finish"
    if failure:
        raise failure[0]


# --- more-corrections.md#non-blocking-is-not-asynchronous --------------------------------------


@job("claims-connect-in-the-background", seconds=1.2)
def connect_in_the_background():
    """What each step of the test below returned; about a second, waiting for the resent SYN."""
    if not marks.LINUX:
        return None  # the test is skipped there
    seen = {}
    with ExitStack() as stack:
        server = full_listener(stack)
        sock = stack.enter_context(socket.socket())
        sock.setblocking(False)
        seen["connect_ex"] = sock.connect_ex(server.getsockname())
        seen["again"] = raised(lambda: sock.connect(server.getsockname()))
        seen["pending"] = wait(sock, selectors.EVENT_WRITE, timeout=0.3)
        stack.enter_context(server.accept()[0])  # room in the queue: the resent SYN gets in
        seen["finished"] = wait(sock, selectors.EVENT_WRITE, timeout=10)
        seen["so_error"] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        seen["done"] = sock.connect_ex(server.getsockname())
        seen["then"] = sock.connect_ex(server.getsockname())
    return seen


@linux_only
@needs("claims-connect-in-the-background")
def test_connect_goes_on_in_the_background_ealready_then_eisconn(ahead):
    """more-corrections.md#non-blocking-is-not-asynchronous: a non-blocking connect() that
    returned EINPROGRESS keeps going in the kernel. Calling it again while it is pending gives
    EALREADY (a BlockingIOError); once the kernel has finished the handshake, with no call of
    ours in between, it gives 0 and then EISCONN.

    The listener's full queue keeps the handshake pending (Linux drops the SYN, then resends it
    about a second later); we make room in the queue and only wait for writability.
    """
    seen = ahead("claims-connect-in-the-background")
    assert seen["connect_ex"] == errno.EINPROGRESS
    again = seen["again"]
    assert isinstance(again, BlockingIOError) and again.errno == errno.EALREADY, again
    assert not seen["pending"]  # still pending, not refused
    assert seen["finished"]  # finished without any call of ours
    assert seen["so_error"] == 0
    assert seen["done"] == 0  # Linux: done
    assert seen["then"] == errno.EISCONN


@TIMING
def test_non_blocking_mode_belongs_to_the_socket_not_the_call():
    """more-corrections.md#non-blocking-is-not-asynchronous: non-blocking is a flag on the open
    socket (O_NONBLOCK on the open file description), not a property of one call: a dup()'d
    descriptor shares it. The duplicate's Python object still says getblocking() True, yet its
    recv() fails at once with BlockingIOError, because the flag it reads is the shared one.
    """
    with ExitStack() as stack:
        client, _peer = connected_pair(stack)
        client.settimeout(None)
        twin = stack.enter_context(client.dup())
        assert os.get_blocking(twin.fileno())
        client.setblocking(False)  # set on one descriptor ...
        assert not os.get_blocking(twin.fileno())  # ... seen through the other
        assert twin.getblocking() and twin.gettimeout() is None  # Python's own idea of twin
        started = time.monotonic()
        with pytest.raises(BlockingIOError) as exc:
            twin.recv(1)
        assert exc.value.errno == errno.EAGAIN and time.monotonic() - started < 1


# --- blocking.md#no-server, non-blocking.md#no-server ------------------------------------------


@TIMING
@linux_only
def test_refused_connection_is_reported_at_once_on_linux_loopback(closed_port):
    """blocking.md#no-server and non-blocking.md#no-server: on Linux loopback a connection to a
    port where nothing listens is refused at once (the RST comes straight back). Twenty blocking
    connects take well under a second together; Windows, which resends the SYN after an RST,
    takes about two seconds for one (cited on the pages, not tested here).
    """
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(ConnectionRefusedError) as exc:
            socket.create_connection(("127.0.0.1", closed_port), timeout=5)
        assert exc.value.errno == errno.ECONNREFUSED
    assert time.monotonic() - started < 1.0
    # Non-blocking: the refusal is recorded by the time the socket reports writable.
    with socket.socket() as sock:
        sock.setblocking(False)
        started = time.monotonic()
        assert sock.connect_ex(("127.0.0.1", closed_port)) == errno.EINPROGRESS
        assert wait(sock, selectors.EVENT_WRITE)
        assert time.monotonic() - started < 0.5
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED


# --- timeouts.md ------------------------------------------------------------------------------


@job("claims-full-backlog", seconds=0.6)
def connect_to_a_full_backlog():
    """What each step of the test below returned; half a second of waiting."""
    if not marks.LINUX:
        return None  # the test is skipped there
    with ExitStack() as stack:
        server = full_listener(stack)
        sock = stack.enter_context(socket.socket())
        sock.setblocking(False)
        started = sock.connect_ex(server.getsockname())
        answered = wait(sock, selectors.EVENT_WRITE, timeout=0.3)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        blocking = raised(lambda: socket.create_connection(server.getsockname(), 0.2).close())
    return started, answered, error, blocking


@linux_only
@needs("claims-full-backlog")
def test_full_backlog_drops_the_syn_on_linux_so_connect_waits(ahead):
    """timeouts.md#timeout-error: on Linux a full accept queue drops the SYN; the client is not
    refused, its connect() stays pending and, in timeout mode, ends in TimeoutError.
    """
    started, answered, error, blocking = ahead("claims-full-backlog")
    assert started == errno.EINPROGRESS
    assert not answered  # no RST, no answer
    assert error == 0
    assert isinstance(blocking, TimeoutError), blocking


TRICKLES, INTERVAL, PER_CALL = 20, 0.05, 0.5  # bytes, seconds between them, recv()'s timeout


@job("claims-a-timeout-per-call", seconds=1.1)
def recv_from_a_trickling_peer():
    """(what the recv() loop received, the seconds it took); a TimeoutError fails the job."""
    trickles, interval, timeout = TRICKLES, INTERVAL, PER_CALL
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        client.settimeout(timeout)

        def trickle():
            for _ in range(trickles):
                time.sleep(interval)
                peer.sendall(b"x")
            peer.shutdown(socket.SHUT_WR)

        received = b""
        started = time.monotonic()
        with background(trickle):
            while chunk := client.recv(1024):  # a TimeoutError here would fail the test
                received += chunk
        took = time.monotonic() - started
    return received, took


@needs("claims-a-timeout-per-call")
def test_a_timeout_is_per_call_not_a_deadline(ahead):
    """timeouts.md#per-call: the timeout bounds each call, not the conversation. A peer that
    trickles one byte every 0.05 s keeps a recv() loop with timeout 0.5 going for as long as it
    likes: here 20 bytes over about a second, twice the timeout, and no call timed out.
    """
    received, took = ahead("claims-a-timeout-per-call")
    assert received == b"x" * TRICKLES
    assert took > 1.5 * PER_CALL, took


SENDALL_TIMEOUT = 0.5


@job("claims-sendall-total", seconds=0.7)
def sendall_to_a_slow_reader():
    """(what sendall() raised, the seconds it took, the sizes the reader took meanwhile)."""
    timeout = SENDALL_TIMEOUT
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.settimeout(timeout)
        done = threading.Event()
        reads = []

        def slow_reader():
            peer.settimeout(0.05)
            while not done.is_set():
                time.sleep(0.02)
                try:
                    reads.append(len(peer.recv(16384)))
                except TimeoutError:
                    pass

        with background(slow_reader):
            started = time.monotonic()
            try:
                error = raised(lambda: client.sendall(b"y" * (16 << 20)))
                took = time.monotonic() - started
            finally:
                done.set()
    return error, took, reads


@needs("claims-sendall-total")
def test_sendall_timeout_is_a_total_since_python_3_5(ahead):
    """timeouts.md#per-call: sendall() is the exception. Its timeout is the total time for the
    whole buffer (Python 3.5+). A reader that takes 16 KiB every 0.02 s keeps every single wait
    far below the 0.5 s timeout, and progress is made, yet sendall() of 16 MiB raises
    TimeoutError after about 0.5 s.
    """
    timeout = SENDALL_TIMEOUT
    error, took, reads = ahead("claims-sendall-total")
    assert isinstance(error, TimeoutError), error
    assert timeout * 0.9 <= took < timeout * 5, took
    assert sum(1 for n in reads if n) >= 5, reads  # the peer kept reading: progress was made


@TIMING
@linux_only
def test_create_connection_gives_each_address_the_whole_timeout(monkeypatch):
    """timeouts.md#per-call: create_connection() applies its timeout to each address in turn
    (Lib/socket.py, create_connection: settimeout() on each new socket in the getaddrinfo()
    loop). With two addresses that never answer, timeout=0.3 fails after about 0.6 s.
    """
    with ExitStack() as stack:
        first, second = full_listener(stack), full_listener(stack)
        addresses = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", first.getsockname()),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", second.getsockname()),
        ]
        monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: addresses)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection(("example.invalid", 80), timeout=0.3)
        took = time.monotonic() - started
    assert 0.55 <= took < 3, took  # about 0.6 s, within 5x on a loaded machine


def test_blocking_is_the_default_only_without_setdefaulttimeout():
    """timeouts.md#timeout-mode: a new socket is blocking unless socket.setdefaulttimeout() was
    called; after it, every new socket (and every accepted one) starts in timeout mode.
    """
    assert socket.getdefaulttimeout() is None
    with socket.socket() as plain:
        assert plain.gettimeout() is None and plain.getblocking()
    socket.setdefaulttimeout(3.0)
    try:
        with ExitStack() as stack:
            fresh = stack.enter_context(socket.socket())
            assert fresh.gettimeout() == 3.0
            assert not os.get_blocking(fresh.fileno())  # timeout mode: O_NONBLOCK underneath
            server = listener(stack)
            stack.enter_context(socket.create_connection(server.getsockname()))
            accepted = stack.enter_context(server.accept()[0])
            assert accepted.gettimeout() == 3.0
    finally:
        socket.setdefaulttimeout(None)


@linux_only
def test_mode_of_an_accepted_socket():
    """timeouts.md#accepted-sockets: with no default timeout, a socket from accept() on a
    listener in timeout mode is blocking (Python forces it, Lib/socket.py accept()). From a
    non-blocking listener the mode is OS-dependent (Python docs, "Timeouts and the accept
    method"); on Linux accept() does not pass O_NONBLOCK on, so it comes out blocking too.
    """
    for listener_timeout in (0.0, 2.0):
        with ExitStack() as stack:
            server = listener(stack)
            server.settimeout(listener_timeout)
            stack.enter_context(socket.create_connection(server.getsockname(), timeout=5))
            assert wait(server, selectors.EVENT_READ)
            accepted = stack.enter_context(server.accept()[0])
            assert accepted.gettimeout() is None, listener_timeout
            assert os.get_blocking(accepted.fileno()), listener_timeout


# --- more-corrections.md#empty-recv-means-closed ----------------------------------------------


def test_empty_recv_means_the_peer_stopped_sending_not_that_it_left():
    """more-corrections.md#empty-recv-means-closed: b'' means the peer shut down its sending
    side. A peer that did shutdown(SHUT_WR) still reads: after our recv() returned b'', we send,
    and it receives every byte.
    """
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        peer.shutdown(socket.SHUT_WR)
        assert client.recv(1024) == b""
        client.sendall(b"still talking\n")
        client.shutdown(socket.SHUT_WR)
        assert read_to_eof(peer) == b"still talking\n"


def test_empty_datagram_is_empty_bytes_on_udp():
    """more-corrections.md#empty-recv-means-closed: the b''-means-closed rule is TCP's. On UDP
    there is no connection to close; a zero-length datagram arrives as b'', and the next
    datagram still arrives after it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"", receiver.getsockname())
            sender.sendto(b"after", receiver.getsockname())
            assert receiver.recvfrom(1024)[0] == b""
            assert receiver.recvfrom(1024)[0] == b"after"


# --- busy-waiting.md#polling, glossary.md -----------------------------------------------------


@TIMING
def test_sleep_polling_costs_latency_not_cpu():
    """busy-waiting.md#polling and glossary.md (busy waiting): retrying with a sleep() in
    between is polling, not busy waiting. It burns little CPU, but each message waits for the
    end of the current sleep: up to the sleep interval. Waiting with selectors is woken at once.
    """
    interval, offsets = 0.1, [0.013, 0.071, 0.042, 0.097, 0.028, 0.059, 0.085, 0.006]

    def latencies(receive):
        found = []
        with ExitStack() as stack:
            client, peer = connected_pair(stack)
            client.setblocking(False)
            for offset in offsets:
                sent_at = []

                def send_later(offset=offset, sent_at=sent_at):
                    time.sleep(offset)
                    sent_at.append(time.monotonic())
                    peer.sendall(b"m")

                with background(send_later):
                    cpu, wall = time.thread_time(), time.monotonic()
                    assert receive(client) == b"m"
                    got_at = time.monotonic()
                    cpu, wall = time.thread_time() - cpu, got_at - wall
                found.append((got_at - sent_at[0], cpu, wall))
        return found

    def poll_with_sleep(sock):
        while True:
            try:
                return sock.recv(1)
            except BlockingIOError:
                time.sleep(interval)

    def wait_with_selectors(sock):
        assert wait(sock, selectors.EVENT_READ)
        return sock.recv(1)

    polled = latencies(poll_with_sleep)
    waited = latencies(wait_with_selectors)
    poll_delay = sum(d for d, _, _ in polled) / len(polled)
    wait_delay = sum(d for d, _, _ in waited) / len(waited)
    assert max(d for d, _, _ in polled) < 5 * interval  # about one sleep late at most
    assert poll_delay > 0.02, polled  # messages waited for the sleep to end
    assert poll_delay > 4 * wait_delay, (poll_delay, wait_delay)
    cpu = sum(c for _, c, _ in polled) / sum(w for _, _, w in polled)
    assert cpu < 0.2, cpu  # and the polling thread mostly slept


@pytest.mark.skipif(sys.platform == "win32", reason="Windows' default loop is the proactor")
def test_asyncio_default_loop_here_is_selector_based():
    """more-corrections.md#non-blocking-is-not-asynchronous: on Linux asyncio's default event
    loop is a SelectorEventLoop (readiness notification through selectors), and the sockets it
    connects are non-blocking at the operating-system level. (Windows' default, the IOCP
    ProactorEventLoop, is cited on the page.)
    """
    import asyncio

    async def connect(address):
        reader, writer = await asyncio.open_connection(*address)
        try:
            assert isinstance(asyncio.get_running_loop(), asyncio.SelectorEventLoop)
            return os.get_blocking(writer.get_extra_info("socket").fileno())
        finally:
            writer.close()
            await writer.wait_closed()

    with ExitStack() as stack:
        server = listener(stack)
        blocking = asyncio.run(connect(server.getsockname()))
        stack.enter_context(server.accept()[0])
    assert blocking is False
