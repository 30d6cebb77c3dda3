"""Record when each socket call starts and ends, and what it returned or raised.

Installed by sitecustomize when SNIPPET_TRACE names a file; the records are written there as
JSON when the snippet exits. The timeline diagrams are drawn from these records.
"""

import atexit
import errno
import json
import socket
import time

CALLS = ("connect", "connect_ex", "recv", "send", "sendall", "setblocking", "settimeout", "close")


def install(path):
    records = []
    started = time.perf_counter()

    def wrap(name, original):
        def traced(self, *args):
            begin = time.perf_counter() - started
            try:
                result = original(self, *args)
            except OSError as exc:
                code = errno.errorcode.get(exc.errno, "") if exc.errno else ""
                outcome = f"{type(exc).__name__} {code}".strip()
                records.append([name, begin, time.perf_counter() - started, outcome])
                raise
            outcome = "" if result is None else repr(result)
            records.append([name, begin, time.perf_counter() - started, outcome])
            return result

        return traced

    for name in CALLS:
        setattr(socket.socket, name, wrap(name, getattr(socket.socket, name)))

    @atexit.register
    def write():
        with open(path, "w", encoding="utf-8") as out:
            json.dump(records, out)
