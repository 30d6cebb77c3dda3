"""Shared fixtures: the companion server on a free port, and running snippets as a reader would."""

import functools
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from platform_marks import LINUX, POSIX

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

    def stop_cleanly(self, signum=signal.SIGTERM):
        """Stop it; on POSIX it must exit 0 within a second, "server stopped" last, no stderr.

        (On Windows SIGTERM is TerminateProcess(): there is no clean stop to check.)
        """
        seconds, code, out, err = self.stop(signum)
        if POSIX:
            assert (code, err) == (0, ""), f"{self.script}: exit {code}, stderr {err!r}"
            assert out.endswith("server stopped\n"), out[-200:]
            assert seconds < 1, f"{self.script} took {seconds:.2f} s to stop"

    def connections(self):
        """How many connections the companion server has logged so far."""
        return len(re.findall(r"^client \d+ connected$", self.log.read_text(), re.M))

    def stop(self, signum=signal.SIGTERM, timeout=5.0):
        """Stop with `signum`; return (seconds taken, exit code, stdout, stderr)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()  # never leave a server behind, even when the test fails
            self.process.wait(timeout=timeout)
            raise
        seconds = time.monotonic() - started
        return seconds, self.process.returncode, self.log.read_text(), self.err.read_text()


def as_in_a_terminal():
    """In a server's child process: SIGINT does what Ctrl-C does in a terminal.

    A shell that starts the test run in the background sets SIGINT to "ignored", children
    inherit that, and Python then installs no KeyboardInterrupt handler: a server relying on
    Python's own Ctrl-C handling (Windows' asyncio) would never see the signal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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

    def in_the_child():
        as_in_a_terminal()
        if nofile:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with log.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            text=True,
            cwd=ROOT,
            preexec_fn=in_the_child if POSIX else None,
        )
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
        server.stop_cleanly()


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A throwaway CA (trustme) and a certificate it signed for 127.0.0.1: paths ca, cert, key.

    No key is committed: every run makes new ones. A client trusts the CA through OpenSSL's
    SSL_CERT_FILE, which ssl.create_default_context() honours, as a reader's would.
    """
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    issued.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for pem in issued.cert_chain_pems[1:]:
        pem.write_to_path(str(paths["cert"]), append=True)
    issued.private_key_pem.write_to_path(str(paths["key"]))
    return paths


# The arguments each server snippet is started with when it is a client's `against` (catalog).
COMPANION_ARGS = {
    "tls_server": lambda tls: ["--cert", str(tls["cert"]), "--key", str(tls["key"])],
}


@pytest.fixture(scope="session")
def companions(servers, tls, tmp_path_factory):
    """companions(row) -> the running server a catalog row's client is checked against: the
    companion server with the row's --delay, or the server snippet named by `against`, started
    once per session, with the environment its clients need in `client_env`."""
    running = {}
    log_dir = tmp_path_factory.mktemp("companions")

    def get(row):
        if row.against == "server":
            return servers(row.delay)
        if row.against not in running:
            args = COMPANION_ARGS.get(row.against, lambda tls: [])(tls)
            server = start_server(log_dir, *args, script=f"{row.against}.py")
            if row.against.startswith("tls_"):
                server.client_env["SSL_CERT_FILE"] = str(tls["ca"])
            running[row.against] = server
        return running[row.against]

    yield get
    for server in running.values():
        server.stop_cleanly()


@pytest.fixture
def closed_port():
    """A loopback port with nothing listening: connections to it are refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # bound, never listening: nobody else can take it
        yield holder.getsockname()[1]


def open_fds():
    """This process's open descriptors (Linux, macOS); an empty list where it cannot tell."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(folder):
            return sorted(os.listdir(folder))
    return []


def read_line(sock):
    """Receive until a newline; fail if the peer closes first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


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


# The address the site is built for (mkdocs.yml reads SITE_URL): the sitemap's and 404 page's.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000/")
SITE_PATH = urlsplit(SITE_URL).path or "/"  # where the site's absolute links start
BUILD_TIMEOUT = 120.0


def build_site_once(folder, out):
    """`mkdocs build --strict` into `out`, once for every process of the test run.

    Each xdist worker has its own session fixtures, so "once" is arranged in the file system:
    the first process to create `folder`/building builds, then writes the outcome to
    `folder`/build.json with an atomic rename; the others poll for that file. A failed build
    fails every site test with the same message, and nobody waits for a crashed builder longer
    than BUILD_TIMEOUT.
    """
    outcome = folder / "build.json"
    try:
        (folder / "building").mkdir(parents=True)
    except FileExistsError:
        deadline = time.monotonic() + BUILD_TIMEOUT
        while not outcome.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"no site build finished in {folder} within {BUILD_TIMEOUT} s")
            time.sleep(0.05)
    else:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
            cwd=ROOT,
            env=os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": SITE_URL},
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        written = {
            "returncode": result.returncode,
            "stderr": result.stderr,
            "seconds": round(time.monotonic() - started, 2),
            "builder": os.environ.get("PYTEST_XDIST_WORKER", "controller"),
        }
        partial = outcome.with_suffix(".partial")
        partial.write_text(json.dumps(written))
        partial.replace(outcome)
    return json.loads(outcome.read_text())


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The strictly built site: built once per test run, shared by every xdist worker.

    It goes to the run's temporary folder (under xdist, the one that holds every worker's
    folder), never into the working tree, unless TESTED_SITE_DIR names a folder: the Pages
    workflow builds there and publishes that tested build.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-site"
    out = Path(os.environ.get("TESTED_SITE_DIR") or folder / "site").resolve()
    result = build_site_once(folder, out)
    assert result["returncode"] == 0, result["stderr"]
    assert not re.search(r"^(WARNING|ERROR) +-", result["stderr"], re.M), result["stderr"]
    return out


@pytest.fixture(scope="session")
def base_url(site):
    """The built site on a free loopback port, at the path it was built for (SITE_PATH: "/" here,
    "/<repository>/" for the Pages build), so its absolute links resolve as they will there."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def end_headers(self):
            self.send_header("LinkChecker", "local")  # LinkChecker: no rate limit for this host
            super().end_headers()

        def translate_path(self, path):
            if not path.startswith(SITE_PATH):
                return str(site / "no such file")  # outside the site: 404
            return super().translate_path("/" + path[len(SITE_PATH) :])

    handler = functools.partial(Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}{SITE_PATH.rstrip('/')}"
        server.shutdown()
        thread.join(timeout=5)


TIMING = pytest.mark.xdist_group("timing")  # see pytest_configure


def pytest_configure(config):
    """Tests whose bounds are wall-clock times carry `xdist_group("timing")` (TIMING): with
    `--dist loadgroup`, which `nox -s tests` passes, `-n 4` runs them all on one worker, one after
    another, so they never compete with each other for the CPUs. (pytest 9 drops xdist 3.8's
    groups, which set a node id pytest 9 no longer reads: pyproject keeps pytest < 9.)
    """
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker together")


def pytest_sessionfinish(session, exitstatus):
    """On Linux (this project's CI) nothing may skip: a skip there is a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if LINUX and skipped and exitstatus == 0:
        reporter.write_line(f"{len(skipped)} tests skipped on Linux, where nothing may skip")
        session.exitstatus = 1
