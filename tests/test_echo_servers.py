"""The four echo servers: every client works against each, they hold many clients, they stop.

Each server's clients run one after another in a job (support/ahead.py), with a server of its
own, which then stops cleanly (within a second); each test checks one client's run.
"""

import functools
import os
import re
import select
import signal
import socket

import pytest

from support.ahead import job, needs
from support.catalog import CATALOG, ECHO_SERVERS, SERVERS, names
from support.marks import TIMING, posix_only
from support.processes import own_server, printed_output, run_snippet, start_server
from support.sockets import Peer, forward_to, read_line

# Clients whose output differs between servers only by the greeting line.
CLIENTS = names(everywhere=True)


def every_client_against(name):
    """{client: (the connections that reached the server, the client's run)}, every client of
    CLIENTS against one server `name`, through a forwarding Peer."""
    runs = {}
    with own_server(script=f"{name}.py") as server:
        for client in CLIENTS:
            with Peer(forward_to(server.port)) as proxy:
                result = run_snippet(client, proxy.port)
            runs[client] = proxy.accepted, result
    return runs


for _name in ECHO_SERVERS:
    job(f"echo-clients-{_name}", seconds=2)(functools.partial(every_client_against, _name))


def greeting(name):
    return f"hello from {name}.py\\n"


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=needs(f"echo-clients-{name}")) for name in ECHO_SERVERS]
)
def test_every_client_works_against_every_server(name, client, ahead):
    accepted, result = ahead(f"echo-clients-{name}")[client]
    assert accepted == CATALOG[client].connections  # they reached this server
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == printed_output(client).replace(
        r"hello from server.py\n", greeting(name)
    )


@TIMING  # the stop is timed here: within a second
@posix_only("signals sent to a child process")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("name", ECHO_SERVERS)
def test_stops_cleanly_with_a_client_connected(name, signum, tmp_path):
    server = start_server(tmp_path, script=f"{name}.py")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        assert read_line(sock) == server.greeting
        stopped = server.stop(signum)
    stopped.assert_clean(server.script)


@posix_only("Windows' select() limits the number of sockets, not descriptor numbers")
def test_select_cannot_watch_descriptors_past_fd_setsize():
    """Why echo_select.py has a ceiling: select() takes descriptors below FD_SETSIZE (1024)."""
    with socket.socket() as sock:
        high = os.dup2(sock.fileno(), 1500)
        try:
            with pytest.raises(ValueError, match="filedescriptor out of range in select()"):
                select.select([high], [], [], 0)
        finally:
            os.close(high)


def test_bench_figures_are_recorded(request):
    """The figures on the page come from `nox -s bench` (snippets/output/bench.json); both
    languages show the same figures, each with its own words (`--update-examples` writes the
    tables from the stored figures)."""
    import json

    from support import bench

    if request.config.getoption("update_examples"):
        bench.render()
    figures = json.loads(bench.FIGURES.read_text(encoding="utf-8"))
    held = {row["server"]: row["held"] for row in figures["servers"]}
    assert list(held) == [f"{name}.py" for name in SERVERS]
    assert held["echo_selectors.py"] == held["echo_asyncio.py"] == figures["held"] == 1000
    assert set(figures["machine"]) == {"cpu", "cpus", "system", "release", "python", "date"}
    assert re.fullmatch(r"3\.\d+\.\d+", figures["machine"]["python"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", figures["machine"]["date"])
    for lang in ("ko", "en"):
        assert bench.shown(lang) == bench.table(figures, lang), lang
    korean = bench.shown("ko")
    assert "측정 환경:" in korean and "Measured" not in korean and "ms" not in korean
