"""The one catalog of snippets: for every file in snippets/, how the tests run it.

Every test that runs a snippet reads this table; there is no other list. `test_catalog.py` fails
when a `snippets/*.py` has no row here, or a row has no file. Adding a snippet is one file, one
row here, and an include of it on the Korean and the English page (see the README).

Fields of a row:
- kind: "client" (connects to 127.0.0.1:8080, or 127.0.0.1:8443 for TLS), "server" (listens;
  takes a port), or "demo" (needs no server at all: it makes its own sockets).
- against: for a client, the server snippet its page output comes from ("server": the companion
  server, snippets/server.py; "tls_server": snippets/tls_server.py with a test CA, and so on; see
  conftest.companions).
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
- faults: what a client does when the server is silent, resets, or cannot be reached (see
  FAILS below); None where it does not apply.
- platforms: where its output (with a server and without) is exactly what the page shows
  (`sys.platform` values); elsewhere the page says how it differs, and its output tests are left
  out there (see .github/workflows/platforms.yml).
"""

import sys
from dataclasses import dataclass, field

import pytest

ALL = ("linux", "darwin", "win32")
POSIX = ("linux", "darwin")

REFUSED_HINT = (
    "ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
    "Start the server first: python snippets/server.py\n"
)


# What a client prints when the server misbehaves (tests/test_client_faults.py), as
# (exit status, stdout, stderr), against:
# - "silent": a peer that accepts and never sends anything;
# - "reset": a peer that accepts, waits 0.25 s, then resets the connection (SO_LINGER 0);
# - "backlog": a listener whose accept queue is full, so the SYN is dropped and connect() times
#   out, as a refused connect does on Windows, which retries the SYN for about 2 s.
# SUCCEEDS means "its normal output": a client that never waits for the server's data cannot
# tell a silent peer from a good one, and finishes before the reset.
TIMEOUT_LINE = "TimeoutError: no answer from 127.0.0.1:8080 within 3 s\n"
DROPPED_LINE = "ConnectionResetError: 127.0.0.1:8080 dropped the connection\n"
SUCCEEDS = None
FAILS = {
    "silent": (1, "", TIMEOUT_LINE),
    "reset": (1, "", DROPPED_LINE),
    "backlog": (1, "", TIMEOUT_LINE),
}


@dataclass(frozen=True)
class Snippet:
    kind: str
    against: str = "server"
    delay: float = 0.0
    output: str = "#>"
    connections: int = 1
    no_server: object = "hint"
    post: bool = False
    everywhere: bool = False
    platforms: tuple = ALL
    faults: dict = field(default_factory=lambda: FAILS)


CLIENT = "client"
SERVER = "server"
DEMO = "demo"

CATALOG = {
    # The post's two snippets. Its non-blocking client must see "no data yet"; a greeting delayed
    # by a second makes that deterministic instead of a race with the server (the page says so).
    "blocking_client": Snippet(
        CLIENT, post=True, no_server="traceback", everywhere=True, faults=None
    ),
    "nonblocking_client": Snippet(CLIENT, delay=1.0, post=True, no_server="traceback", faults=None),
    # The site's clients.
    "nonblocking_errors": Snippet(
        CLIENT,
        delay=1.0,
        platforms=POSIX,  # Windows reports would-block as EWOULDBLOCK (platforms page)
        # It shows what each call reports and exits 0, whatever happens (its page says so).
        faults=dict.fromkeys(
            ("silent", "reset", "backlog"),
            (0, "connect: BlockingIOError EINPROGRESS\nrecv: BlockingIOError EAGAIN\n", ""),
        ),
        no_server=(
            0,
            "connect: BlockingIOError EINPROGRESS\nrecv: ConnectionRefusedError ECONNREFUSED\n",
            "",
        ),
    ),
    "peer_closed": Snippet(CLIENT, everywhere=True),
    "selectors_client": Snippet(
        CLIENT,
        everywhere=True,
        faults={
            "silent": (1, "", "TimeoutError: no greeting arrived within 3 s\n"),
            "reset": (1, "", DROPPED_LINE),
            "backlog": (1, "", "TimeoutError: connect() did not finish within 3 s\n"),
        },
    ),
    "asyncio_client": Snippet(
        CLIENT,
        everywhere=True,
        platforms=POSIX,  # "blocking: False" is printed where a socket is a file descriptor
        faults={
            "silent": (1, "blocking: False\n", TIMEOUT_LINE),
            "reset": (1, "blocking: False\n", DROPPED_LINE),
            "backlog": (1, "", TIMEOUT_LINE),
        },
    ),
    "timeout_client": Snippet(
        CLIENT,
        delay=2.0,
        platforms=POSIX,  # with no server, Windows retries the SYN past the 0.5 s timeout
        # Its normal output is a TimeoutError on recv(); its "timeout" is the connect timeout.
        faults={
            "silent": SUCCEEDS,
            "reset": (1, "timeout: 0.5\n", DROPPED_LINE),
            "backlog": (1, "", "TimeoutError: no answer from 127.0.0.1:8080 within 0.5 s\n"),
        },
    ),
    "nonblocking_connect": Snippet(
        CLIENT,
        everywhere=True,
        platforms=POSIX,  # Windows reports would-block as EWOULDBLOCK (platforms page)
        faults={
            "silent": SUCCEEDS,
            "reset": SUCCEEDS,
            "backlog": (1, "connect_ex: EINPROGRESS\nwritable: False\n", TIMEOUT_LINE),
        },
        no_server=(
            1,
            "connect_ex: EINPROGRESS\nwritable: True\nSO_ERROR: ECONNREFUSED\n",
            "ECONNREFUSED: could not connect to 127.0.0.1:8080. "
            "Start the server first: python snippets/server.py\n",
        ),
    ),
    "nonblocking_recv_loop": Snippet(CLIENT, everywhere=True),
    "partial_send": Snippet(
        CLIENT,
        faults={"silent": SUCCEEDS, "reset": SUCCEEDS, "backlog": (1, "", TIMEOUT_LINE)},
        platforms=POSIX,  # Windows reports would-block as EWOULDBLOCK (platforms page)
    ),
    "nonblocking_send": Snippet(CLIENT),
    "echo_client": Snippet(CLIENT, everywhere=True),
    "busy_wait": Snippet(CLIENT, delay=1.0, output="measured", connections=2),
    "many_clients": Snippet(CLIENT, delay=0.2, output="measured", connections=40),
    # Needs no server.
    "timeout_modes": Snippet(DEMO, connections=0, no_server=None, faults=None),
    # The servers: the companion server, then the four echo servers in the order of their pages.
    "server": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_threads": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_select": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_selectors": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_asyncio": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
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
