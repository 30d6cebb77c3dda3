"""snippets/server.py: greeting, echo, delay, several clients at once, clean stop.

The runs that wait (for the one-second delay, for the server to log a close) are jobs
(support/ahead.py), each with a server of its own, timed inside as before.
"""

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from support.ahead import job, needs
from support.marks import POSIX, TIMING, posix_only
from support.paths import ROOT, SNIPPETS
from support.processes import (
    COMPANION_GREETING,
    INCIDENTAL,
    own_server,
    run_snippet,
    start_server,
    transcript,
)
from support.sockets import recv_exactly

GREETING = COMPANION_GREETING


def test_greets_then_echoes_until_the_client_closes(servers):
    with servers().connect() as sock:
        assert recv_exactly(sock, len(GREETING)) == GREETING
        message = bytes(range(256)) * 64  # 16 KiB, every byte value
        sock.sendall(message)
        assert recv_exactly(sock, len(message)) == message
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""


@job("server-delayed-greeting", seconds=1.2)
def delayed_greeting():
    """(the greeting of a server started with --delay 1, the seconds it took to come)."""
    with own_server("--delay", "1.0") as server, server.connect() as sock:
        started = time.monotonic()
        greeting = recv_exactly(sock, len(GREETING))
        return greeting, time.monotonic() - started


@needs("server-delayed-greeting")
def test_delay_postpones_the_greeting(ahead):
    greeting, took = ahead("server-delayed-greeting")
    assert greeting == GREETING
    assert 0.9 <= took < 5  # 1 s, within 5x on a loaded machine


@job("server-twenty-clients", seconds=1.2)
def twenty_clients():
    """(the greetings of 20 clients of a server with --delay 1, the seconds they took in all)."""
    with own_server("--delay", "1.0") as server:
        started = time.monotonic()
        clients = [server.connect() for _ in range(20)]
        try:
            greetings = [recv_exactly(sock, len(GREETING)) for sock in clients]
        finally:
            for sock in clients:
                sock.close()
        return greetings, time.monotonic() - started


@needs("server-twenty-clients")
def test_serves_clients_at_once(ahead):
    greetings, took = ahead("server-twenty-clients")
    assert greetings == [GREETING] * 20
    assert took < 5  # one delay for all 20, not 20 delays


@TIMING
@posix_only("signals sent to a child process")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_it_cleanly_and_closes_clients(signum, tmp_path):
    server = start_server(tmp_path)
    with server.connect() as sock:
        assert recv_exactly(sock, len(GREETING)) == GREETING
        stopped = server.stop(signum)
        assert sock.recv(1) == b""  # the server closed our connection
    stopped.assert_clean(server.script)
    assert stopped.out.endswith("client 1 closed\nserver stopped\n")


@job("server-session", seconds=0.6)
def session():
    """(the client's run, how the server stopped on Ctrl-C): the session the page shows."""
    if not POSIX:
        return None  # the test is skipped there
    with own_server() as server:
        client = run_snippet("blocking_client", server.port)
        time.sleep(0.2)  # let the server log the client's close before Ctrl-C
        return client, server.stop(signal.SIGINT)


@posix_only("the transcript ends with Ctrl-C (SIGINT)")
@needs("server-session")
def test_session_transcript(output_file, ahead):
    """The server terminal shown on the server page: one client, then Ctrl-C."""
    client, stopped = ahead("server-session")
    assert client.stdout == "b'hello from server.py\\n'\n"
    stopped.assert_clean("server.py", within=INCIDENTAL)  # the transcript is the claim here
    # The test server listened on a free port; a reader's listens on 8080.
    out = re.sub(r"^listening on 127\.0\.0\.1:\d+ ", "listening on 127.0.0.1:8080 ", stopped.out)
    output_file("server", transcript("python snippets/server.py", out))


@posix_only("the page shows the POSIX message, Address already in use")
def test_port_in_use_is_a_one_line_error(output_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-W", "error", str(SNIPPETS / "server.py"), "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"cannot listen on 127.0.0.1:{port}: Address already in use\n"
    output_file(
        "server-port-in-use",
        transcript("python snippets/server.py", "", result.stderr.replace(str(port), "8080")),
    )
