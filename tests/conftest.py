"""Shared fixtures: the companion server on a free port, and running snippets as a reader would."""

import functools
import http.server
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = ROOT / "snippets"
OUTPUT = SNIPPETS / "output"
HARNESS = Path(__file__).parent / "harness"
DOCS = ROOT / "docs"
LANGS = ("ko", "en")
FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>```|~~~)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)\s*$",
    re.M | re.S,
)
INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^"]+)"\s*$', re.M)
HEADING = re.compile(r"^(#{1,6}) (?P<text>.*)$", re.M)
ANCHOR = re.compile(r"\{ ?#(?P<id>[a-z0-9-]+) ?\}\s*$")


def pages(lang):
    """Every page source of one language: Markdown pages and notebooks."""
    found = [*(DOCS / lang).rglob("*.md"), *(DOCS / lang).rglob("*.ipynb")]
    return sorted(p.relative_to(DOCS / lang).as_posix() for p in found)


def read(lang, page):
    return (DOCS / lang / page).read_text(encoding="utf-8")


def includes(text):
    return INCLUDE.findall(text)


STARTUP_TIMEOUT = 10.0
RUN_TIMEOUT = 20.0

# Client snippets and the server delay each one is checked against. The post's non-blocking
# client must see "no data yet"; a greeting delayed by a second makes that deterministic
# instead of a race with the server process (the page says so).
CLIENTS = {
    "blocking_client": 0.0,
    "nonblocking_client": 1.0,
    "nonblocking_errors": 1.0,
    "peer_closed": 0.0,
    "selectors_client": 0.0,
    "asyncio_client": 0.0,
    "timeout_modes": 0.0,
    "timeout_client": 2.0,
    "nonblocking_connect": 0.0,
    "nonblocking_recv_loop": 0.0,
    "partial_send": 0.0,
    "nonblocking_send": 0.0,
    "echo_client": 0.0,
}
# The step-by-step echo servers, each greeting with its own name.
ECHO_SERVERS = ["echo_threads", "echo_select", "echo_selectors", "echo_asyncio"]
# Snippets that print measurements: their output is recorded, and checked for its shape.
MEASURED = {"busy_wait": 1.0, "many_clients": 0.2}


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    script: str

    @property
    def greeting(self):
        """Every server of this guide greets with its own file name."""
        return f"hello from {self.script}\n".encode()

    def stop(self, signum=signal.SIGTERM, timeout=5.0):
        """Stop with `signum`; return (seconds taken, exit code, stdout, stderr)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()  # never leave a server behind, even when the test fails
            self.process.communicate(timeout=timeout)
            raise
        return time.monotonic() - started, self.process.returncode, self.log.read_text(), stderr


def start_server(log_dir, *args, script="server.py"):
    """Start snippets/<script> on a free port and wait until it says it listens.

    server.py takes `--port 0`; the step-by-step echo servers take the port as their argument.
    """
    port_args = ["--port", "0"] if script == "server.py" else ["0"]
    log = Path(log_dir) / f"{script}-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-W", "error", str(SNIPPETS / script), *port_args, *args],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        match = re.match(r"listening on 127\.0\.0\.1:(\d+)\b", log.read_text())
        if match:
            return Server(process, int(match.group(1)), log, script)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    _, stderr = process.communicate(timeout=5)
    pytest.fail(f"{script} did not start: {log.read_text()!r} {stderr!r}")


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """servers(delay) -> a running companion server with that --delay, shared by the session."""
    running = {}
    log_dir = tmp_path_factory.mktemp("servers")

    def get(delay=0.0):
        if delay not in running:
            running[delay] = start_server(log_dir, "--delay", str(delay))
        return running[delay]

    yield get
    for server in running.values():
        _, code, out, err = server.stop()
        assert (code, err) == (0, ""), out
        assert out.endswith("server stopped\n")


@pytest.fixture
def closed_port():
    """A loopback port with nothing listening: connections to it are refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # bound, never listening: nobody else can take it
        yield holder.getsockname()[1]


def read_line(sock):
    """Receive until a newline; fail if the peer closes first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def run_snippet(name, port, timeout=RUN_TIMEOUT, strict=True, trace=None):
    """Run `python snippets/<name>.py` unchanged, its 127.0.0.1:8080 redirected to `port`.

    `strict` turns warnings into errors, so an unclosed socket shows up on stderr;
    `strict=False` runs with Python's default warning filters, as a reader does. `trace`: a
    file to write the timed socket calls to (see tests/harness/socket_trace.py).
    """
    env = os.environ | {"PYTHONPATH": str(HARNESS), "SNIPPET_PORT": str(port)}
    env.pop("PYTHONWARNINGS", None)
    if trace:
        env["SNIPPET_TRACE"] = str(trace)
    return subprocess.run(
        [sys.executable, *(["-W", "error"] if strict else []), f"snippets/{name}.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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


@pytest.fixture
def output_file(request):
    """check(name, text): the page's output file must equal `text` (--update-examples rewrites)."""

    def check(name, text, shape=None, suffix=".txt"):
        """`shape`: a pattern for measured output; the page keeps its recorded run."""
        path = OUTPUT / f"{name}{suffix}"
        if request.config.getoption("update_examples"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        if shape is None:
            assert path.read_text() == text
        else:
            command, _, recorded = path.read_text().partition("\n")
            assert text.startswith(command + "\n") and shape.fullmatch(recorded), recorded

    return check


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """`mkdocs build --strict` into a temporary folder (never into the working tree)."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"^(WARNING|ERROR) +-", result.stderr, re.M), result.stderr
    return out


@pytest.fixture(scope="session")
def base_url(site):
    """The built site on a free loopback port."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def end_headers(self):
            self.send_header("LinkChecker", "local")  # LinkChecker: no rate limit for this host
            super().end_headers()

    handler = functools.partial(Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        thread.join(timeout=5)
