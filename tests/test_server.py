"""snippets/server.py: greeting, echo, delay, several clients at once, clean stop."""

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from support.marks import TIMING, posix_only
from support.paths import ROOT, SNIPPETS
from support.processes import COMPANION_GREETING, run_snippet, start_server, transcript
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


@TIMING
def test_delay_postpones_the_greeting(servers):
    with servers(1.0).connect() as sock:
        started = time.monotonic()
        assert recv_exactly(sock, len(GREETING)) == GREETING
        assert 0.9 <= time.monotonic() - started < 5  # 1 s, within 5x on a loaded machine


@TIMING
def test_serves_clients_at_once(servers):
    server = servers(1.0)
    started = time.monotonic()
    clients = [server.connect() for _ in range(20)]
    try:
        greetings = [recv_exactly(sock, len(GREETING)) for sock in clients]
    finally:
        for sock in clients:
            sock.close()
    assert greetings == [GREETING] * 20
    assert time.monotonic() - started < 5  # one delay for all 20, not 20 delays


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


@posix_only("the transcript ends with Ctrl-C (SIGINT)")
def test_session_transcript(tmp_path, output_file):
    """The server terminal shown on the server page: one client, then Ctrl-C."""
    server = start_server(tmp_path)
    client = run_snippet("blocking_client", server.port)
    assert client.stdout == "b'hello from server.py\\n'\n"
    time.sleep(0.2)  # let the server log the client's close before Ctrl-C
    stopped = server.stop(signal.SIGINT)
    stopped.assert_clean(server.script)
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
