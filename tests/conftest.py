"""Fixtures (the companion server, the TLS files, the built site, recorded output) and the
run's hooks; every helper the tests share is in tests/support/."""

import functools
import http.server
import os
import re
import socket
import sys
import threading
from pathlib import Path

import pytest

from support.ahead import CURRENT, REPORT, Runner
from support.marks import LINUX
from support.paths import OUTPUT
from support.processes import NICE, as_in_a_terminal, start_server
from support.site import SITE_PATH
from support.sockets import write_tls_files

# pytest keeps the test modules it has rewritten (its assertion messages) in __pycache__, unless
# Python writes no bytecode (PYTHONDONTWRITEBYTECODE): then every process of every run rewrites
# all of them again, 1.2 s of CPU each. Written while the tests are collected, nothing after.
WRITES_BYTECODE = sys.dont_write_bytecode
sys.dont_write_bytecode = False


def pytest_collection_finish(session):
    sys.dont_write_bytecode = WRITES_BYTECODE


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
    return write_tls_files(tmp_path_factory.mktemp("tls"))


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


def shared_folder(tmp_path_factory, name):
    """A folder every process of this test run sees: under xdist, beside the workers' own."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


@pytest.fixture(scope="session", autouse=True)
def start_jobs(request, tmp_path_factory):
    """Start the job process (support/ahead.py) for the jobs the selected tests read, unless
    another process of the run has; the site build ("site") is one, read by every test that
    takes the `site` fixture."""
    items = request.session.items
    names = {name for item in items for mark in item.iter_markers("ahead") for name in mark.args}
    if any("site" in getattr(item, "fixturenames", ()) for item in items):
        names.add("site")
    if names:
        names.add(REPORT)  # read by test_ahead.py when it is selected
    runner = Runner(shared_folder(tmp_path_factory, "ahead"), current=True)
    runner.start_process(names)
    yield runner
    runner.join()  # under xdist, other workers may still read its jobs, even after -x here


def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C: the job process goes too (the session's teardown may not come)."""
    for runner in CURRENT:
        runner.stop()


# More xdist workers than CPUs (`-n 4` on 2): every worker is busy with tests that compute
# (the waits are jobs), so the CPUs are oversubscribed. Then each worker runs at a lower
# priority (the job process's timed runs come first), and a test timed by the wall clock
# (TIMING) runs while no other worker runs a test: it takes the run's lock exclusively, the
# others share it, one test at a time. A gate lock keeps a waiting timed test from being
# starved by the shared holders. With as many workers as CPUs or fewer, nothing is locked.
CROWDED = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > (os.cpu_count() or 1)


@pytest.fixture(autouse=True)
def alone_when_crowded(request, tmp_path_factory):
    if not CROWDED:
        yield
        return
    import fcntl  # POSIX; xdist's workers outnumber the CPUs only where the suite is tuned

    folder = shared_folder(tmp_path_factory, "locks")
    folder.mkdir(exist_ok=True)
    timed = request.node.get_closest_marker("xdist_group") is not None
    with open(folder / "gate", "a") as gate, open(folder / "run", "a") as run:
        fcntl.flock(gate, fcntl.LOCK_EX if timed else fcntl.LOCK_SH)
        fcntl.flock(run, fcntl.LOCK_EX if timed else fcntl.LOCK_SH)
        if not timed:
            fcntl.flock(gate, fcntl.LOCK_UN)  # a timed test may queue at the gate now
        yield  # closing the files releases the locks


@pytest.fixture
def ahead(start_jobs):
    """ahead(name) -> the result of the job `name` (support/ahead.py), run once per test run."""
    return start_jobs.result


@pytest.fixture(scope="session")
def site(start_jobs):
    """The strictly built site (support/site.py `build_site`): built once per test run, as the
    session starts, shared by every xdist worker."""
    result = start_jobs.result("site")
    assert result["returncode"] == 0, result["stderr"]
    assert not re.search(r"^(WARNING|ERROR) +-", result["stderr"], re.M), result["stderr"]
    return Path(result["out"])


@pytest.fixture(scope="session")
def base_url(site):
    """The built site on a free loopback port, at the path it was built for (SITE_PATH: "/" here,
    "/<repository>/" for the Pages build), so its absolute links resolve as they will there."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

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


def pytest_configure(config):
    """Tests whose bounds are wall-clock times carry `xdist_group("timing")` (TIMING): with
    `--dist loadgroup`, which `nox -s tests` passes, `-n 4` runs them all on one worker, one after
    another, so they never compete with each other for the CPUs. (pytest 9 drops xdist 3.8's
    groups, which set a node id pytest 9 no longer reads: pyproject keeps pytest < 9.)
    """
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker together")
    as_in_a_terminal()  # every child starts with Ctrl-C's default action
    if CROWDED:
        os.nice(NICE)  # see alone_when_crowded
    config.addinivalue_line("markers", "ahead(*jobs): reads these jobs (support/ahead.py)")


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle
def pytest_collection_modifyitems(items):
    """The tests that read jobs (support/ahead.py) run last, in their order: their jobs started
    with the session and have had the rest of the run to finish. (xdist hands tests out in this
    order too.)"""
    items.sort(key=lambda item: item.get_closest_marker("ahead") is not None)


def pytest_sessionfinish(session, exitstatus):
    """On Linux (this project's CI) nothing may skip: a skip there is a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if LINUX and skipped and exitstatus == 0:
        reporter.write_line(f"{len(skipped)} tests skipped on Linux, where nothing may skip")
        session.exitstatus = 1
