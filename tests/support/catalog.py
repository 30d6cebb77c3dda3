"""The one catalog of snippets: for every file in snippets/, how the tests run it.

Every test that runs a snippet reads this table; there is no other list. `test_catalog.py` fails
when a `snippets/*.py` has no row here, or a row has no file. Adding a snippet is one file, one
row here, and an include of it on the Korean and the English page (see the README).

Fields of a row:
- kind: "client" (connects to 127.0.0.1:8080, or 127.0.0.1:8443 for TLS), "server" (listens;
  takes a port), or "demo" (needs no server at all: it makes its own sockets).
- against: for a client, the server snippet its page output comes from ("server": the companion
  server, snippets/server.py; "tls_server": snippets/tls_server.py with a test CA, and so on; see
  the companions fixture in tests/conftest.py).
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
- protocol: for a server, what it speaks: "line" (the greeting line, then an echo of the bytes
  it receives; every test parametrized over SERVERS assumes it) or "length-prefixed" (each
  message is a 4-byte big-endian length, then that many bytes: framed_server.py, whose own tests
  are in tests/test_framing.py) or "tls" (the greeting line and echo inside TLS: tls_server.py,
  whose promises tests/test_tls.py checks over TLS).
- first_step: a server's minimal loop, shown before the full version on its page. It keeps none
  of the promises the tests over SERVERS check (a non-reading client, a reset or Ctrl-C ends it
  with a traceback, as its page says); tests/test_minimal_servers.py proves that it greets and
  echoes, and that it fails exactly so.
- platforms: where its output (with a server and without) is exactly what the page shows
  (`sys.platform` values); elsewhere the page says how it differs, and its output tests are left
  out there (see .github/workflows/platforms.yml).
- env: environment variables the tests run it with, for a stand-in its page names and shows on
  the command line (tests/harness/resolver.py: a slow lookup, or chosen addresses for a name).
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
# The TLS clients (tls.md) talk to 127.0.0.1:8443 and say so; the silent peer stalls their
# handshake (it never answers the ClientHello).
TLS_NO_SERVER = (
    1,
    "",
    "ConnectionRefusedError: nothing listens on 127.0.0.1:8443. Start the server first: "
    "python snippets/tls_server.py --cert server.pem --key server.key\n",
)
TLS_FAILS = {
    "silent": (1, "", "TimeoutError: no answer from 127.0.0.1:8443 within 3 s\n"),
    "reset": (1, "", "ConnectionResetError: 127.0.0.1:8443 dropped the connection\n"),
    "backlog": (1, "", "TimeoutError: no answer from 127.0.0.1:8443 within 3 s\n"),
}
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
    protocol: str = "line"
    first_step: bool = False
    env: dict = field(default_factory=dict)


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
    # readiness.md: level-triggered readiness, the EVENT_WRITE spin, EINTR (socket pairs only).
    "level_triggered": Snippet(DEMO, connections=0, no_server=None, faults=None),
    "write_spin": Snippet(DEMO, output="measured", connections=0, no_server=None, faults=None),
    "eintr_retry": Snippet(
        DEMO,
        connections=0,
        no_server=None,
        faults=None,
        platforms=POSIX,  # signal.pthread_kill and SIGUSR1: Unix only (readiness page)
    ),
    # closing.md: FIN vs RST, EPIPE, orderly close, TIME_WAIT (own loopback sockets). Each shows
    # what Linux does; the page says where other systems differ (SIGPIPE, select.poll, bind()).
    "fin_vs_rst": Snippet(DEMO, connections=0, no_server=None, faults=None, platforms=("linux",)),
    "broken_pipe": Snippet(DEMO, connections=0, no_server=None, faults=None, platforms=("linux",)),
    "orderly_close": Snippet(
        DEMO, connections=0, no_server=None, faults=None, platforms=("linux",)
    ),
    "time_wait": Snippet(DEMO, connections=0, no_server=None, faults=None, platforms=("linux",)),
    # names.md: a stand-in resolver (tests/harness/resolver.py) makes every lookup take 1 s, or
    # gives "localhost" the two addresses a hosts file with "::1 localhost" gives (no real DNS).
    "lookup_blocks": Snippet(
        DEMO,
        output="measured",
        connections=0,
        no_server=None,
        faults=None,
        env={"SNIPPET_LOOKUP_DELAY": "1"},
    ),
    "connect_each_address": Snippet(
        DEMO,
        connections=0,
        no_server=None,
        faults=None,
        platforms=POSIX,  # Windows answers a refused SYN only after about 2 s (blocking page)
        env={"SNIPPET_HOSTS": "localhost=::1,127.0.0.1"},
    ),
    "happy_eyeballs": Snippet(
        DEMO,
        output="measured",
        connections=0,
        no_server=None,
        faults=None,
        platforms=("linux",),  # its silent IPv6 address is a full accept queue (timeouts page)
        env={"SNIPPET_HOSTS": "localhost=::1,127.0.0.1"},
    ),
    # The servers: the companion server, then the four echo servers in the order of their pages.
    "server": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_threads": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "select_minimal": Snippet(
        SERVER, output="log", connections=0, no_server=None, faults=None, first_step=True
    ),
    "echo_select": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "selectors_minimal": Snippet(
        SERVER, output="log", connections=0, no_server=None, faults=None, first_step=True
    ),
    "echo_selectors": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    "echo_asyncio": Snippet(SERVER, output="log", connections=0, no_server=None, faults=None),
    # framing.md: lines from a buffer, and length-prefixed messages (tests/test_framing.py splits
    # every message at every byte and sends several in one segment).
    "line_buffer": Snippet(DEMO, connections=0, no_server=None, faults=None),
    "nonblocking_lines": Snippet(CLIENT, everywhere=True),
    "framed_client": Snippet(
        CLIENT,
        against="framed_server",
        no_server=(
            1,
            "",
            "ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
            "Start the server first: python snippets/framed_server.py\n",
        ),
    ),
    "framed_server": Snippet(
        SERVER,
        output="log",
        connections=0,
        no_server=None,
        faults=None,
        protocol="length-prefixed",  # not the greeting line and echo SERVERS' tests assume
    ),
    # tls.md: TLS clients on 127.0.0.1:8443, checked against tls_server.py with a throwaway CA
    # (SSL_CERT_FILE); tests/test_tls.py adds socat, openssl s_client, a wrong CA, a plain-TCP
    # peer, a stalled handshake, pending() and close_notify.
    "tls_client": Snippet(CLIENT, against="tls_server", no_server=TLS_NO_SERVER, faults=TLS_FAILS),
    "tls_nonblocking_client": Snippet(
        CLIENT, against="tls_server", no_server=TLS_NO_SERVER, faults=TLS_FAILS
    ),
    "tls_asyncio_client": Snippet(
        CLIENT, against="tls_server", no_server=TLS_NO_SERVER, faults=TLS_FAILS
    ),
    "tls_server": Snippet(
        SERVER, output="log", connections=0, no_server=None, faults=None, protocol="tls"
    ),
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
# The servers that keep every promise, in the line protocol: what the server tests run over.
SERVERS = names(SERVER, protocol="line", first_step=False)
FIRST_STEPS = names(SERVER, first_step=True)
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
