"""names.md: what the page says about looking up names, beyond the snippets' own output.

No test asks a real DNS server anything. Most use the stand-in resolver
(tests/harness/resolver.py), which replaces ``socket.getaddrinfo``. What it cannot reach, the
lookup CPython does in C inside ``connect()``, is shown in a Linux namespace of the test's own
(``unshare``: a new user, mount and network namespace, only a loopback interface, and no route
out): there /etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf are bind-mounted over by files
the test wrote, visible to that process tree only, and a DNS server played by the test answers
on 127.0.0.1:53 after a pause. No system file changes.

The runs in a namespace and lookup_blocks.py's run mostly wait (a slow DNS server, the loops'
ticks): they are jobs (support/ahead.py), timed inside as before. The stand-in's tests stay in
the test: installed in the job process, it would slow or answer the other jobs' lookups.
"""

import asyncio
import errno
import json
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import resolver

from support.ahead import job, needs
from support.marks import TIMING, linux_only
from support.processes import printed_output, run_snippet

HOSTS = {"localhost": ["::1", "127.0.0.1"]}  # as glibc gives a hosts file with both lines


@pytest.fixture
def stand_in():
    """install(hosts, delay): the stand-in resolver in this process, undone after the test."""
    undo = []

    def install(hosts=None, delay=0.0):
        undo.append(resolver.install(hosts, delay))

    yield install
    for step in reversed(undo):
        step()


def addresses(host, port=80, family=0):
    return [info[4][0] for info in socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)]


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return time.monotonic() - started, result


# The stand-in itself.


@TIMING
def test_the_stand_in_gives_the_chosen_addresses_after_its_delay(stand_in):
    stand_in(HOSTS, delay=0.2)
    took, found = timed(addresses, "localhost")
    assert found == ["::1", "127.0.0.1"] and took >= 0.2
    assert addresses("localhost", family=socket.AF_INET) == ["127.0.0.1"]
    took, found = timed(addresses, "127.0.0.1")  # a numeric address needs no lookup
    assert found == ["127.0.0.1"] and took < 0.1


def test_the_stand_in_is_parsed_from_the_environment(stand_in):
    assert resolver.install_from({}) is None
    undo = resolver.install_from(
        {"SNIPPET_HOSTS": "localhost=::1,127.0.0.1", "SNIPPET_LOOKUP_DELAY": "0"}
    )
    try:
        assert addresses("localhost") == ["::1", "127.0.0.1"]
    finally:
        undo()


# connect() resolves a name itself, in C: the stand-in cannot slow it, a slow DNS server can.


@TIMING
def test_connect_resolves_a_name_without_socket_getaddrinfo(stand_in):
    """With every socket.getaddrinfo() taking 0.5 s, a non-blocking connect_ex(("localhost", port))
    still returns at once: it never calls socket.getaddrinfo(). That is why lookup_blocks.py
    calls socket.getaddrinfo() itself, where the stand-in can slow it."""
    stand_in(delay=0.5)
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket() as sock:
        sock.setblocking(False)
        took, err = timed(sock.connect_ex, ("localhost", listener.getsockname()[1]))
        assert errno.errorcode.get(err, err) in ("EINPROGRESS", 0)
        assert took < 0.2
        took, _ = timed(addresses, "localhost")  # the stand-in is in place
        assert took >= 0.5


# The child that runs in the namespace: it plays the DNS server, then times the calls.
IN_THE_NAMESPACE = textwrap.dedent(
    r"""
    import atexit, json, os, shutil, socket, struct, subprocess, sys, tempfile, threading, time

    DELAY = float(sys.argv[1])
    folder = tempfile.mkdtemp()  # the files bound over /etc's (a bind mount keeps its file)
    atexit.register(shutil.rmtree, folder, True)
    files = {
        "hosts": (
            "127.0.0.1 localhost\n127.0.0.2 two.test\n127.0.0.1 two.test\n"
            "127.0.0.1 dual.test\n::1 dual.test\n"  # the IPv4 line first
        ),
        "resolv.conf": "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n",
        "nsswitch.conf": "hosts: files dns\n",
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
        subprocess.run(["mount", "--bind", os.path.join(folder, name), "/etc/" + name],
                       check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    queries = []
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))

    def answer():  # every name is 127.0.0.1, after DELAY seconds
        while True:
            query, peer = dns.recvfrom(512)
            end = query.index(b"\0", 12) + 5
            qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
            queries.append(qtype)
            time.sleep(DELAY)
            records = b""
            if qtype == 1:  # A
                records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4)
                records += socket.inet_aton("127.0.0.1")
            head = query[:2] + struct.pack("!HHHHH", 0x8180, 1, len(records) and 1, 0, 0)
            dns.sendto(head + query[12:end] + records, peer)

    threading.Thread(target=answer, daemon=True).start()
    seen = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        for host in ("slow.test", "127.0.0.1"):
            with socket.socket() as sock:
                sock.setblocking(False)
                started = time.monotonic()
                err = sock.connect_ex((host, port))
                seen[host] = [time.monotonic() - started, err, sock.getblocking()]
    seen["queries"] = queries

    # two.test has two addresses (hosts file): connect() takes the first, create_connection()
    # tries each. Only the second one listens.
    first, second = [i[4][0] for i in socket.getaddrinfo("two.test", 0, socket.AF_INET,
                                                          socket.SOCK_STREAM)]
    with socket.create_server((second, 0)) as listener:
        port = listener.getsockname()[1]
        with socket.socket() as sock:
            sock.settimeout(5)
            try:
                sock.connect(("two.test", port))
                seen["connect"] = "connected"
            except OSError as exc:
                seen["connect"] = type(exc).__name__
        with socket.create_connection(("two.test", port), timeout=5) as sock:
            seen["create_connection"] = sock.getpeername()[0]
    seen["two.test"] = [first, second]
    seen["dual.test"] = [i[4][0] for i in socket.getaddrinfo("dual.test", 0,
                                                             type=socket.SOCK_STREAM)]
    print(json.dumps(seen))
    """
)


DNS_DELAY = 0.5  # seconds the DNS server in the namespace waits before each answer


def in_a_namespace(code, *args, timeout=30):
    """Run Python `code` in a new user, mount and network namespace (see the module docstring)."""
    missing = [tool for tool in ("unshare", "mount", "ip") if not shutil.which(tool)]
    assert not missing, f"needs util-linux and iproute2: {missing} not found"
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "--net", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        "the namespace could not be set up (unprivileged user namespaces disabled?):\n"
        + result.stderr
    )
    return json.loads(result.stdout)


@job("names-namespace-slow-dns", seconds=1)
def with_a_slow_dns_server():
    return in_a_namespace(IN_THE_NAMESPACE, str(DNS_DELAY))


@job("names-namespace", seconds=0.2)
def with_a_prompt_dns_server():
    """One run for the two tests that read what the hosts file gives."""
    return in_a_namespace(IN_THE_NAMESPACE, "0")


@linux_only("user and network namespaces, and glibc's resolver")
@needs("names-namespace-slow-dns")
def test_connect_on_a_non_blocking_socket_waits_for_a_slow_dns_server(ahead):
    """connect_ex(("slow.test", port)) on a non-blocking socket: CPython's getsockaddrarg() calls
    setipaddr(), which calls the C library's getaddrinfo() and waits for the DNS server's answer
    (0.5 s late), and only then starts the connection (EINPROGRESS). A numeric address is
    parsed in place (inet_pton) and connect_ex() returns at once."""
    delay = DNS_DELAY
    seen = ahead("names-namespace-slow-dns")
    took, err, blocking = seen["slow.test"]
    assert errno.errorcode[err] == "EINPROGRESS" and blocking is False
    assert took >= delay
    took, err, _ = seen["127.0.0.1"]
    assert errno.errorcode.get(err, err) in ("EINPROGRESS", 0) and took < delay / 5
    assert seen["queries"] == [1]  # one A query (an AF_INET socket), for slow.test only


@linux_only("user and network namespaces, and glibc's resolver")
@needs("names-namespace")
def test_connect_takes_only_the_first_address_create_connection_tries_each(ahead):
    seen = ahead("names-namespace")
    assert sorted(seen["two.test"]) == ["127.0.0.1", "127.0.0.2"]
    assert seen["connect"] == "ConnectionRefusedError"  # the first address, and no other
    assert seen["create_connection"] == seen["two.test"][1]  # the second one answered


@linux_only("user and network namespaces, and glibc's resolver")
@needs("names-namespace")
def test_glibc_sorts_ipv6_loopback_first_whatever_the_hosts_file_order(ahead):
    """What SNIPPET_HOSTS=localhost=::1,127.0.0.1 stands for: a name with both loopback addresses
    in the hosts file. The IPv4 line comes first there, yet getaddrinfo() returns ::1 first:
    glibc sorts the answers (RFC 3484/6724, gai.conf(5)), it does not keep the file's order."""
    seen = ahead("names-namespace")
    assert seen["dual.test"] == ["::1", "127.0.0.1"]


# asyncio: the lookup runs in a thread of the default executor, never in the loop's thread.


def recorder(stand_in, calls):
    """The stand-in, noting the thread each lookup runs in."""
    stand_in(HOSTS)
    stand = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        calls.append((host, threading.current_thread().name))
        return stand(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # the stand_in fixture's undo restores the real one


def test_asyncio_looks_names_up_in_its_default_executor(stand_in):
    calls = []
    recorder(stand_in, calls)

    async def main(port):
        loop_thread = threading.current_thread().name
        for host in ("localhost", "127.0.0.1"):
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            writer.close()
            await writer.wait_closed()
        with socket.socket() as sock:
            sock.setblocking(False)
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, ("localhost", port)), 5
            )
        return loop_thread

    with socket.create_server(("127.0.0.1", 0)) as listener:
        loop_thread = asyncio.run(main(listener.getsockname()[1]))
    # open_connection("localhost") and sock_connect(("localhost", port)) each resolved once, in
    # an executor thread (ThreadPoolExecutor(thread_name_prefix="asyncio")); "127.0.0.1" never
    # reached getaddrinfo (_ipaddr_info() reads it in place).
    assert [host for host, _ in calls] == ["localhost", "localhost"]
    assert all(re.fullmatch(r"asyncio_\d+", thread) for _, thread in calls), calls
    assert loop_thread == "MainThread"


@TIMING
def test_lookups_beyond_the_executors_threads_wait_their_turn(stand_in):
    """Six lookups of 0.1 s at once, on a loop whose default executor has two threads: three
    rounds, so at least 0.3 s; with six threads, one round."""
    stand_in(HOSTS, delay=0.1)

    async def six_lookups(workers):
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=workers))
        started = time.monotonic()
        lookups = [loop.getaddrinfo("localhost", 80) for _ in range(6)]
        await asyncio.wait_for(asyncio.gather(*lookups), 10)
        return time.monotonic() - started

    two, six = asyncio.run(six_lookups(2)), asyncio.run(six_lookups(6))
    assert two >= 3 * 0.1 and six < two


# create_connection(): each address in turn, one error or all of them.


class FullBacklog:
    """A listener whose accept queue (backlog 0) is full: new SYNs are dropped (Linux)."""

    def __init__(self, host, port=0, family=socket.AF_INET):
        self.listener = socket.create_server((host, port), family=family, backlog=0)
        self.port = self.listener.getsockname()[1]
        self.queued = socket.create_connection((host, self.port), timeout=5)

    def close(self):
        self.queued.close()
        self.listener.close()


def refused_and_silent():
    """(a socket bound to 127.0.0.1 but not listening, a FullBacklog on ::1), on one port. The
    kernel picks the port for 127.0.0.1 and checks nothing on ::1, where a connection of another
    test may hold it: a few ports are tried."""
    for _ in range(10):
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        try:
            return closed, FullBacklog("::1", closed.getsockname()[1], family=socket.AF_INET6)
        except OSError as exc:
            closed.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise AssertionError("no port was free on both 127.0.0.1 and ::1 in 10 tries")


@TIMING
@linux_only("a full accept queue drops the SYN (Windows refuses it)")
def test_create_connection_raises_the_last_error_or_all_of_them(stand_in):
    """::1 never answers (timeout), then 127.0.0.1 refuses: without all_errors only the last
    error (ConnectionRefusedError) comes out; with all_errors=True both, in the order tried, and
    each attempt had the whole timeout."""
    stand_in(HOSTS)
    closed, silent = refused_and_silent()
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("localhost", silent.port), timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ExceptionGroup) as group:
            socket.create_connection(("localhost", silent.port), 0.3, all_errors=True)
        took = time.monotonic() - started
    finally:
        silent.close()
        closed.close()
    assert [type(exc) for exc in group.value.exceptions] == [TimeoutError, ConnectionRefusedError]
    assert took >= 0.3


# IPv6 on this machine.


def test_ipv6_loopback_works_here():
    assert socket.has_ipv6
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
        with socket.create_connection(listener.getsockname()[:2], timeout=5) as client:
            conn, peer = listener.accept()
            with conn:
                assert peer[0] == "::1" and client.family == socket.AF_INET6


@linux_only("binding an IPv6 socket to an IPv4-mapped address")
def test_an_ipv6_socket_serves_ipv4_clients_when_not_v6only():
    """Dual stack: with IPV6_V6ONLY off, an AF_INET6 socket takes IPv4 connections, and sees the
    client as an IPv4-mapped address (::ffff:127.0.0.1). Bound to the mapped loopback address
    here, so nothing listens beyond this machine."""
    assert socket.has_dualstack_ipv6()
    with socket.socket(socket.AF_INET6) as listener:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::ffff:127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(("127.0.0.1", listener.getsockname()[1]), timeout=5):
            listener.settimeout(5)
            conn, peer = listener.accept()
            with conn:
                assert peer[0] == "::ffff:127.0.0.1"


# The snippets without the stand-in: what a reader sees whose hosts file gives "localhost" one
# address (this machine: 127.0.0.1 only) or the two the page shows.


def test_connect_each_address_without_the_stand_in():
    found = addresses("localhost")
    result = run_snippet("connect_each_address", 0)
    assert (result.returncode, result.stderr) == (0, "")
    if found == HOSTS["localhost"]:
        assert result.stdout == printed_output("connect_each_address")
    else:
        errors = ["ConnectionRefusedError"] * len(found)
        assert result.stdout == (
            f"addresses: {found}\n"
            "all_errors=False: ConnectionRefusedError\n"
            f"all_errors=True: {errors}\n"
            "connected to 127.0.0.1\n"
        )


@TIMING
@linux_only("happy_eyeballs.py's silent IPv6 address is a full accept queue")
def test_happy_eyeballs_without_the_stand_in():
    found = addresses("localhost")
    result = run_snippet("happy_eyeballs", 0)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == f"addresses: {found}"
    if "::1" not in found:  # nothing silent to wait for: both connect at once
        for line in lines[1:]:
            seconds = float(re.fullmatch(r".*: connected to 127\.0\.0\.1 after (.*) s", line)[1])
            assert seconds < 0.25


@job("names-lookup-blocks", seconds=3)
def run_lookup_blocks():
    return run_snippet("lookup_blocks", 0)


@needs("names-lookup-blocks")
def test_lookup_blocks_without_the_stand_in(ahead):
    """ "localhost" comes from the hosts file at once: neither loop misses a tick."""
    result = ahead("names-lookup-blocks")
    assert (result.returncode, result.stderr) == (0, "")
    for line in result.stdout.splitlines():
        m = re.fullmatch(
            r"\w+: connected after (.*) s, \d+ ticks in 1\.3 s, longest gap (.*) s", line
        )
        assert m and float(m[1]) < 0.5 and float(m[2]) < 0.5, line
