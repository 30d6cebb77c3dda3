"""Every snippet, run exactly as a reader runs it, prints what its page shows.

Which snippets run, against which server and with which expected output: tests/support/catalog.py.

The runs that mostly wait are jobs (support/ahead.py): they start as the session starts, each
with a companion server of its own, and the tests check what they returned. One more is a job
for another reason: ruff lints every snippet in one run instead of forty (RUFF).
"""

import functools
import gc
import json
import re
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from textwrap import indent

import pytest
import redirect
import resolver
from pytest_examples import CodeExample
from pytest_examples.config import ExamplesConfig
from ruff.__main__ import find_ruff_bin

from support.ahead import job, needs
from support.catalog import CATALOG, CLIENTS, REFUSED_HINT, names, params
from support.marks import linux_only
from support.paths import ROOT, SNIPPETS
from support.processes import own_server, printed_output, run_snippet, transcript
from support.sockets import open_fds

ON_THE_PAGE = names(output="#>")  # checked byte for byte against their `#>` lines


def snippet_env(row, server):
    """The environment a row's snippet runs with: its server's client_env, then its own env."""
    return {**(server.client_env if server else {}), **row.env}


def command_line(name):
    """The command a recorded run shows; a row's env (a stand-in) loads from tests/harness."""
    env = CATALOG[name].env
    prefix = [f"{key}={value}" for key, value in env.items()]
    prefix += ["PYTHONPATH=tests/harness"] if env else []
    return " ".join([*prefix, f"python snippets/{name}.py"])


def test_every_snippet_is_in_the_catalog():
    files = sorted(p.stem for p in SNIPPETS.glob("*.py"))
    missing = [f"snippets/{name}.py" for name in files if name not in CATALOG]
    assert not missing, (
        f"{', '.join(missing)}: no row in tests/support/catalog.py, so no test runs it. "
        "Add one (README: Adding a snippet)."
    )
    stale = [name for name in CATALOG if name not in files]
    assert not stale, f"tests/support/catalog.py has rows for missing files: {stale}"


@pytest.mark.parametrize("name", ON_THE_PAGE)
def test_snippet_has_output_lines(name):
    """A snippet without `#>` lines would pass the next test by printing nothing."""
    assert printed_output(name), (
        f"snippets/{name}.py has no `#>` lines, "
        "but tests/support/catalog.py says its output is `#>`"
    )


@dataclass
class Ran:
    """A snippet's run, and how many connections reached its server meanwhile (0: a demo)."""

    result: subprocess.CompletedProcess
    reached: int


def connections_reached(server, before, expected):
    """The connections the companion server logged since `before`, once it has logged `expected`
    or 5 s have passed (it may log a connection just after a short client has left)."""
    deadline = time.monotonic() + 5
    while server.connections() - before < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.connections() - before


def assert_connections(reached, expected, name):
    """Exactly the connections the catalog expects of `name` reached the companion server."""
    assert reached == expected, (
        f"snippets/{name}.py: {reached} connections reached the test "
        f"server, tests/support/catalog.py expects {expected}"
    )


def run_against(name, server):
    """Run snippet `name` as the catalog says, against `server` (None for a demo)."""
    row = CATALOG[name]
    before = server.connections() if server else 0
    result = run_snippet(name, server.port if server else 0, env=snippet_env(row, server))
    return Ran(result, connections_reached(server, before, row.connections) if server else 0)


def in_a_job(name):
    """run_against() in a job: a client against a companion server of the job's own."""
    row = CATALOG[name]
    if row.kind != "client":
        return run_against(name, None)
    assert row.against == "server", f"{name}: a job starts only snippets/server.py"
    with own_server("--delay", str(row.delay)) as server:
        return run_against(name, server)


def with_jobs(selected, job_of):
    """params(selected), each also marked as reading its job, job_of(name), if it has one."""
    marked = []
    for param in params(selected):
        (name,) = param.values
        marks = [*param.marks, needs(job_of(name))] if job_of(name) else param.marks
        marked.append(pytest.param(name, marks=marks))
    return marked


# The `#>` runs that mostly wait (seconds): timeout_client waits out its 0.5 s timeout for a
# greeting delayed by 2 s, eintr_retry sleeps around its signal. The others take 50-100 ms, most
# of it CPU (a Python starting), and run in the test.
WAITING = {"timeout_client": 0.7, "eintr_retry": 0.5}


def page_job(name):
    return f"snippets-page-{name}" if name in WAITING else None


for _name, _seconds in WAITING.items():
    job(page_job(_name), seconds=_seconds)(functools.partial(in_a_job, _name))


# A `#>` line that shows a measured duration: timeout_client.py's "TimeoutError after 0.5 s".
DURATION = re.compile(r"after (\d+\.\d) s\b")


def assert_prints(printed, expected, message):
    """`printed` is `expected` byte for byte, except that a duration a `#>` line shows ("after
    0.5 s") may come out longer in the run, up to 5x, never shorter: on a busy machine a process
    may wake a little after its timeout (0.55 s prints 0.6)."""
    texts, shown = DURATION.split(expected)[::2], DURATION.findall(expected)
    pattern = r"after (\d+\.\d) s\b".join(re.escape(text) for text in texts)
    match = re.fullmatch(pattern, printed)
    assert match, f"{message}\n{printed!r} is not\n{expected!r}"
    for seconds, measured in zip(shown, match.groups(), strict=True):
        assert float(seconds) <= float(measured) < 5 * float(seconds), f"{message}: {measured} s"


def test_measured_durations_may_be_longer_never_shorter():
    """assert_prints() fails on any other difference."""
    expected = "timeout: 0.5\nTimeoutError after 0.5 s: timed out\n"
    assert_prints(expected, expected, "same")
    assert_prints(expected.replace("0.5 s", "0.6 s"), expected, "busier")
    for printed in [
        expected.replace("0.5 s", "0.4 s"),  # sooner than the timeout
        expected.replace("0.5 s", "2.5 s"),  # 5x
        expected.replace("timed out", "timed out!"),
        expected.replace("timeout: 0.5", "timeout: 0.6"),  # not a duration
        expected[:-1],
    ]:
        with pytest.raises(AssertionError):
            assert_prints(printed, expected, "different")


@pytest.mark.parametrize("name", with_jobs(ON_THE_PAGE, page_job))
def test_prints_what_the_page_shows(name, companions, ahead):
    """Run against the server the catalog names (a demo needs none); every connection must
    reach it."""
    row = CATALOG[name]
    if page_job(name):
        ran = ahead(page_job(name))
    else:
        ran = run_against(name, companions(row) if row.kind == "client" else None)
    result = ran.result
    assert (result.returncode, result.stderr) == (0, ""), f"snippets/{name}.py failed"
    assert_prints(
        result.stdout,
        printed_output(name),
        f"snippets/{name}.py printed something other than its `#>` lines "
        f"(run as tests/support/catalog.py says: {row})",
    )
    if row.kind == "client":
        assert_connections(ran.reached, row.connections, name)


@dataclass
class NotLoaded:
    right_after: int  # connections 0.2 s after the run
    reached: int  # what connections_reached() saw, waiting its 5 s for the one expected


NOT_LOADED = "snippets-redirect-not-loaded"


@job(NOT_LOADED, seconds=5.3)
def run_without_the_redirect():
    """timeout_client under `python -I`, against a server of the job's own; then
    connections_reached() waits its full 5 s for the connection that never comes."""
    with own_server("--delay", "0.0") as server:
        before = server.connections()
        run_snippet("timeout_client", server.port, flags=["-I"])  # goes to the real :8080, if any
        time.sleep(0.2)
        right_after = server.connections() - before
        return NotLoaded(right_after, connections_reached(server, before, 1))


@needs(NOT_LOADED)
def test_a_redirect_that_is_not_loaded_is_caught(ahead):
    """`python -I` ignores PYTHONPATH, so the redirect does not load: the check above sees it."""
    ran = ahead(NOT_LOADED)
    assert ran.right_after == 0
    with pytest.raises(AssertionError, match="0 connections reached the test server"):
        assert_connections(ran.reached, 1, "timeout_client")


LINTED = sorted(p.stem for p in SNIPPETS.glob("*.py"))
# The snippets whose `#>` lines pytest-examples also checks in-process.
IN_PROCESS = [n for n in LINTED if n in ON_THE_PAGE and sys.platform in CATALOG[n].platforms]
LINT_CONFIG = {"quotes": "either", "line_length": 88, "target_version": "py311"}
RUFF = "snippets-ruff"


@job(RUFF, seconds=0.2)
def lint_every_snippet():
    """{name: ruff's findings, "" for none}, from one `ruff check` over every snippet.

    pytest-examples (lint_ruff) starts one per snippet, its source on stdin, with the options of
    LINT_CONFIG (ExamplesConfig.ruff_config()) and the project's configuration. This is that
    run, once: the same options, the same configuration, and no per-file ignores, which ruff
    does not apply to a source read from stdin (its path is "-").
    """
    options = ExamplesConfig(**LINT_CONFIG).ruff_config()
    paths = [f"snippets/{name}.py" for name in LINTED]
    done = subprocess.run(
        [find_ruff_bin(), "check", "--no-cache", "--output-format=json"]
        + ["--config", "lint.per-file-ignores = {}", *options, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), f"ruff: exit {done.returncode}\n{done.stderr}"
    findings = dict.fromkeys(LINTED, "")
    for found in json.loads(done.stdout):
        where = Path(found["filename"])
        row, column = found["location"]["row"], found["location"]["column"]
        code = f"{found['code']} " if found["code"] else ""
        findings[where.stem] += f"snippets/{where.name}:{row}:{column}: {code}{found['message']}\n"
    assert (done.returncode == 1) == any(findings.values()), done.stdout
    return findings


@pytest.mark.parametrize("name", [pytest.param(name, marks=needs(RUFF)) for name in LINTED])
def test_snippet_lint_and_print_check(name, eval_example, companions, monkeypatch, capsys, ahead):
    """Each snippet is linted (RUFF: one ruff run for all, as pytest-examples lints each) and
    run in this process by pytest-examples, which checks its `#>` lines (--update-examples
    rewrites both); it leaves no descriptor open and no thread running. A snippet whose `#>`
    lines show a measured duration has its prints compared by assert_prints(): pytest-examples'
    print check compares byte for byte. (The jobs run in a process of their own: this process's
    descriptors and threads are the test's.)"""
    path = SNIPPETS / f"{name}.py"
    example = CodeExample.create(path.read_text(), path=path)
    eval_example.set_config(**LINT_CONFIG)
    if eval_example.update_examples:
        eval_example.format_ruff(example)
    elif findings := ahead(RUFF)[name]:
        pytest.fail(f"ruff failed:\n{indent(findings, '  ')}", pytrace=False)
    if name not in IN_PROCESS:
        return
    row = CATALOG[name]
    server = companions(row) if row.kind == "client" else None
    for key, value in (server.client_env if server else {}).items():
        monkeypatch.setenv(key, value)
    port = server.port if server else 0
    fds, threads = open_fds(), threading.enumerate()
    undo = redirect.install(port)
    undo_resolver = resolver.install_from(row.env)  # the stand-in its env asks for, if any
    try:
        as_main = {"__name__": "__main__"}
        if eval_example.update_examples:
            eval_example.run_print_update(example, module_globals=as_main)
        elif DURATION.search(printed_output(name)):
            capsys.readouterr()
            eval_example.run(example, module_globals=as_main)
            assert_prints(capsys.readouterr().out, printed_output(name), f"snippets/{name}.py")
        else:
            eval_example.run_print_check(example, module_globals=as_main)
    finally:
        undo()
        if undo_resolver:
            undo_resolver()
    gc.collect()  # an unclosed socket would now raise ResourceWarning (an error here)
    assert open_fds() == fds, "file descriptors left open"
    assert threading.enumerate() == threads, "threads left running"


@pytest.mark.parametrize("name", params(n for n in CLIENTS if CATALOG[n].no_server != "traceback"))
def test_our_client_with_no_server_explains(name, closed_port, output_file):
    started = time.monotonic()
    result = run_snippet(name, closed_port)
    assert time.monotonic() - started < 5
    expected = CATALOG[name].no_server
    if expected == "hint":
        expected = (1, "", REFUSED_HINT)
    assert (result.returncode, result.stdout, result.stderr) == expected
    output_file(
        f"{name}-no-server",
        transcript(f"python snippets/{name}.py", result.stdout, result.stderr),
    )


POST_FAILS_AT = {  # the post's snippets with no server: the line the traceback points at
    "blocking_client": ("", "sock.connect(('127.0.0.1', 8080))"),
    "nonblocking_client": ("연결 시도 중...\n", "data = sock.recv(1024)"),
}


@pytest.mark.parametrize("name", names(no_server="traceback"))
@linux_only("the page shows Linux's error number, [Errno 111]")
def test_post_client_with_no_server(name, closed_port, output_file):
    """The post's snippets end in ConnectionRefusedError and leave their socket unclosed."""
    stdout, failing_line = POST_FAILS_AT[name]
    started = time.monotonic()
    result = run_snippet(name, closed_port, strict=False)
    assert time.monotonic() - started < 5
    assert (result.returncode, result.stdout) == (1, stdout)
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert f"    {failing_line}" in result.stderr
    assert result.stderr.endswith("\nConnectionRefusedError: [Errno 111] Connection refused\n")
    output_file(
        f"{name}-no-server", transcript(f"python snippets/{name}.py", stdout, result.stderr)
    )

    strict = run_snippet(name, closed_port)
    assert "ResourceWarning: unclosed <socket.socket" in strict.stderr


class OtherGreetingServer(socketserver.ThreadingTCPServer):
    """Not our server: another greeting line, then an echo, like any greeting server on :8080."""

    daemon_threads = True
    greeting = b"220 some other server ready\n"

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.server.connections += 1
            self.request.settimeout(5)
            self.request.sendall(self.server.greeting)
            while data := self.request.recv(4096):
                self.request.sendall(data)

    def __init__(self):
        self.connections = 0
        super().__init__(("127.0.0.1", 0), self.Handler)


@pytest.mark.parametrize("name", names(everywhere=True))
def test_clients_work_with_another_greeting_server(name):
    with OtherGreetingServer() as server:
        # Polled every 50 ms, not 0.5 s: shutdown() waits for the loop to look.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            result = run_snippet(name, server.server_address[1])
            expected, deadline = CATALOG[name].connections, time.monotonic() + 5
            while server.connections < expected and time.monotonic() < deadline:
                time.sleep(0.01)  # serve_forever() may accept just after a short client has left
            assert server.connections == expected
        finally:
            server.shutdown()
            thread.join(timeout=5)
    assert (result.returncode, result.stderr) == (0, "")
    expected = printed_output(name).replace(
        r"hello from server.py\n", r"220 some other server ready\n"
    )
    assert result.stdout == expected


SECONDS = r"\d+\.\d\d"
BUSY_WAIT = re.compile(
    rf"busy loop: (?P<spins>[\d,]+) calls, (?P<busy_cpu>{SECONDS}) s of CPU "
    rf"in (?P<busy_wall>{SECONDS}) s, b'hello from server.py\\n'\n"
    rf"selectors: (?P<calls>\d+) calls, (?P<sel_cpu>{SECONDS}) s of CPU "
    rf"in (?P<sel_wall>{SECONDS}) s, b'hello from server.py\\n'\n"
)


def busy_wait_burns_cpu_and_selectors_does_not(m, delay):
    assert int(m["spins"].replace(",", "")) > 10_000
    # On an idle machine the busy loop keeps a CPU at 100 %; on a loaded one it still burns
    # whatever share it gets, while selectors sleeps.
    busy_cpu = float(m["busy_cpu"])
    assert busy_cpu >= max(0.05, 10 * float(m["sel_cpu"])) and float(m["busy_wall"]) >= 0.9
    assert int(m["calls"]) <= 3 and float(m["sel_cpu"]) <= 0.05 and float(m["sel_wall"]) >= 0.9


MANY_CLIENTS = re.compile(
    rf"sequential: 10 clients in (?P<sequential>{SECONDS}) s\n"
    rf"threads: 10 clients in (?P<threads>{SECONDS}) s\n"
    rf"selectors: 10 clients in (?P<selectors>{SECONDS}) s\n"
    rf"asyncio: 10 clients in (?P<asyncio>{SECONDS}) s\n"
)


def many_clients_one_after_another_or_all_at_once(m, delay):
    sequential = float(m["sequential"])
    assert 10 * delay <= sequential < 5 * 10 * delay  # one greeting delay after another
    for way in ("threads", "selectors", "asyncio"):  # all at once: about one delay
        assert delay <= float(m[way]) < 5 * delay and sequential > 2 * float(m[way]), way


WRITE_SPIN = re.compile(
    rf"EVENT_WRITE kept: (?P<kept>[\d,]+) wake-ups, (?P<kept_cpu>{SECONDS}) s of CPU "
    rf"in (?P<kept_wall>{SECONDS}) s\n"
    rf"EVENT_WRITE dropped: (?P<dropped>[\d,]+) wake-ups, (?P<dropped_cpu>{SECONDS}) s of CPU "
    rf"in (?P<dropped_wall>{SECONDS}) s\n"
)


def idle_write_interest_spins_and_dropping_it_sleeps(m, delay):
    """readiness.md#write-spin: the same idle socket for 0.5 s each. With EVENT_WRITE kept and
    nothing to send, select() returns at once, again and again, and the loop burns whatever
    CPU it gets; with EVENT_WRITE dropped, select() never returns early."""
    assert int(m["kept"].replace(",", "")) > 1_000
    assert int(m["dropped"].replace(",", "")) == 0
    kept_cpu, dropped_cpu = float(m["kept_cpu"]), float(m["dropped_cpu"])
    assert kept_cpu >= max(0.02, 10 * dropped_cpu) and dropped_cpu <= 0.05
    for wall in ("kept_wall", "dropped_wall"):  # each loop ran its 0.5 s, no longer than 5x
        assert 0.49 <= float(m[wall]) < 2.5, wall


LOOKUP_BLOCKS = re.compile(
    rf"selectors: connected after (?P<sel_connected>{SECONDS}) s, \d+ ticks in 1\.3 s, "
    rf"longest gap (?P<sel_gap>{SECONDS}) s\n"
    rf"asyncio: connected after (?P<aio_connected>{SECONDS}) s, \d+ ticks in 1\.3 s, "
    rf"longest gap (?P<aio_gap>{SECONDS}) s\n"
)


def a_lookup_stops_the_selectors_loop_but_not_asyncio(m, delay):
    """names.md#lookup-blocks: every lookup takes 1 s (the row's stand-in); the heartbeat ticks
    every 0.1 s whenever its loop is free. Both connect only after the lookup; the selectors
    loop misses every tick meanwhile, asyncio's heartbeat never waits 5 ticks' time."""
    lookup = float(CATALOG["lookup_blocks"].env["SNIPPET_LOOKUP_DELAY"])
    assert float(m["sel_connected"]) >= lookup and float(m["aio_connected"]) >= lookup
    assert float(m["sel_gap"]) >= lookup  # no tick while socket.getaddrinfo() ran
    assert float(m["aio_gap"]) < 5 * 0.1 <= lookup / 2


HAPPY_EYEBALLS = re.compile(
    r"addresses: \['::1', '127\.0\.0\.1'\]\n"
    rf"happy_eyeballs_delay=0\.25: connected to 127\.0\.0\.1 after (?P<staggered>{SECONDS}) s\n"
    r"one after another: no connection within 1\.5 s\n"
)


def the_second_address_starts_after_the_delay(m, delay):
    """names.md#happy-eyeballs: ::1 never answers. With the delay, 127.0.0.1 is tried 0.25 s
    later and connects (well within 5x that); one after another, the 1.5 s timeout ends the wait
    for ::1 first (the shape)."""
    assert 0.25 <= float(m["staggered"]) < 5 * 0.25


MEASURED = {  # name: (the shape of its output, what its figures must show)
    "busy_wait": (BUSY_WAIT, busy_wait_burns_cpu_and_selectors_does_not),
    "many_clients": (MANY_CLIENTS, many_clients_one_after_another_or_all_at_once),
    "write_spin": (WRITE_SPIN, idle_write_interest_spins_and_dropping_it_sleeps),
    "lookup_blocks": (LOOKUP_BLOCKS, a_lookup_stops_the_selectors_loop_but_not_asyncio),
    "happy_eyeballs": (HAPPY_EYEBALLS, the_second_address_starts_after_the_delay),
}


# Each measured run is a job: it times a second or two of waiting (a delayed greeting, a slow
# lookup, a silent address). busy_wait and write_spin also burn a CPU for 1 s and 0.5 s, whatever
# runs beside them: their checks hold on a loaded machine (what the busy loop burns is measured
# against what selectors burns, not against the wall clock), and the CPU they take is the same in
# the foreground. About how long each takes, the longest first:
MEASURED_SECONDS = {"many_clients": 3, "lookup_blocks": 3, "busy_wait": 2, "happy_eyeballs": 2}


def measured_job(name):
    return f"snippets-measured-{name}"


for _name in names(output="measured"):
    job(measured_job(_name), seconds=MEASURED_SECONDS.get(_name, 1))(
        functools.partial(in_a_job, _name)
    )


@pytest.mark.parametrize("name", with_jobs(names(output="measured"), measured_job))
def test_measured_output(name, ahead, output_file):
    """Measured, so not byte-exact: the shape and the relations between the figures are checked;
    the page shows the run recorded in snippets/output/<name>.txt."""
    assert name in MEASURED, (
        f"snippets/{name}.py: tests/support/catalog.py says its output is measured, "
        "but tests/test_snippets.py has no MEASURED check for it"
    )
    shape, check = MEASURED[name]
    row = CATALOG[name]
    ran = ahead(measured_job(name))
    result = ran.result
    assert (result.returncode, result.stderr) == (0, "")
    m = shape.fullmatch(result.stdout)
    assert m, result.stdout
    check(m, row.delay)
    if row.kind == "client":
        assert_connections(ran.reached, row.connections, name)
    output_file(name, transcript(command_line(name), result.stdout), shape)
