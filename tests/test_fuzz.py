"""Property-based fuzzing of the line protocol: whatever bytes arrive, in whatever pieces,
every server sends back exactly those bytes after its one greeting line, then closes."""

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.catalog import SERVERS
from support.processes import start_server
from support.sockets import read_line, read_to_eof


@pytest.fixture(scope="module", params=SERVERS)
def running(request, tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("fuzz"), script=f"{request.param}.py")
    yield server
    server.stop_cleanly()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run: no flakes, bounded time
    database=None,  # and nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pieces=st.lists(st.binary(min_size=1, max_size=4096), max_size=16))
def test_echo_is_exact_for_any_bytes_in_any_pieces(running, pieces):
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        assert read_line(sock) == running.greeting  # nothing echoed can arrive before it
        for piece in pieces:
            sock.sendall(piece)
        sock.shutdown(socket.SHUT_WR)
        echoed = read_to_eof(sock)
    assert echoed == b"".join(pieces)
    assert running.process.poll() is None
