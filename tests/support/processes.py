"""Snippets and servers as processes: started as a reader starts them, stopped, their output."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

from support.marks import POSIX
from support.paths import HARNESS, ROOT, SNIPPETS
from support.sockets import read_line

# Work whose time no test bounds (the site's builds, the browser) runs this much nicer: on a
# machine kept busy by the whole suite, the CPU goes first to the processes whose time the
# tests bound (a client's "within 5 s", a server's "stops within 1 s").
NICE = 5
COMPANION_GREETING = b"hello from server.py\n"
# The stop of a server a job started only to talk to (a companion, the server beside a fault):
# still a clean exit, within 5x the pages' 1 s. The job stops it while the whole suite keeps the
# CPUs busy; the promise itself is tested where it is the claim (the stop tests, timed alone).
INCIDENTAL = 5.0  # what snippets/server.py sends first
STARTUP_TIMEOUT = 10.0  # seconds for a server to say it listens
RUN_TIMEOUT = 20.0  # seconds for a snippet to finish


class Stopped(NamedTuple):
    """A stopped server: seconds from the signal to its exit, its exit status, stdout, stderr."""

    seconds: float
    code: int
    out: str
    err: str

    def assert_clean(self, script, err="", within=1.0):
        """Exit 0 with `err` on stderr (nothing, by default), "server stopped" last, within 1 s
        (the pages' promise; INCIDENTAL for a server whose stop is not what the test is about)."""
        assert (self.code, self.err) == (0, err), f"{script}: exit {self.code}, stderr {self.err!r}"
        assert self.out.endswith("server stopped\n"), self.out[-200:]
        assert self.seconds < within, f"{script} took {self.seconds:.2f} s to stop"


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path  # its stdout
    err: Path  # its stderr
    script: str
    client_env: dict = field(default_factory=dict)  # what its clients need (SSL_CERT_FILE)

    @property
    def greeting(self):
        """Every server of this guide greets with its own file name."""
        return f"hello from {self.script}\n".encode()

    def connect(self, timeout=5.0):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def assert_serving(self):
        """A new client gets the greeting and its echo."""
        with self.connect() as sock:
            assert read_line(sock) == self.greeting
            sock.sendall(b"still there?\n")
            assert read_line(sock) == b"still there?\n"

    def stop_cleanly(self, signum=signal.SIGTERM, within=1.0):
        """Stop it; on POSIX it must exit 0 within a second, "server stopped" last, no stderr.

        (On Windows SIGTERM is TerminateProcess(): there is no clean stop to check.)
        """
        stopped = self.stop(signum)
        if POSIX:
            stopped.assert_clean(self.script, within=within)
        return stopped

    def connections(self):
        """How many connections the companion server has logged so far."""
        return len(re.findall(r"^client \d+ connected$", self.log.read_text(), re.M))

    def stop(self, signum=signal.SIGTERM, timeout=5.0):
        """Stop with `signum`; what it did: Stopped(seconds, code, out, err)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()  # never leave a server behind, even when the test fails
            self.process.wait(timeout=timeout)
            raise
        seconds = time.monotonic() - started
        return Stopped(seconds, self.process.returncode, self.log.read_text(), self.err.read_text())


def as_in_a_terminal():
    """Ctrl-C (SIGINT) does in the children of this process what it does in a terminal.

    A shell that starts the test run in the background sets SIGINT to "ignored", children
    inherit that, and Python then installs no KeyboardInterrupt handler: a server relying on
    Python's own Ctrl-C handling (Windows' asyncio) would never see the signal. A signal this
    process *handles* is reset to its default action by exec, so with Python's own handler here
    every child starts as it would in a terminal, with no preexec_fn: that makes subprocess
    fork the whole test process (14 ms of CPU for each child of a 170 MB worker, against 1 ms
    for the vfork it uses otherwise). Called by conftest.py's pytest_configure (main thread).
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


PORT_OPTION = ("server.py", "tls_server.py")  # the servers that take `--port N`


def start_server(log_dir, *args, script="server.py", wrapper=None, nofile=None, strict=True):
    """Start snippets/<script> on a free port and wait until it says it listens.

    server.py and tls_server.py take `--port 0`; the step-by-step servers take the port as their
    argument.
    `wrapper`: a Python file run first, which runs the snippet as __main__ (it takes the
    snippet's path as its first argument); `nofile`: the server's RLIMIT_NOFILE (POSIX);
    `strict=False`: Python's default warning filters, as a reader runs it (a server that ends
    with a traceback then shows only that, not a ResourceWarning per socket left open).
    """
    port_args = ["--port", "0"] if script in PORT_OPTION else ["0"]
    # -u: unbuffered, so a line is in the log the moment it is printed (no flush=True in the
    # snippets: a reader's terminal does not need it).
    command = [sys.executable, "-u", *(["-W", "error"] if strict else [])]
    command += [str(wrapper)] if wrapper else []
    command += [str(SNIPPETS / script), *port_args, *args]
    log = Path(log_dir) / f"{script}-{time.monotonic_ns()}.log"
    err = log.with_suffix(".err")

    # The descriptor limit: set on the running server where Linux can (prlimit), before any
    # client connects (start_server returns only once it listens); elsewhere in the child.
    limit = (nofile, nofile) if nofile else None
    if limit:
        import resource  # POSIX only, as `nofile` is

    later = limit is not None and hasattr(resource, "prlimit")

    def in_the_child():
        resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    with log.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            preexec_fn=in_the_child if limit and not later else None,
        )
    if later:
        resource.prlimit(process.pid, resource.RLIMIT_NOFILE, limit)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)\b", log.read_text())
        if match:
            return Server(process, int(match.group(1)), log, err, script)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=5)
    pytest.fail(f"{script} did not start: {log.read_text()!r} {err.read_text()!r}")


@contextlib.contextmanager
def own_server(*args, **kwargs):
    """start_server(log_dir, *args, **kwargs) for a job (support/ahead.py), which has no fixtures:
    its logs in a temporary folder, removed afterwards; unless the job stopped it itself, it is
    stopped with stop_cleanly() as the block ends (a server that does not stop cleanly fails
    the job), and never left running."""
    with tempfile.TemporaryDirectory(prefix="job-server-") as log_dir:
        server = start_server(log_dir, *args, **kwargs)
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.stop_cleanly(within=INCIDENTAL)


def lower_priority(command):
    """`command`, run at NICE where there is a `nice` command (POSIX)."""
    nice = shutil.which("nice")
    return [nice, "-n", str(NICE), *command] if nice else list(command)


def run_snippet(name, port, timeout=RUN_TIMEOUT, strict=True, trace=None, flags=(), env=None):
    """Run `python snippets/<name>.py` unchanged, its 127.0.0.1:8080 (and :8443) redirected to
    `port`; `env`: more environment variables (a TLS client's SSL_CERT_FILE).

    `strict` turns warnings into errors, so an unclosed socket shows up on stderr;
    `strict=False` runs with Python's default warning filters, as a reader does. `trace`: a
    file to write the timed socket calls to (see tests/harness/socket_trace.py). `flags`: more
    interpreter options (`-I` shows what happens when the redirect is not loaded).
    """
    args, env = snippet_command(name, port, strict, trace, flags, env)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def snippet_command(name, port, strict=True, trace=None, flags=(), env=None):
    """The command line and environment run_snippet() runs `snippets/<name>.py` with (for a
    test that starts several snippets at once with subprocess.Popen, cwd=ROOT)."""
    env = os.environ | {"PYTHONPATH": str(HARNESS), "SNIPPET_PORT": str(port)} | (env or {})
    env["PYTHONUNBUFFERED"] = "1"  # output in order, as a terminal shows it; no flush=True
    env.pop("PYTHONWARNINGS", None)
    if trace:
        env["SNIPPET_TRACE"] = str(trace)
    args = [sys.executable, *flags, *(["-W", "error"] if strict else []), f"snippets/{name}.py"]
    return args, env


def printed_output(name):
    """What the snippet's `#>` lines say it prints."""
    lines = (SNIPPETS / f"{name}.py").read_text().splitlines()
    return "".join(m.group(1) + "\n" for line in lines if (m := re.match(r"\s*#> ?(.*)", line)))


def transcript(command, stdout, stderr=""):
    """A terminal session as the page shows it; a traceback's frames become `  ...`."""
    lines = stderr.splitlines()
    if lines and lines[0] == "Traceback (most recent call last):":
        stderr = f"{lines[0]}\n  ...\n{lines[-1]}\n"
    return f"$ {command}\n{stdout}{stderr}"


def wait_for(predicate, timeout=5.0, interval=0.01):
    """Poll `predicate` until it is true (instead of sleeping a fixed time); fail after
    `timeout` seconds, naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{predicate.__doc__ or predicate} within {timeout} s"
        time.sleep(interval)
