"""The one catalog of snippets: for every file in snippets/, how the tests run it.

Every test that runs a snippet reads this table; there is no other list. `test_catalog.py` fails
when a `snippets/*.py` has no row here, or a row has no file. Adding a snippet is one file, one
row here, and an include of it on the Korean and the English page (see the README).

Fields of a row:
- kind: "client" (connects to 127.0.0.1:8080), "server" (listens; takes a port), or "demo"
  (needs no server at all).
- delay: for a client, the companion server's --delay it is checked against.
- output: where its expected output is: "#>" (the snippet's own `#>` lines, byte for byte) or
  "measured" (timings: snippets/output/<name>.txt keeps a recorded run, the test checks its shape)
  or "log" (a server: what it prints, "listening on ..." to "server stopped", is checked by the
  server tests, which start it on a free port with start_server()).
- connections: how many connections the client opens to the server; the test checks that exactly
  these reached the fixture's server (so a redirect that fails cannot go unnoticed).
- no_server: what it does when nothing listens: "hint" (exit 1, the one-line REFUSED_HINT),
  "traceback" (the post's originals: ConnectionRefusedError), or (exit code, stdout, stderr).
- post: one of the post's own two snippets, shown as the post wrote it.
- everywhere: its output differs between the servers of this guide only by the greeting line,
  so it also runs against the four echo servers and against another greeting server.
- platforms: where its output (with a server and without) is exactly what the page shows
  (`sys.platform` values); elsewhere the page says how it differs, and its output tests are left
  out there (see .github/workflows/platforms.yml).
"""

import sys
from dataclasses import dataclass

import pytest

ALL = ("linux", "darwin", "win32")

REFUSED_HINT = (
    "ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
    "Start the server first: python snippets/server.py\n"
)


@dataclass(frozen=True)
class Snippet:
    kind: str
    delay: float = 0.0
    output: str = "#>"
    connections: int = 1
    no_server: object = "hint"
    post: bool = False
    everywhere: bool = False
    platforms: tuple = ALL


CLIENT = "client"
SERVER = "server"
DEMO = "demo"

CATALOG = {
    # The post's two snippets. Its non-blocking client must see "no data yet"; a greeting delayed
    # by a second makes that deterministic instead of a race with the server (the page says so).
    "blocking_client": Snippet(CLIENT, post=True, no_server="traceback", everywhere=True),
    "nonblocking_client": Snippet(CLIENT, delay=1.0, post=True, no_server="traceback"),
    # The site's clients.
    "nonblocking_errors": Snippet(
        CLIENT,
        delay=1.0,
        no_server=(
            0,
            "connect: BlockingIOError EINPROGRESS\nrecv: ConnectionRefusedError ECONNREFUSED\n",
            "",
        ),
    ),
    "peer_closed": Snippet(CLIENT, everywhere=True),
    "selectors_client": Snippet(CLIENT, everywhere=True),
    "asyncio_client": Snippet(CLIENT, everywhere=True),
    "timeout_client": Snippet(CLIENT, delay=2.0),
    "nonblocking_connect": Snippet(
        CLIENT,
        everywhere=True,
        no_server=(
            1,
            "connect_ex: EINPROGRESS\nwritable: True\nSO_ERROR: ECONNREFUSED\n",
            "ECONNREFUSED: could not connect to 127.0.0.1:8080. "
            "Start the server first: python snippets/server.py\n",
        ),
    ),
    "nonblocking_recv_loop": Snippet(CLIENT, everywhere=True),
    "partial_send": Snippet(CLIENT),
    "nonblocking_send": Snippet(CLIENT),
    "echo_client": Snippet(CLIENT, everywhere=True),
    "busy_wait": Snippet(CLIENT, delay=1.0, output="measured", connections=2),
    "many_clients": Snippet(CLIENT, delay=0.2, output="measured", connections=40),
    # Needs no server.
    "timeout_modes": Snippet(DEMO, connections=0, no_server=None),
    # The servers: the companion server, then the four echo servers in the order of their pages.
    "server": Snippet(SERVER, output="log", connections=0, no_server=None),
    "echo_threads": Snippet(SERVER, output="log", connections=0, no_server=None),
    "echo_select": Snippet(SERVER, output="log", connections=0, no_server=None),
    "echo_selectors": Snippet(SERVER, output="log", connections=0, no_server=None),
    "echo_asyncio": Snippet(SERVER, output="log", connections=0, no_server=None),
}


def names(kind=None, **fields):
    """Names of the snippets of one kind (or all) whose fields have the given values."""
    return [
        name
        for name, row in CATALOG.items()
        if (kind is None or row.kind == kind)
        and all(getattr(row, key) == value for key, value in fields.items())
    ]


CLIENTS = names(CLIENT)
SERVERS = names(SERVER)
ECHO_SERVERS = [name for name in SERVERS if name.startswith("echo_")]


def params(selected):
    """Names as test parameters; each left out on a platform where its output differs."""
    return [
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                sys.platform not in CATALOG[name].platforms,
                reason=f"{name}.py prints what {'/'.join(CATALOG[name].platforms)} reports",
            ),
        )
        for name in selected
    ]
