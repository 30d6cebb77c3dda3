"""A stand-in resolver: slow lookups, and chosen addresses for a name, without any real DNS.

Installed by sitecustomize when SNIPPET_LOOKUP_DELAY or SNIPPET_HOSTS is set (and in-process by
the tests, with install_from()). It replaces ``socket.getaddrinfo``, which is what
``socket.create_connection``, asyncio's ``loop.getaddrinfo`` and a snippet's own lookups call:

- SNIPPET_LOOKUP_DELAY=1: every lookup of a name (not of a numeric address, which needs no
  lookup) takes that many seconds more, like a slow DNS server;
- SNIPPET_HOSTS=localhost=::1,127.0.0.1: that name gets those addresses, in that order, as
  glibc gives them for a hosts file with both a `::1 localhost` and a `127.0.0.1 localhost` line,
  whatever their order: it sorts the answers, ::1 first (gai.conf(5); tests/test_names.py shows
  it). Several names: separated by `;`. Any other name is resolved by the real getaddrinfo.

It cannot reach a name given to ``socket.connect((name, port))``: that is resolved in C
(Modules/socketmodule.c, setipaddr()), not through ``socket.getaddrinfo``.
"""

import socket
import time


def parse_hosts(text):
    """'a=::1,127.0.0.1;b=127.0.0.1' -> {'a': ['::1', '127.0.0.1'], 'b': ['127.0.0.1']}"""
    hosts = {}
    for entry in filter(None, text.split(";")):
        name, _, addresses = entry.partition("=")
        hosts[name.strip()] = [a.strip() for a in addresses.split(",") if a.strip()]
    return hosts


def is_numeric(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.split("%")[0])
            return True
        except (OSError, ValueError):
            pass
    return False


def install(hosts=None, delay=0.0):
    """Replace socket.getaddrinfo; return an undo function."""
    hosts = hosts or {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or is_numeric(name):
            return real(host, port, family, type, proto, flags)
        time.sleep(delay)
        if name not in hosts:
            return real(host, port, family, type, proto, flags)
        found = []
        for address in hosts[name]:
            try:
                found += real(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:  # an address of another family than the one asked for
                pass
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return found

    socket.getaddrinfo = getaddrinfo

    def undo():
        socket.getaddrinfo = real

    return undo


def install_from(environ):
    """Install from SNIPPET_LOOKUP_DELAY / SNIPPET_HOSTS in `environ`; None if neither is set."""
    delay, hosts = environ.get("SNIPPET_LOOKUP_DELAY"), environ.get("SNIPPET_HOSTS")
    if not (delay or hosts):
        return None
    return install(parse_hosts(hosts or ""), float(delay or 0))
