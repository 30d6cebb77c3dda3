"""TLS over non-blocking sockets (docs/*/tls.md): the TLS clients, tls_server.py, and the claims.

The clients' `#>` output, their no-server line and their silent/reset/backlog faults are checked
from the catalog (test_snippets.py, test_client_faults.py) against tls_server.py with a throwaway
CA (conftest.tls); here:
- foreign peers: the clients print the greeting and echoes of socat's TLS listener, and
  tls_server.py serves `openssl s_client`, both run exactly as the page shows them;
- what a client says for a wrong CA, a plain-TCP peer, a handshake that stalls halfway, and a
  peer that goes quiet after the handshake (one line, exit 1, within 5 s);
- pending(): the rest of a record that recv() did not take is invisible to select(); the
  non-blocking client reads a line longer than its recv() size, and the same client without its
  pending() check waits for nothing and fails;
- SSLWantReadError/SSLWantWriteError: not BlockingIOError; readable, yet recv() wants more; send()
  takes all of its bytes or raises, and the retry must pass the same bytes; every want branch of
  the non-blocking client runs;
- tls_server.py, which speaks TLS, so the tests parametrized over catalog.SERVERS (plain TCP)
  leave it out (its row says protocol="tls"): its promises are proven here over TLS instead
  (bad clients one line each and no harm to others, a stop within a second of SIGINT/SIGTERM
  with many TLS clients, a flooder and a stalled handshake, one notice when out of descriptors,
  a one-line error for a bad --cert/--key);
- SSL_CERT_FILE is the CA file create_default_context() loads (ssl.get_default_verify_paths()),
  while the CA folder (capath) is still searched, and trustme's command line makes the files
  the page names;
- close_notify: each client sends one before it closes, and the socket clients would not without
  their unwrap(); the asyncio client waits for the server's 3 s at most (ssl_shutdown_timeout),
  and its abort() saves that wait on failure; wait_closed() waits forever only after a cancelled
  start_tls(), which is why tls_server.py calls it only after a handshake that succeeded.

The runs that mostly wait (a client's 3 s timeout, a closing handshake waited out, a stalled
handshake, asyncio's second before it accepts again) are jobs (support/ahead.py): they start as
the session starts, each with its own CA (own_files) and peers, and the tests check their
results; each client is still timed in the job, from its start to its exit.
"""

import asyncio
import contextlib
import functools
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from support.ahead import job, needs
from support.catalog import names
from support.marks import TIMING, linux_only, posix_only
from support.pages import includes
from support.paths import DOCS, LANGS, ROOT, SNIPPETS
from support.processes import (
    printed_output,
    run_snippet,
    snippet_command,
    start_server,
    transcript,
    wait_for,
)
from support.sockets import Peer, forward_to, read_line, read_to_eof, write_tls_files

TLS_CLIENTS = names(against="tls_server")
GREETING = b"hello from tls_server.py\n"
WAIT = 5.0  # seconds: the longest any step here waits for the other side
WITHIN = 5.0  # seconds: a client's whole run when its peer misbehaves
TIMEOUT_LINE = "TimeoutError: no answer from 127.0.0.1:8443 within 3 s\n"
EMFILE_NOTICE = "socket.accept() out of system resource: [Errno 24] Too many open files"

# The commands the page shows, with the file names trustme's command line writes.
SOCAT = [
    "socat",
    "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={cert},key={key},verify=0",
    "SYSTEM:echo hello from socat; cat",
]
S_CLIENT = [
    "openssl",
    "s_client",
    "-connect",
    "127.0.0.1:{port}",
    "-CAfile",
    "{ca}",
    "-verify_ip",
    "127.0.0.1",
    "-verify_return_error",
    "-verify_quiet",
    "-noservername",
    "-quiet",
    "-no_ign_eof",
]
AS_A_READER = {"port": 8443, "cert": "server.pem", "key": "server.key", "ca": "client.pem"}


def command(template, **values):
    return [part.format(**values) for part in template]


def page_command(template):
    return shlex.join(command(template, **AS_A_READER))


def new_server_context(tls):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["cert"], tls["key"])
    return context


def new_client_context(tls):
    return ssl.create_default_context(cafile=str(tls["ca"]))


def new_other_ca(folder):
    """A CA that did not sign the server's certificate: the path of its PEM file."""
    path = Path(folder) / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def server_context(tls):
    return new_server_context(tls)


@pytest.fixture(scope="module")
def client_context(tls):
    return new_client_context(tls)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return new_other_ca(tmp_path_factory.mktemp("other-ca"))


def start_tls_server(folder, tls, **kwargs):
    args = ["--cert", str(tls["cert"]), "--key", str(tls["key"])]
    return start_server(folder, *args, script="tls_server.py", **kwargs)


@contextlib.contextmanager
def own_files():
    """(folder, tls) for a job (support/ahead.py): a temporary folder, removed afterwards, and a
    CA of its own with a certificate it signed for 127.0.0.1, made as conftest.tls makes them (a
    job runs in whichever process claims it: the session's fixtures belong to one process)."""
    with tempfile.TemporaryDirectory(prefix="tls-job-") as folder:
        yield Path(folder), write_tls_files(folder)


@contextlib.contextmanager
def killed_on_failure(server):
    """A job's own tls_server.py: one a failing job leaves running is killed (as `launch` does)."""
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=WAIT)


@pytest.fixture
def launch(tmp_path, tls):
    """launch(**kwargs) -> a new tls_server.py; one a failing test left running is killed."""
    started = []
    yield lambda **kwargs: started.append(start_tls_server(tmp_path, tls, **kwargs)) or started[-1]
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=WAIT)


def tls_connect(port, context, timeout=WAIT):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname="127.0.0.1")
    except BaseException:
        raw.close()
        raise


def run_client(name, port, ca, **kwargs):
    """Run a TLS client snippet unchanged, trusting `ca` (SSL_CERT_FILE); (seconds, result)."""
    started = time.monotonic()
    result = run_snippet(name, port, env={"SSL_CERT_FILE": str(ca)}, **kwargs)
    return time.monotonic() - started, result


def tls_peer(context, serve):
    """A Peer that completes the TLS handshake as a server, then runs serve(tls_socket)."""

    def handle(conn):
        conn.settimeout(WAIT)
        with context.wrap_socket(conn, server_side=True) as sock:
            serve(sock)

    return Peer(handle)


def greet_and_echo(greeting):
    def serve(sock):
        sock.sendall(greeting)  # one sendall, one TLS record (up to 16 KiB)
        while data := sock.recv(4096):
            sock.sendall(data)

    return serve


# --- Foreign peers: socat's TLS listener, openssl s_client -------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def socat(tls):
    """socat's TLS listener, greeting and echoing, on a free port (socat takes no port 0: pick
    one, and pick again if another program took it first)."""
    assert shutil.which("socat"), "socat is not installed (.ci/run installs it)"
    for _ in range(5):
        port = free_port()
        args = command(SOCAT, port=port, cert=tls["cert"], key=tls["key"])
        process = subprocess.Popen(
            [args[0], "-d", "-d", *args[1:]],  # -d -d: it says when it listens
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        said = ""
        deadline = time.monotonic() + WAIT
        while "listening on" not in said and process.poll() is None:
            assert time.monotonic() < deadline, f"socat did not listen: {said}"
            if select.select([process.stderr], [], [], 0.1)[0]:
                said += process.stderr.readline()
        if "listening on" in said:
            break
        process.wait(timeout=WAIT)
        process.stderr.close()
        assert "Address already in use" in said, said
    yield port
    os.killpg(process.pid, signal.SIGTERM)  # the listener and any child it forked
    process.wait(timeout=WAIT)
    process.stderr.close()


@pytest.mark.parametrize("name", TLS_CLIENTS)
def test_clients_print_the_greeting_and_echoes_of_socat(name, socat, tls, output_file):
    _, result = run_client(name, socat, tls["ca"])
    assert (result.returncode, result.stderr) == (0, "")
    expected = printed_output(name).replace("hello from tls_server.py", "hello from socat")
    assert result.stdout == expected
    if name == "tls_nonblocking_client":
        command_line = f"SSL_CERT_FILE=client.pem python snippets/{name}.py"
        output_file("tls-socat", transcript(command_line, result.stdout))


def read_available(stream, until, timeout=WAIT):
    """Read a pipe until `until` is in what was read (select: no read blocks the test)."""
    data = b""
    deadline = time.monotonic() + timeout
    while until not in data:
        assert time.monotonic() < deadline, f"only {data!r} within {timeout} s"
        if select.select([stream], [], [], 0.1)[0]:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"closed after {data!r}"
            data += chunk
    return data


@posix_only("select() on pipes")
def test_tls_server_serves_openssl_s_client(launch, tls, output_file):
    """The page's s_client session, typed as a reader would: the greeting, a line and its echo,
    then Ctrl-D (end of input) ends it; the server logs the client and prints no error."""
    assert shutil.which("openssl"), "openssl is not installed (.ci/run installs it)"
    server = launch()
    client = subprocess.Popen(
        command(S_CLIENT, port=server.port, ca=tls["ca"]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        greeting = read_available(client.stdout, b"\n")
        client.stdin.write(b"one\n")
        client.stdin.flush()
        echo = read_available(client.stdout, b"\n")
        client.stdin.close()  # Ctrl-D
        client.wait(timeout=WAIT)
        rest, err = client.stdout.read(), client.stderr.read()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(timeout=WAIT)
        client.stdout.close()
        client.stderr.close()
    assert (client.returncode, greeting, echo, rest) == (0, GREETING, b"one\n", b"")
    assert err == b"DONE\n"  # s_client's own last word; -verify_quiet, -noservername: no other
    wait_for(lambda: "client 1 closed" in server.log.read_text())
    server.stop_cleanly()
    terminal = (greeting + b"one\n" + echo + err).decode()  # what the reader typed, in order
    output_file("tls-s_client", transcript(page_command(S_CLIENT), terminal))


def test_the_pages_show_the_commands_the_tests_run():
    """What the page shows a reader to type (in its text or in a recorded session it includes)
    is what the tests run."""
    for lang in LANGS:
        page = (DOCS / lang / "tls.md").read_text(encoding="utf-8")
        page += "".join((ROOT / path).read_text(encoding="utf-8") for path in includes(page))
        for shown in (page_command(SOCAT), page_command(S_CLIENT), "python -m trustme"):
            assert shown in page, f"{lang}/tls.md does not show {shown}"


# --- What a client says when the peer is not what it expects ------------------------------------


@pytest.fixture(scope="module")
def own_server(tmp_path_factory, tls):
    """A tls_server.py of this module's own: the bad clients below leave lines on its stderr."""
    server = start_tls_server(tmp_path_factory.mktemp("tls-server"), tls)
    yield server
    server.stop(signal.SIGTERM)


# The wrong-CA and plain-TCP tests below have the same shape on purpose: one failure the page
# shows each, with its own peer, expected line and recorded output.
@pytest.mark.parametrize("name", TLS_CLIENTS)
def test_a_wrong_ca_is_one_line(name, own_server, other_ca, output_file):
    took, result = run_client(name, own_server.port, other_ca)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "SSLCertVerificationError: certificate verify failed: "
        "unable to get local issuer certificate\n",
    )
    assert took < WITHIN
    if name == "tls_client":
        command_line = f"SSL_CERT_FILE=other-ca.pem python snippets/{name}.py"
        output_file(f"{name}-wrong-ca", transcript(command_line, "", result.stderr))


def test_without_ssl_cert_file_the_test_ca_is_not_trusted(own_server):
    args, env = snippet_command("tls_client", own_server.port)
    env.pop("SSL_CERT_FILE", None)
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=20)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("SSLCertVerificationError: certificate verify failed: ")


@pytest.mark.parametrize("name", TLS_CLIENTS)
def test_a_plain_tcp_server_is_one_line(name, servers, tls, output_file):
    """server.py speaks no TLS: its greeting line arrives where the server's first TLS record
    should, and OpenSSL says WRONG_VERSION_NUMBER."""
    took, result = run_client(name, servers(0.0).port, tls["ca"])
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "SSLError: no TLS with 127.0.0.1:8443: WRONG_VERSION_NUMBER\n",
    )
    assert took < WITHIN
    if name == "tls_client":
        command_line = f"python snippets/{name}.py"
        output_file(f"{name}-plain-tcp", transcript(command_line, "", result.stderr))


def stall_mid_handshake(conn):
    """Read the ClientHello, send the first 5 bytes of a handshake record, then nothing."""
    conn.settimeout(WAIT)
    assert conn.recv(4096)[:1] == b"\x16"  # a TLS handshake record: the ClientHello
    conn.sendall(b"\x16\x03\x03\x00\x7a")  # a record header announcing 122 bytes
    conn.recv(4096)  # until the client gives up and leaves


@job("tls-stalls", seconds=7)
def run_against_stalled_peers():
    """Each client against each peer, three at a time (each waits out its 3 s timeout): a job,
    as it is mostly that wait. Three, not all six: a client's 5 s include its start-up (ssl,
    asyncio), and six TLS clients starting together beside the suite left one 0.03 s over.
    [(client, stall, connections the peer accepted, seconds, result)]"""
    with own_files() as (_, tls):
        server_context = new_server_context(tls)
        over = threading.Event()

        def quiet_after_the_handshake(sock):
            over.wait(4 * WAIT)  # no greeting, and no answer to the client's close_notify either

        peers = {
            "mid-handshake": lambda: Peer(stall_mid_handshake),
            "after the handshake": lambda: tls_peer(server_context, quiet_after_the_handshake),
        }
        cases = [(name, stall) for name in TLS_CLIENTS for stall in peers]
        started = [peers[stall]() for _, stall in cases]

        def run(index):
            return run_client(cases[index][0], started[index].port, tls["ca"])

        try:
            with ThreadPoolExecutor(3) as pool:
                runs = list(pool.map(run, range(len(cases))))
        finally:
            over.set()
            for peer in started:
                peer.close()
        return [
            (name, stall, peer.accepted, took, result)
            for (name, stall), (took, result), peer in zip(cases, runs, started, strict=True)
        ]


@needs("tls-stalls")
def test_a_stall_mid_handshake_or_after_it_is_one_line_within_5_s(ahead):
    """Each client against each peer (the job): one line, exit 1, within 5 s of its own start.
    The asyncio client would otherwise wait 30 s more for the quiet peer's answer to its
    close_notify (asyncio's ssl_shutdown_timeout): it aborts instead."""
    runs = ahead("tls-stalls")
    assert len(runs) == 2 * len(TLS_CLIENTS)
    for name, stall, accepted, took, result in runs:
        assert accepted == 1, (name, stall)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", TIMEOUT_LINE), (
            name,
            stall,
        )
        assert took < WITHIN, (name, stall, took)


# --- The end of a session: close_notify ---------------------------------------------------------


def recording_the_end(context, ends):
    """A TLS server Peer that greets and echoes, and appends to `ends` how the client ended its
    side: "close_notify" (recv() returns b''), or the reason of the SSLError that recv() raises
    when the connection ends without one (suppress_ragged_eofs=False). It then closes without a
    close_notify of its own, as many servers do."""

    def handle(conn):
        conn.settimeout(WAIT)
        with context.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False) as sock:
            sock.sendall(GREETING)
            try:
                while data := sock.recv(4096):
                    sock.sendall(data)
                ends.append("close_notify")
            except ssl.SSLError as exc:
                ends.append(exc.reason)

    return Peer(handle)


@pytest.mark.parametrize("name", TLS_CLIENTS)
def test_clients_end_with_close_notify(name, server_context, tls):
    """Each client sends close_notify before it closes (RFC 8446, 6.1), and a server that closes
    without answering with its own costs it nothing: exit 0, its four lines."""
    ends = []
    with recording_the_end(server_context, ends) as peer:
        took, result = run_client(name, peer.port, tls["ca"])
        wait_for(lambda: ends)
    assert (result.returncode, result.stdout, result.stderr) == (0, printed_output(name), "")
    assert ends == ["close_notify"]
    assert took < WITHIN


# The lines of each socket client that send its close_notify.
CLOSE_NOTIFY = {
    "tls_client": (
        "        sock.setblocking(False)  # (4)\n"
        "        with contextlib.suppress(OSError):\n"
        "            sock.unwrap()\n"
    ),
    "tls_nonblocking_client": (
        "        with contextlib.suppress(OSError):  # (11)\n            sock.unwrap()\n"
    ),
}


@pytest.mark.parametrize("name", CLOSE_NOTIFY)
def test_without_unwrap_the_server_sees_no_close_notify(name, server_context, tls, tmp_path):
    """The proof that the test above can fail: closing an SSL socket sends no close_notify, and
    the server's recv() raises SSLEOFError (UNEXPECTED_EOF_WHILE_READING)."""
    source = (SNIPPETS / f"{name}.py").read_text()
    assert source.count(CLOSE_NOTIFY[name]) == 1
    variant = tmp_path / f"{name}.py"
    variant.write_text(source.replace(CLOSE_NOTIFY[name], ""))
    ends = []
    with recording_the_end(server_context, ends) as peer:
        _, result = run_variant(variant, peer.port, tls["ca"], name)
        wait_for(lambda: ends)
    assert (result.returncode, result.stdout, result.stderr) == (0, printed_output(name), "")
    assert ends == ["UNEXPECTED_EOF_WHILE_READING"]


def echo_three_lines_then_nothing(over):
    """A serve() for tls_peer: the greeting, the echo of three lines, then it reads nothing more
    (so it never answers a close_notify) until `over` is set."""

    def serve(sock):
        sock.sendall(GREETING)
        with sock.makefile("rb") as lines:
            for _ in range(3):
                sock.sendall(lines.readline())
        over.wait(4 * WAIT)

    return serve


# The runs below wait out a closing handshake (up to 6 s): jobs, so the waits overlap the rest
# of the run; each client is still timed from its start to its exit, in the job.


def never_answering_close_notify(name):
    """(seconds, result) of client `name` against a peer that never answers its close_notify."""
    with own_files() as (_, tls):
        over = threading.Event()
        try:
            with tls_peer(new_server_context(tls), echo_three_lines_then_nothing(over)) as peer:
                took, result = run_client(name, peer.port, tls["ca"])
                over.set()
        finally:
            over.set()
        return took, result


for _name in TLS_CLIENTS:
    job(f"tls-never-answered-{_name}", seconds=3 if _name == "tls_asyncio_client" else 0.2)(
        functools.partial(never_answering_close_notify, _name)
    )


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=needs(f"tls-never-answered-{name}")) for name in TLS_CLIENTS]
)
def test_a_server_that_never_answers_close_notify(name, ahead):
    """The socket clients send their close_notify and wait for no answer; the asyncio client waits
    for the server's, 3 s at most (ssl_shutdown_timeout=TIMEOUT), then says so in one line."""
    took, result = ahead(f"tls-never-answered-{name}")
    code, stderr = (1, TIMEOUT_LINE) if name == "tls_asyncio_client" else (0, "")
    assert (result.returncode, result.stdout, result.stderr) == (code, printed_output(name), stderr)
    assert took < WITHIN


SHUTDOWN_BOUND = ", ssl_shutdown_timeout=TIMEOUT"


@job("tls-no-shutdown-timeout", seconds=5)
def run_without_ssl_shutdown_timeout():
    """The asyncio client without its shutdown bound, given WITHIN seconds: its (seconds, result)
    if it exits in time, or the subprocess.TimeoutExpired if it is still running then."""
    source = (SNIPPETS / "tls_asyncio_client.py").read_text()
    assert source.count(SHUTDOWN_BOUND) == 1
    with own_files() as (folder, tls):
        variant = folder / "tls_asyncio_client.py"
        variant.write_text(source.replace(SHUTDOWN_BOUND, ""))
        over = threading.Event()
        with tls_peer(new_server_context(tls), echo_three_lines_then_nothing(over)) as peer:
            try:
                return run_variant(
                    variant, peer.port, tls["ca"], "tls_asyncio_client", timeout=WITHIN
                )
            except subprocess.TimeoutExpired as exc:  # subprocess.run killed the client
                return exc
            finally:
                over.set()  # before the peer joins its threads


@needs("tls-no-shutdown-timeout")
def test_without_ssl_shutdown_timeout_the_asyncio_client_waits_on(ahead):
    """The proof that the asyncio case above can fail: with asyncio's default shutdown timeout
    (30 s) the client is still waiting for the server's close_notify after 5 s."""
    outcome = ahead("tls-no-shutdown-timeout")
    assert isinstance(outcome, subprocess.TimeoutExpired), outcome  # not exited within WITHIN
    assert outcome.timeout == WITHIN


ABORT = "        writer.transport.abort()  # (3)\n"


@job("tls-no-abort", seconds=6)
def run_without_abort():
    """(seconds, result) of the asyncio client with close() in place of its abort(), against a
    peer that goes quiet after the handshake."""
    source = (SNIPPETS / "tls_asyncio_client.py").read_text()
    assert source.count(ABORT) == 1
    with own_files() as (folder, tls):
        variant = folder / "tls_asyncio_client.py"
        variant.write_text(source.replace(ABORT, "        writer.close()\n"))
        over = threading.Event()
        try:
            with tls_peer(new_server_context(tls), lambda sock: over.wait(4 * WAIT)) as peer:
                took, result = run_variant(variant, peer.port, tls["ca"], "tls_asyncio_client")
                over.set()
        finally:
            over.set()
        return took, result


@needs("tls-no-abort")
def test_without_abort_the_asyncio_client_also_waits_for_the_closing_handshake(ahead):
    """The proof that the asyncio client's abort() matters: against a peer that goes quiet after
    the handshake, the same client with close() in its place waits 3 s for a greeting, then 3 s
    more (ssl_shutdown_timeout) for an answer to its close_notify."""
    took, result = ahead("tls-no-abort")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", TIMEOUT_LINE)
    assert 6 <= took < 6 + WITHIN - 3, took


# --- pending(): what select() cannot see ---------------------------------------------------------


def recv_when_readable(sock, size):
    """Wait for readiness, then recv(); SSLWantReadError (a record that carried no data, such as
    a TLS 1.3 session ticket) means wait again."""
    while True:
        assert select.select([sock], [], [], WAIT)[0], "nothing arrived"
        try:
            return sock.recv(size)
        except ssl.SSLWantReadError:
            continue


def queued(sock):
    """Bytes waiting in the kernel's receive queue of `sock` (FIONREAD), not yet read."""
    import fcntl  # POSIX
    import termios

    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]


def readable_now(sock):
    return bool(select.select([sock], [], [], 0.2)[0])


@job("tls-select-and-pending", seconds=0.9)
def read_records_beside_select():
    """(what each recv() of one big record saw, what each recv() of three small ones saw, the
    peer's errors): (bytes received, pending(), readable) per recv(). A job: each "not readable"
    is a select() that waits 0.2 s."""
    with own_files() as (_, tls):
        sent = threading.Event()

        def one_big_then_three_small(sock):
            sock.sendall(b"x" * 3000)  # one record
            assert sock.recv(1) == b"n"  # the client asks for the next part
            for part in (b"a", b"b", b"c"):
                sock.sendall(part * 100)  # three records
            sent.set()
            sock.recv(1)

        with tls_peer(new_server_context(tls), one_big_then_three_small) as peer:
            with tls_connect(peer.port, new_client_context(tls)) as sock:
                sock.setblocking(False)
                big = [(len(recv_when_readable(sock, 1024)), sock.pending(), readable_now(sock))]
                while sock.pending():
                    big.append((len(sock.recv(1024)), sock.pending(), readable_now(sock)))

                sock.setblocking(True)
                sock.sendall(b"n")
                assert sent.wait(WAIT)
                wait_for(lambda: queued(sock) >= 3 * (5 + 100 + 17))  # header, data, type, tag
                sock.setblocking(False)
                small = [(len(recv_when_readable(sock, 65536)), sock.pending(), readable_now(sock))]
                for _ in range(2):
                    small.append((len(sock.recv(65536)), sock.pending(), readable_now(sock)))
        return big, small, peer.errors


@needs("tls-select-and-pending")
def test_select_cannot_see_the_rest_of_a_record(ahead):
    """A 3,000-byte record read 1,024 bytes at a time: the rest is decrypted in the SSL object
    (pending()) and select() says nothing is readable. Three records of 100 bytes: each recv()
    returns one record, the others wait in the kernel, where select() sees them."""
    big, small, errors = ahead("tls-select-and-pending")
    assert big == [(1024, 1976, False), (1024, 952, False), (952, 0, False)]
    assert small == [(100, 0, True), (100, 0, True), (100, 0, False)]
    assert errors == []


LONG_GREETING = b"hello " + b"x" * 2993 + b"\n"  # 3,000 bytes in one record: three recv(1024)


def run_variant(path, port, ca, name="tls_nonblocking_client", timeout=20):
    """Run a changed copy of snippet `name` as run_snippet() runs the snippet itself."""
    args, env = snippet_command(name, port, env={"SSL_CERT_FILE": str(ca)})
    started = time.monotonic()
    result = subprocess.run(
        [*args[:-1], str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return time.monotonic() - started, result


def test_the_nonblocking_client_reads_a_line_longer_than_its_recv(server_context, tls):
    with tls_peer(server_context, greet_and_echo(LONG_GREETING)) as peer:
        _, result = run_client("tls_nonblocking_client", peer.port, tls["ca"])
    assert (result.returncode, result.stderr) == (0, "")
    expected = printed_output("tls_nonblocking_client")
    assert result.stdout == expected.replace(r"b'hello from tls_server.py\n'", repr(LONG_GREETING))


@job("tls-no-pending-loop", seconds=0.7)
def run_without_pending_loop():
    """(seconds, result) of the non-blocking client without its pending() loop: a job, as it
    mostly waits out its timeout."""
    source = (SNIPPETS / "tls_nonblocking_client.py").read_text()
    drain = "            while sock.pending():  # (7)\n                chunk += sock.recv(CHUNK)\n"
    timeout = "TIMEOUT = 3\n"
    assert source.count(drain) == source.count(timeout) == 1
    with own_files() as (folder, tls):
        variant = folder / "tls_nonblocking_client.py"
        variant.write_text(source.replace(drain, "").replace(timeout, "TIMEOUT = 0.5\n"))
        with tls_peer(new_server_context(tls), greet_and_echo(LONG_GREETING)) as peer:
            return run_variant(variant, peer.port, tls["ca"])


@needs("tls-no-pending-loop")
def test_without_its_pending_loop_the_client_waits_for_nothing(ahead):
    """The proof that the test above can fail: the same client without its pending() loop waits
    for readiness while the rest of the line is already decrypted in memory, and times out
    (after 0.5 s here, not 3, to keep the test quick)."""
    took, result = ahead("tls-no-pending-loop")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        TIMEOUT_LINE.replace("3 s", "0.5 s"),
    )
    assert took < WITHIN


# --- SSLWantReadError, SSLWantWriteError ---------------------------------------------------------


def test_want_errors_are_ssl_errors_not_blocking_io_errors():
    """`except BlockingIOError` does not catch them (the ssl docs: they are raised instead)."""
    for want in (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        assert issubclass(want, ssl.SSLError) and issubclass(want, OSError)
        assert not issubclass(want, BlockingIOError)


def test_readable_yet_recv_wants_more_after_a_tls_13_handshake(server_context, tls):
    """A TLS 1.3 server sends session tickets after the handshake: the socket becomes readable,
    and recv() finds no application data in them. A server that sends none (num_tickets = 0)
    leaves the socket unreadable: the tickets were what made it readable."""
    client_context = ssl.create_default_context(cafile=str(tls["ca"]))
    quiet_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    quiet_context.load_cert_chain(tls["cert"], tls["key"])
    quiet_context.num_tickets = 0
    assert server_context.num_tickets > 0  # OpenSSL's default
    for context, tickets in ((server_context, True), (quiet_context, False)):
        done = threading.Event()
        with tls_peer(context, lambda sock, done=done: done.wait(WAIT)) as peer:
            with tls_connect(peer.port, client_context) as sock:
                assert sock.version() == "TLSv1.3"
                sock.setblocking(False)
                if tickets:
                    assert select.select([sock], [], [], WAIT)[0]
                    with pytest.raises(ssl.SSLWantReadError):
                        sock.recv(1024)
                else:
                    assert not readable_now(sock)
                done.set()
        assert peer.errors == []


def test_a_record_holds_at_most_16_kib(server_context, client_context):
    """40,000 bytes in one sendall() arrive as records of 16,384 bytes (RFC 8446, 5.1: 2^14),
    whatever recv() asks for."""
    with tls_peer(server_context, lambda sock: (sock.sendall(b"r" * 40_000), sock.recv(1))) as peer:
        with tls_connect(peer.port, client_context) as sock:
            sock.setblocking(False)
            sizes = [len(recv_when_readable(sock, 65536)) for _ in range(3)]
    assert sizes == [16384, 16384, 7232]


BIG = b"z" * (16 << 20)  # more than the buffers between the two ends hold


def test_send_takes_all_or_raises_and_the_retry_passes_the_same_bytes(
    server_context, client_context
):
    """OpenSSL's SSL_write(): success only once all of the bytes are written (Python does not set
    SSL_MODE_ENABLE_PARTIAL_WRITE), and a retry after a want error must pass the same bytes: a
    shorter retry fails with BAD_LENGTH."""
    start_reading, received = threading.Event(), []

    def read_later(sock):
        start_reading.wait(WAIT)
        total = 0
        while total < len(BIG) and (data := sock.recv(1 << 20)):
            total += len(data)
        received.append(total)

    with tls_peer(server_context, read_later) as peer:
        with tls_connect(peer.port, client_context) as sock:
            sock.setblocking(False)
            with pytest.raises(ssl.SSLWantWriteError):
                sock.send(BIG)
            start_reading.set()
            while True:
                try:
                    sent = sock.send(BIG)  # the same bytes again
                    break
                except ssl.SSLWantWriteError:
                    assert select.select([], [sock], [], WAIT)[1]
            assert sent == len(BIG)
            wait_for(lambda: received)  # before close(): unread tickets would make it a reset
    assert received == [len(BIG)]

    done = threading.Event()
    with tls_peer(server_context, lambda sock: done.wait(WAIT)) as peer:  # reads nothing
        with tls_connect(peer.port, client_context) as sock:
            sock.setblocking(False)
            with pytest.raises(ssl.SSLWantWriteError):
                sock.send(BIG)
            with pytest.raises(ssl.SSLError) as shorter:
                sock.send(BIG[:10])
            done.set()
    assert shorter.value.reason == "BAD_LENGTH"


WANTS = """
import atexit, json, os, ssl

raised = []
injected = {"do_handshake": [ssl.SSLWantWriteError],
            "send": [ssl.SSLWantWriteError],
            "recv": [ssl.SSLWantWriteError, ssl.SSLWantReadError]}

def wrap(name):
    real = getattr(ssl.SSLSocket, name)
    def call(self, *args):
        if injected[name]:
            want = injected[name].pop(0)
            raised.append([name, want.__name__, "injected"])
            raise want("injected")
        try:
            return real(self, *args)
        except ssl.SSLError as exc:
            raised.append([name, type(exc).__name__, "real"])
            raise
    setattr(ssl.SSLSocket, name, call)

for name in injected:
    wrap(name)

@atexit.register
def write():
    with open(os.environ["WANTS_LOG"], "w") as log:
        json.dump(raised, log)

import runpy
runpy.run_path("snippets/tls_nonblocking_client.py", run_name="__main__")
"""


# The relay below passes the client's bytes on to the server this long after it connects.
RELAY_PAUSE = 0.5


def test_every_want_branch_of_the_nonblocking_client_runs(companions, tls, tmp_path):
    """Want errors the network rarely produces here are injected once each: SSLWantWriteError
    from do_handshake(), recv() and send() (the socket's buffer is full), SSLWantReadError from
    recv() after readiness; the client waits and retries, and prints its lines. The handshake's
    SSLWantReadError is real: a relay holds the connection RELAY_PAUSE seconds before passing it
    to the server, so the client's first real do_handshake() (which sends the ClientHello)
    finds nothing to read. (Straight to the server on a loaded machine, a client paused between its
    write and its read can find the answer there and finish in one call.)

    send()'s SSLWantReadError cannot be injected so: it means the peer is sending handshake data
    (TLS 1.2 renegotiation), which Python has no call to start; a fake one waits for data that
    never comes."""
    from support.catalog import CATALOG

    server = companions(CATALOG["tls_nonblocking_client"])
    forward = forward_to(server.port)

    def held(client):
        time.sleep(RELAY_PAUSE)
        forward(client)

    log = tmp_path / "wants.json"
    with Peer(held) as relay:
        args, env = snippet_command("tls_nonblocking_client", relay.port, env=server.client_env)
        env["WANTS_LOG"] = str(log)
        result = subprocess.run(
            [*args[:-1], "-c", WANTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=20
        )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == printed_output("tls_nonblocking_client")
    raised = json.loads(log.read_text())
    injected = [entry[:2] for entry in raised if entry[2] == "injected"]
    assert injected == [
        ["do_handshake", "SSLWantWriteError"],
        ["recv", "SSLWantWriteError"],
        ["recv", "SSLWantReadError"],
        ["send", "SSLWantWriteError"],
    ]
    real = [entry[:2] for entry in raised if entry[2] == "real"]
    assert real[0] == ["do_handshake", "SSLWantReadError"]  # the first real call waits to read


# --- tls_server.py -------------------------------------------------------------------------------


def wait_for_line(path, line):
    wait_for(lambda: line in path.read_text().splitlines())


@dataclass
class BadClients:
    """What the bad-clients session saw (the job below)."""

    good: subprocess.CompletedProcess  # a client that trusts the server's CA
    wrong: subprocess.CompletedProcess  # one that does not
    served: tuple  # the greeting and echo of a client served while a handshake stalls
    seconds: float  # from its connect() to its echo
    code: int  # the server's exit status after Ctrl-C
    log: str  # the server's stdout and stderr, in order


@job("tls-bad-clients", seconds=3.5)
def run_bad_clients():
    """The page's server session: a job, as it mostly waits out the stalled handshake's 3 s."""
    with own_files() as (folder, tls):
        log = folder / "server.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-u", "-W", "error", str(SNIPPETS / "tls_server.py")]
                + ["--port", "0", "--cert", str(tls["cert"]), "--key", str(tls["key"])],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        try:
            wait_for(lambda: "listening on" in log.read_text())
            port = int(re.search(r"127\.0\.0\.1:(\d+)", log.read_text()).group(1))

            _, good = run_client("tls_client", port, tls["ca"])
            wait_for_line(log, "client 1 closed")
            _, wrong = run_client("tls_client", port, new_other_ca(folder))
            wait_for_line(log, "client 2 closed")
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as plain:
                plain.sendall(b"hello\n")
                wait_for_line(log, "client 3 closed")
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT):  # no ClientHello
                wait_for_line(log, "client 4 connected")
                started = time.monotonic()
                with tls_connect(port, new_client_context(tls)) as other:
                    greeting = read_line(other)
                    other.sendall(b"served\n")
                    served = (greeting, read_line(other))
                seconds = time.monotonic() - started
                wait_for_line(log, "client 5 closed")
                wait_for_line(log, "client 4 closed")
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=WAIT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=WAIT)
        return BadClients(good, wrong, served, seconds, code, log.read_text())


@posix_only("the session ends with Ctrl-C (SIGINT)")
@needs("tls-bad-clients")
def test_bad_clients_are_one_line_each_and_harm_no_other(ahead, output_file):
    """The server terminal shown on the page: a good client, one that does not trust the
    server's CA, one that speaks plain text, one that never starts its handshake (and, while
    that one waits, a good client served at once); then Ctrl-C. stdout and stderr in one file,
    in the order a terminal shows them."""
    run = ahead("tls-bad-clients")
    assert (run.good.returncode, run.good.stdout) == (0, printed_output("tls_client"))
    assert run.wrong.returncode == 1
    assert run.served == (GREETING, b"served\n")
    assert run.seconds < 1  # not after the stalled handshake
    assert run.code == 0
    expected = [
        "client 1 connected",
        "client 1 closed",
        "client 2 connected",
        "client 2: TLS handshake failed: TLSV1_ALERT_UNKNOWN_CA",
        "client 2 closed",
        "client 3 connected",
        "client 3: TLS handshake failed: WRONG_VERSION_NUMBER",
        "client 3 closed",
        "client 4 connected",
        "client 5 connected",
        "client 5 closed",
        "client 4: TLS handshake failed: no handshake within 3 s",
        "client 4 closed",
        "server stopped",
    ]
    lines = run.log.splitlines()
    assert re.fullmatch(r"listening on 127\.0\.0\.1:\d+ \(TLS\), Ctrl-C stops", lines[0])
    assert lines[1:] == expected
    shown = "\n".join(["listening on 127.0.0.1:8443 (TLS), Ctrl-C stops", *expected]) + "\n"
    command_line = "python snippets/tls_server.py --cert server.pem --key server.key"
    output_file("tls_server", transcript(command_line, shown))


def tls_flood(sock, total=10_000_000, stall=0.5, limit=5.0):
    """Send up to `total` bytes without reading, until the peer takes nothing for `stall` s.
    After SSLWantWriteError the same bytes go again (OpenSSL requires it)."""
    sock.setblocking(False)
    data, sent = b"z" * 65536, 0
    last = started = time.monotonic()
    while sent < total and time.monotonic() - last < stall and time.monotonic() - started < limit:
        try:
            sent += sock.send(data)
            last = time.monotonic()
        except ssl.SSLWantWriteError:
            time.sleep(0.01)  # the server stopped reading: backpressure
    return sent


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


HELD = 200  # TLS clients held open (each handshake costs both ends some CPU: keep it quick)


@TIMING
@linux_only("/proc (memory per connection) and signals sent to a child process")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_within_a_second_with_tls_clients_a_flooder_and_a_stalled_handshake(
    signum, launch, client_context, record_property
):
    server = launch()
    before = rss_kib(server.process.pid)
    clients = []
    try:
        for _ in range(HELD):
            clients.append(tls_connect(server.port, client_context, timeout=10))
        for sock in clients:
            assert read_line(sock) == GREETING
        per_connection = (rss_kib(server.process.pid) - before) / HELD
        record_property("rss_kib_per_idle_tls_connection", round(per_connection, 1))
        # asyncio gives each TLS connection a 256 KiB read buffer (SSLProtocol.max_size).
        assert per_connection > 200, per_connection
        flooder = tls_connect(server.port, client_context)
        clients.append(flooder)
        assert read_line(flooder) == GREETING
        assert tls_flood(flooder) > 1_000_000  # its echo is stuck in the server's buffers
        clients.append(server.connect())  # a handshake that never starts
        wait_for(lambda: server.connections() == HELD + 2)
        stopped = server.stop(signum)
    finally:
        for sock in clients:
            sock.close()
    record_property("seconds_to_stop", round(stopped.seconds, 3))
    stopped.assert_clean(server.script)


@job("tls-out-of-descriptors", seconds=2)
def run_out_of_descriptors():
    """(the greeting and echo of a client accepted during EMFILE, the greetings of two new
    clients after, the server's Stopped): a job, as asyncio waits a second before it calls
    accept() again."""
    with own_files() as (folder, tls):
        context = new_client_context(tls)
        with killed_on_failure(start_tls_server(folder, tls, nofile=128)) as server:
            raws, first = [], None
            try:
                for _ in range(200):  # the ones not accepted wait in the listen backlog
                    raws.append(server.connect())
                wait_for(lambda: EMFILE_NOTICE in server.err.read_text())
                first = context.wrap_socket(raws[0], server_hostname="127.0.0.1")
                greeting = read_line(first)
                first.sendall(b"during EMFILE\n")
                during = (greeting, read_line(first))
            finally:
                for sock in [first, *raws]:
                    if sock is not None:
                        sock.close()
            after = []
            for _ in range(2):  # asyncio waits a second before it calls accept() again
                with tls_connect(server.port, context) as sock:
                    after.append(read_line(sock))
            return during, after, server.stop(signal.SIGTERM)


@linux_only("RLIMIT_NOFILE")
@needs("tls-out-of-descriptors")
def test_out_of_descriptors_one_notice_and_still_serving(ahead):
    """RLIMIT_NOFILE 128 and 200 connections: one notice, once; an accepted client is still
    served over TLS, and new ones are once descriptors are free. The connections that never
    started a handshake and then left each get their one line."""
    during, after, stopped = ahead("tls-out-of-descriptors")
    assert during == (GREETING, b"during EMFILE\n")
    assert after == [GREETING, GREETING]
    lines = stopped.err.splitlines()
    assert lines.count(EMFILE_NOTICE) == 1
    others = [line for line in lines if line != EMFILE_NOTICE]
    assert all(re.fullmatch(r"client \d+: TLS handshake failed: \w+", line) for line in others)
    stopped.assert_clean("tls_server.py", err=stopped.err)  # exit 0, "server stopped", within 1 s


@pytest.mark.parametrize(
    ("files", "stderr"),
    [
        ({}, "cannot read --cert server.pem --key server.key: No such file or directory\n"),
        (
            {"server.pem": "not a certificate\n", "server.key": "nor a key\n"},
            "cannot use --cert server.pem --key server.key: not a PEM certificate and its key\n",
        ),
    ],
)
def test_a_bad_cert_or_key_is_one_line(files, stderr, tmp_path, output_file):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = ["--port", "0", "--cert", "server.pem", "--key", "server.key"]
    result = subprocess.run(
        [sys.executable, "-W", "error", str(SNIPPETS / "tls_server.py"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, "", stderr)
    if not files:
        command_line = "python snippets/tls_server.py --cert server.pem --key server.key"
        output_file("tls_server-no-cert", transcript(command_line, "", result.stderr))


def test_a_key_that_is_not_the_certificates_is_one_line(tls, tmp_path):
    shutil.copy(tls["cert"], tmp_path / "server.pem")
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(tmp_path / "server.key"))
    result = subprocess.run(
        [sys.executable, "-W", "error", str(SNIPPETS / "tls_server.py"), "--port", "0"]
        + ["--cert", "server.pem", "--key", "server.key"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "cannot use --cert server.pem --key server.key: KEY_VALUES_MISMATCH\n",
    )


@job("tls-wait-closed", seconds=2)
def run_wait_closed_after_failed_handshakes():
    """{name: (the handshake's error, how wait_closed() ends)} for a client that speaks plain
    text and one that stays silent: a job, as the silent one waits 2 s."""
    with own_files() as (_, tls):
        server_context = new_server_context(tls)
        outcomes = {}

        async def handle(reader, writer, name):
            try:
                async with asyncio.timeout(0.5):
                    await writer.start_tls(server_context)
            except OSError as exc:
                try:
                    await asyncio.wait_for(writer.wait_closed(), 1)
                    ends = "returns"
                except TimeoutError:
                    ends = "still waits"
                except OSError:
                    ends = "raises"
                outcomes[name] = (type(exc).__name__, ends)
            else:
                outcomes[name] = ("no error", None)

        def plain_text(port):
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
                sock.sendall(b"hello\n")
                sock.recv(1024)  # until the server closes

        def silent(port):
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT):
                time.sleep(2)  # past the 0.5 s handshake timeout and the 1 s wait

        async def main():
            names = iter(["plain text", "silent"])
            server = await asyncio.start_server(
                lambda reader, writer: handle(reader, writer, next(names)), "127.0.0.1", 0
            )
            port = server.sockets[0].getsockname()[1]
            async with server:
                for client in (plain_text, silent):
                    await asyncio.to_thread(client, port)
                while len(outcomes) < 2:
                    await asyncio.sleep(0.05)

        asyncio.run(asyncio.wait_for(main(), 4 * WAIT))
        return outcomes


@needs("tls-wait-closed")
def test_wait_closed_waits_forever_only_after_a_cancelled_start_tls(ahead):
    """Why tls_server.py calls wait_closed() only after a handshake that succeeded. After a
    handshake that fails (plain text: SSLError) the stream learns that its connection is gone and
    wait_closed() ends, raising that error. After a start_tls() that is cancelled, as
    asyncio.timeout() cancels a stalled one, it never learns it: wait_closed() still waits."""
    outcomes = ahead("tls-wait-closed")
    assert outcomes == {
        "plain text": ("SSLError", "raises"),
        "silent": ("TimeoutError", "still waits"),
    }


# --- Certificates: trustme's command line, SSL_CERT_FILE ----------------------------------------


def test_the_pages_recipe_trustme_then_server_then_client(tmp_path):
    """`python -m trustme` writes server.pem (for localhost, and for 127.0.0.1 and ::1 as IP
    addresses), server.key and client.pem (its CA); tls_server.py takes the first two, a client
    trusts the third through SSL_CERT_FILE."""
    from cryptography import x509

    made = subprocess.run(
        [sys.executable, "-m", "trustme"], cwd=tmp_path, capture_output=True, text=True, timeout=20
    )
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.pem", "server.key", "server.pem"]
    cert = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    files = {"cert": tmp_path / "server.pem", "key": tmp_path / "server.key"}
    server = start_tls_server(tmp_path, files)
    try:
        _, result = run_client("tls_client", server.port, tmp_path / "client.pem")
    finally:
        server.stop_cleanly()
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        printed_output("tls_client"),
        "",
    )


VERIFY_PATHS = re.compile(
    r"DefaultVerifyPaths\(cafile='client\.pem', capath=(?:'[^']*'|None), "
    r"openssl_cafile_env='SSL_CERT_FILE', openssl_cafile='[^']+', "
    r"openssl_capath_env='SSL_CERT_DIR', openssl_capath='[^']+'\)\n"
)


def test_ssl_cert_file_names_the_ca_file_create_default_context_loads(tls, tmp_path, output_file):
    shutil.copy(tls["ca"], tmp_path / "client.pem")
    code = "import ssl; print(ssl.get_default_verify_paths())"
    count = "import ssl; print(len(ssl.create_default_context().get_ca_certs()))"
    # As on a machine where neither variable is set: OpenSSL's own defaults.
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}

    def run(source, **extra):
        result = subprocess.run(
            [sys.executable, "-c", source],
            cwd=tmp_path,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert (result.returncode, result.stderr) == (0, "")
        return result.stdout

    shown = run(code, SSL_CERT_FILE="client.pem")
    assert VERIFY_PATHS.fullmatch(shown), shown
    assert "cafile='client.pem'" not in run(code)  # without it: the system's own CA file
    assert run(count, SSL_CERT_FILE="client.pem") == "1\n"  # loaded: the test CA, from that file
    command_line = f'SSL_CERT_FILE=client.pem python -c "{code}"'
    output_file("tls-verify-paths", transcript(command_line, shown), VERIFY_PATHS)


@posix_only("a symlink named by the certificate's subject hash")
def test_with_ssl_cert_file_the_ca_folder_is_still_searched(tls, tmp_path):
    """SSL_CERT_FILE replaces the CA file only: the CA folder (capath: OpenSSL's default, or
    SSL_CERT_DIR) is still searched when a certificate is checked. A server whose CA is only in
    that folder is trusted by tls_client.py run with SSL_CERT_FILE=client.pem, and is not when
    the folder is empty; get_ca_certs() lists the folder's CA only once a connection used it."""
    assert shutil.which("openssl"), "openssl is not installed (.ci/run installs it)"
    folder_ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    folder_ca.issue_cert("127.0.0.1").configure_cert(context)
    folder, empty = tmp_path / "certs", tmp_path / "empty"
    folder.mkdir()
    empty.mkdir()
    folder_ca.cert_pem.write_to_path(str(folder / "folder-ca.pem"))
    hashed = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(folder / "folder-ca.pem")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (folder / f"{hashed}.0").symlink_to("folder-ca.pem")  # the name OpenSSL looks up

    def run(capath):
        with tls_peer(context, greet_and_echo(GREETING)) as peer:
            return run_snippet(
                "tls_client",
                peer.port,
                env={"SSL_CERT_FILE": str(tls["ca"]), "SSL_CERT_DIR": capath},
            )

    trusted, refused = run(str(folder)), run(str(empty))
    assert (trusted.returncode, trusted.stdout, trusted.stderr) == (
        0,
        printed_output("tls_client"),
        "",
    )
    assert (refused.returncode, refused.stderr) == (
        1,
        "SSLCertVerificationError: certificate verify failed: "
        "unable to get local issuer certificate\n",
    )

    listed = ssl.create_default_context(cafile=str(tls["ca"]), capath=str(folder))
    assert len(listed.get_ca_certs()) == 1  # the file's CA; the folder's is not read yet
    with tls_peer(context, greet_and_echo(GREETING)) as peer:
        with tls_connect(peer.port, listed) as sock:
            assert read_line(sock) == GREETING
    assert len(listed.get_ca_certs()) == 2  # now it has been used


def finish_in_one_segment(port, context):
    """A client whose last handshake message, a line of data and its close_notify reach the
    server in one TCP segment (an SSLObject holds them back until the end), as a fast client's
    can: the server's stream sees the end of its data while start_tls() is still finishing."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                incoming.write(sock.recv(65536))
        tls.write(b"one\n")
        try:
            tls.unwrap()  # close_notify
        except ssl.SSLWantReadError:
            pass
        sock.sendall(outgoing.read())  # Finished, the line and close_notify together
        return read_to_eof(sock)


NO_FILTER = """
import logging, runpy, sys

logging.Logger.addFilter = lambda self, log_filter: None  # the server's filter is not added
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("filtered", [True, False])
def test_a_client_that_finishes_at_once_leaves_no_warning(
    filtered, launch, tmp_path, client_context
):
    """asyncio logs "returning true from eof_received() has no effect when using ssl" when a
    stream's data ends before StreamWriter.start_tls() has told it that it runs over TLS; the
    server's log filter drops that line. Without the filter it shows."""
    wrapper = None
    if not filtered:
        wrapper = tmp_path / "no_filter.py"
        wrapper.write_text(NO_FILTER)
    server = launch(wrapper=wrapper)
    try:
        assert finish_in_one_segment(server.port, client_context)  # the server answered
        wait_for(lambda: "client 1 closed" in server.log.read_text())
    finally:
        stopped = server.stop(signal.SIGTERM)
    warning = "returning true from eof_received() has no effect when using ssl\n"
    stopped.assert_clean(server.script, err="" if filtered else warning)
