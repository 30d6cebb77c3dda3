"""readiness.md: what its three snippets' own output does not already prove.

Every test names, in its docstring, the anchor of the statement it proves. The Windows section of
the page cites CPython's and Microsoft's sources; the last test checks that the lines it quotes
from CPython are in the Python running these tests.

The signal tests stay in the test: a Python handler runs in the main thread only, where
pthread_kill() sends the signal. eintr_retry.py's traced run, which mostly waits, is a job
(support/ahead.py).
"""

import contextlib
import ctypes
import errno
import inspect
import json
import os
import select
import selectors
import signal
import socket
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from support.ahead import job, needs
from support.marks import POSIX, TIMING, linux_only, posix_only
from support.processes import Stopped, printed_output, run_snippet, start_server
from support.sockets import connected_pair

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
SELECTORS = [
    getattr(selectors, name)
    for name in ("SelectSelector", "PollSelector", "EpollSelector", "KqueueSelector")
    if hasattr(selectors, name)
]


# --- #level-triggered ----------------------------------------------------------------------------


@pytest.mark.parametrize("selector", SELECTORS, ids=lambda cls: cls.__name__)
def test_every_selector_here_is_level_triggered(selector):
    """#level-triggered: every selector class reports a state, not a change. Unread data is
    reported on every call, and so is room in the send buffer; only reading the data, or
    dropping EVENT_WRITE, stops the reports. (DefaultSelector is EpollSelector on Linux.)"""
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        sel = stack.enter_context(selector())
        client.setblocking(False)
        key = sel.register(client, READ | WRITE)
        peer.sendall(b"ping")
        for _ in range(5):
            assert sel.select(timeout=5) == [(key, READ | WRITE)]
        assert client.recv(1024) == b"ping"
        assert sel.select(timeout=0) == [(key, WRITE)]
        key = sel.modify(client, READ)
        assert sel.select(timeout=0) == []


@linux_only("epoll and EPOLLET are Linux's")
def test_edge_triggered_epoll_would_report_unread_data_once():
    """#level-triggered: the other mode exists, and selectors does not use it. Registered with
    EPOLLET, epoll reports the data once; the next wait sees nothing though the data is still
    unread, and only new data is reported again. EpollSelector, on the same socket, reports the
    unread data on every call. (It is DefaultSelector here.)"""
    assert selectors.DefaultSelector is selectors.EpollSelector
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        edge = stack.enter_context(select.epoll())
        edge.register(client.fileno(), select.EPOLLIN | select.EPOLLET)
        level = stack.enter_context(selectors.EpollSelector())
        level.register(client, READ)
        peer.sendall(b"ping")
        assert edge.poll(5) == [(client.fileno(), select.EPOLLIN)]
        assert edge.poll(0) == []
        assert len(level.select(0)) == len(level.select(0)) == 1
        peer.sendall(b"more")
        assert edge.poll(5) == [(client.fileno(), select.EPOLLIN)]
        assert client.recv(1024) == b"pingmore"


def test_a_closed_peer_stays_readable():
    """#level-triggered: after the peer's FIN the socket is readable on every call, and recv()
    returns b'' every time: a loop that does not stop watching the socket after b'' never
    sleeps again."""
    with ExitStack() as stack:
        client, peer = connected_pair(stack)
        sel = stack.enter_context(selectors.DefaultSelector())
        client.setblocking(False)
        key = sel.register(client, READ)
        peer.close()
        for _ in range(3):
            assert sel.select(timeout=5) == [(key, READ)]
            assert client.recv(1024) == b""


# --- #write-spin ---------------------------------------------------------------------------------

# A server that forgets to drop EVENT_WRITE: every modify() keeps it, whatever the buffer holds.
KEEP_EVENT_WRITE = """
import selectors

real_modify = selectors.DefaultSelector.modify

def modify(self, fileobj, events, data=None):
    return real_modify(self, fileobj, events | selectors.EVENT_WRITE, data)

selectors.DefaultSelector.modify = modify
"""
RUN_AS_MAIN = """
import runpy, sys

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def stop_and_reap(server, timeout=5.0):
    """SIGTERM, then reap the server with os.wait4(): (how it stopped, the CPU seconds it used).
    Its own usage, not a difference of RUSAGE_CHILDREN: the jobs (support/ahead.py) reap
    children of this process meanwhile."""
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    while True:
        pid, status, usage = os.wait4(server.process.pid, os.WNOHANG)
        if pid:
            break
        assert time.monotonic() - started < timeout, f"{server.script} did not stop"
        time.sleep(0.01)
    seconds = time.monotonic() - started
    server.process.returncode = code = os.waitstatus_to_exitcode(status)  # Popen's, reaped here
    stopped = Stopped(seconds, code, server.log.read_text(), server.err.read_text())
    return stopped, usage.ru_utime + usage.ru_stime


def cpu_seconds(pid):
    """The CPU time a running process has used so far: utime + stime of /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_while_idle(tmp_path, patch, idle, enough=float("inf")):
    """Start echo_selectors.py under `patch` and hold one idle client after its greeting for
    `idle` seconds, or until the server has used `enough` CPU seconds since the greeting; stop
    it cleanly; return the CPU seconds it used while the client said nothing.

    What it uses, not what share of the CPUs it got: on a loaded machine a spinning server gets
    less CPU per second, but it keeps using whatever it gets, and a sleeping one uses none.
    """
    wrapper = tmp_path / f"wrapper-{len(patch)}.py"
    wrapper.write_text(patch + RUN_AS_MAIN)
    server = start_server(tmp_path, script="echo_selectors.py", wrapper=wrapper)
    try:
        with server.connect() as client:
            assert client.recv(1024) == server.greeting
            before, deadline = cpu_seconds(server.process.pid), time.monotonic() + idle
            while time.monotonic() < deadline:  # the client says nothing meanwhile
                if cpu_seconds(server.process.pid) - before >= enough:
                    break
                time.sleep(0.02)
            used = cpu_seconds(server.process.pid) - before
            stopped, _ = stop_and_reap(server)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=5)
    assert (stopped.code, stopped.err) == (0, "") and stopped.out.endswith("server stopped\n")
    return used


@TIMING
@linux_only("a running process's CPU time from /proc/<pid>/stat")
def test_a_server_that_keeps_event_write_spins(tmp_path):
    """#write-spin: echo_selectors.py as it is, and the same file with EVENT_WRITE kept on every
    modify(), each with one idle client. The guide's server sleeps: in a whole second it uses no
    CPU worth a clock tick or two. The forgetful one burns the CPU it gets while nobody says
    anything: 0.3 s of it, within 10 s even on a machine busy with other work."""
    correct = cpu_while_idle(tmp_path, "", idle=1.0)
    forgetful = cpu_while_idle(tmp_path, KEEP_EVENT_WRITE, idle=10.0, enough=0.3)
    assert correct <= 0.02 and forgetful >= 0.3, (correct, forgetful)


# --- #eintr ---------------------------------------------------------------------------------------
# The signal is SIGUSR1, sent to the main thread by a helper thread (signal.pthread_kill), as in
# eintr_retry.py. SIGALRM and the interval timer are left alone: pytest-timeout uses them.


@pytest.fixture
def sigusr1():
    """SIGUSR1's handler is put back afterwards (and with it the flags siginterrupt() set)."""
    saved = signal.getsignal(signal.SIGUSR1)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, saved)


@contextlib.contextmanager
def sigusr1_to_me(first, every=None, stop_after=5.0):
    """SIGUSR1 to the calling (main) thread `first` s from now, then every `every` s, until the
    block ends (or `stop_after` s have passed)."""
    main, done = threading.get_ident(), threading.Event()
    deadline = time.monotonic() + stop_after

    def run():
        delay = first
        while not done.wait(delay) and time.monotonic() < deadline:
            signal.pthread_kill(main, signal.SIGUSR1)
            if every is None:
                return
            delay = every

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
        assert not thread.is_alive()


@contextlib.contextmanager
def in_background(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(10)
        assert not thread.is_alive()


def raw_recv(sock):
    """libc's recv(), called directly: (return value, errno name), with no retry by Python."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.recv.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    libc.recv.restype = ctypes.c_ssize_t
    buffer = ctypes.create_string_buffer(16)
    ctypes.set_errno(0)
    result = libc.recv(sock.fileno(), buffer, 16, 0)
    return result, errno.errorcode.get(ctypes.get_errno(), "")


@TIMING
@posix_only("signals, pthread_kill and libc's recv()")
@pytest.mark.usefixtures("sigusr1")
def test_the_system_call_underneath_fails_with_eintr():
    """#eintr: without Python's retry, the same signal makes the system call fail. libc's recv()
    on a blocking socket, with a SIGUSR1 every 0.05 s handled by a Python handler, returns -1
    with EINTR: signal.signal() installs its handler without SA_RESTART (PEP 475). After
    signal.siginterrupt(SIGUSR1, False), which sets SA_RESTART, the kernel restarts the call
    instead, and it returns only when data comes (0.5 s later, from a helper)."""
    calls = []
    signal.signal(signal.SIGUSR1, lambda *args: calls.append(1))
    outcomes = []
    for restart in (False, True):
        signal.siginterrupt(signal.SIGUSR1, not restart)
        left, right = socket.socketpair()
        with left, right, in_background(lambda s=left: (time.sleep(0.5), s.sendall(b"x"))):
            with sigusr1_to_me(0.05, every=0.05):
                outcomes.append(raw_recv(right))
            outcomes.append(len(calls))  # the Python handler runs once the C call is over
    assert outcomes[0] == (-1, "EINTR") and outcomes[1] >= 1
    assert outcomes[2] == (1, "") and outcomes[3] > outcomes[1]


@posix_only("SIGUSR1 and pthread_kill")
@pytest.mark.usefixtures("sigusr1")
def test_a_blocking_recv_resumes_after_the_handler():
    """#eintr: the snippet uses timeout mode; a plain blocking recv() (no timeout at all) is
    retried the same way. The data is sent only once the handler has run, so recv() was
    already waiting when the signal came, and it returns that data instead of raising."""
    handled = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *args: handled.set())

    def send_after_the_handler(sock):
        sock.sendall(b"after the handler" if handled.wait(3) else b"no signal came")

    left, right = socket.socketpair()
    with left, right, in_background(send_after_the_handler, left), sigusr1_to_me(0.1):
        assert right.gettimeout() is None
        assert right.recv(1024) == b"after the handler"


@posix_only("SIGUSR1 and pthread_kill")
@pytest.mark.usefixtures("sigusr1")
def test_a_handler_that_raises_ends_recv_and_loses_no_data():
    """#eintr: the handler's exception comes out of recv() (that is Ctrl-C's KeyboardInterrupt),
    and not InterruptedError. Nothing was read, so data that arrives later waits in the buffer
    for the next recv()."""

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    signal.signal(signal.SIGUSR1, stop)
    left, right = socket.socketpair()
    with left, right:
        right.settimeout(3)
        started = time.monotonic()
        with pytest.raises(Stop), sigusr1_to_me(0.1):
            right.recv(1024)
        assert time.monotonic() - started < 2.5  # the signal, not the 3 s timeout
        left.sendall(b"still here")
        assert right.recv(1024) == b"still here"


@TIMING
@posix_only("SIGUSR1 and pthread_kill")
@pytest.mark.usefixtures("sigusr1")
def test_the_timeout_is_recomputed_not_restarted():
    """#eintr: PEP 475, "If the system call involves a timeout parameter, the timeout is
    recomputed". A signal every 0.05 s during recv() with a 0.5 s timeout: TimeoutError after
    about 0.5 s. Were the 0.5 s started again after each signal, it would never expire (the
    signals stop after 3 s, so that mistake would show as a wait of 3.5 s)."""
    calls = []
    signal.signal(signal.SIGUSR1, lambda *args: calls.append(time.monotonic()))
    left, right = socket.socketpair()
    with left, right:
        right.settimeout(0.5)
        started = time.monotonic()
        with pytest.raises(TimeoutError), sigusr1_to_me(0.05, every=0.05, stop_after=3.0):
            right.recv(1024)
        elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 2.5, elapsed
    assert len([t for t in calls if t - started < elapsed]) >= 3, calls


@TIMING
@posix_only("SIGUSR1, pthread_kill and set_wakeup_fd on a socket")
@pytest.mark.usefixtures("sigusr1")
def test_a_signal_does_not_end_select_but_the_wakeup_fd_does():
    """#eintr: selectors' select() is retried too (PEP 475 lists epoll.poll(), poll() and
    select()): with a handler that returns, signals every 0.05 s do not end a 0.5 s wait. That
    is why echo_selectors.py's handler does nothing and the server watches the socket that
    signal.set_wakeup_fd() writes to: that socket becomes readable and ends the wait."""
    signal.signal(signal.SIGUSR1, lambda *args: None)
    with selectors.DefaultSelector() as sel:
        started = time.monotonic()
        with sigusr1_to_me(0.05, every=0.05):
            assert sel.select(timeout=0.5) == []
        assert time.monotonic() - started >= 0.45

        wake_r, wake_w = socket.socketpair()
        with wake_r, wake_w:
            wake_w.setblocking(False)
            key = sel.register(wake_r, READ)
            previous = signal.set_wakeup_fd(wake_w.fileno())
            try:
                started = time.monotonic()
                with sigusr1_to_me(0.1):
                    assert sel.select(timeout=3) == [(key, READ)]
                assert time.monotonic() - started < 2.5
                assert wake_r.recv(16) == bytes([signal.SIGUSR1])
            finally:
                signal.set_wakeup_fd(previous)


def recvs_of(trace):
    return [record for record in json.loads(trace) if record[0] == "recv"]


RUNS = 3  # eintr_retry.py runs at most this many times for one whose recv() was waiting


@job("readiness-eintr-retry", seconds=0.6)
def eintr_retry_traced():
    """[(eintr_retry.py's run, the text of its trace)], one run, or more while a run's first
    recv() was not yet waiting when the signal came: the helper signals 0.2 s after it starts,
    and on a busy machine the main thread may reach recv() only after that. Such a run prints
    the same lines (the handler runs before recv(), which then finds the data) and proves
    nothing either way; a snippet whose recv() is never interrupted fails all RUNS."""
    if not POSIX:
        return None  # the test is skipped there
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(RUNS):
            trace = Path(folder) / f"trace-{attempt}.json"
            result = run_snippet("eintr_retry", 0, trace=trace)
            runs.append((result, trace.read_text() if trace.exists() else None))
            recvs = recvs_of(runs[-1][1]) if runs[-1][1] else []
            if len(recvs) != 1 or recvs[0][2] - recvs[0][1] >= 0.15:
                break
    return runs


@posix_only("the snippet is POSIX only")
@needs("readiness-eintr-retry")
def test_the_snippets_recv_was_waiting_when_the_signal_came(ahead):
    """#eintr: eintr_retry.py, timed. Its first recv() began before the helper's signal (sent
    0.2 s after the helper started) and lasted past it, then returned the data: it was one
    call, interrupted and resumed, not a call made after the handler had run. Its second
    recv() raised KeyboardInterrupt (not an OSError, so the trace has no record of it)."""
    runs = ahead("readiness-eintr-retry")
    expected = (0, printed_output("eintr_retry"), "")
    for result, trace in runs:
        assert (result.returncode, result.stdout, result.stderr) == expected
        recvs = recvs_of(trace)
        assert len(recvs) == 1, recvs
        assert recvs[0][3] == "b'sent after the handler ran'"
    _, began, ended, _ = recvs[0]  # the last run
    assert ended - began >= 0.15, [recvs_of(trace) for _, trace in runs]


# --- #windows ------------------------------------------------------------------------------------


@linux_only("what Linux reports for a refused non-blocking connect")
def test_a_refused_connect_is_writable_not_exceptional_on_linux(closed_port):
    """#windows: Linux reports the failed attempt in the write list, where connect(2) says to
    look, and not in the exception list, where Windows reports it. SelectSelector passes the
    write list as the exception list too on Windows and folds both into EVENT_WRITE, so the
    guide's clients see EVENT_WRITE, then SO_ERROR, on both."""
    with socket.socket() as sock:
        sock.setblocking(False)
        assert sock.connect_ex(("127.0.0.1", closed_port)) == errno.EINPROGRESS
        r, w, x = select.select([], [sock], [sock], 3)
        assert (r, w, x) == ([], [sock], [])
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED


def test_the_quoted_cpython_lines_are_in_this_python():
    """#windows: the page quotes Lib/selectors.py (SelectSelector's Windows _select) and the
    select module's docstring. Both are in the Python these tests run, as quoted."""
    source = inspect.getsource(selectors.SelectSelector)
    assert "if sys.platform == 'win32':" in source
    assert "r, w, x = select.select(r, w, w, timeout)" in source
    assert "return r, w + x, []" in source
    assert "On Windows, only sockets are supported" in select.select.__doc__
    assert sys.version_info >= (3, 11)
